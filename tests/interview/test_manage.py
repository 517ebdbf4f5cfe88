"""Saved interviews can be listed, shown again, and deleted; nothing is asked or saved without
a terminal. Run as a separate process on a store under tmp_path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kneesource.engine import Engine
from kneesource.interview.store import SessionStore
from tests.interview.conftest import QUIET_START, answered

KNEESOURCE = str(Path(sys.executable).parent / "kneesource")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KNEESOURCE, "interview", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={"COLUMNS": "120", "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_list_show_and_delete_saved_interviews(engine: Engine, tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    store = SessionStore(db)
    done = store.create(answered(engine, QUIET_START))
    store.save(done, answered(engine, QUIET_START), finished=True)
    open_ = store.create(answered(engine, QUIET_START[:3]))
    listing = _run("--db", str(db), "--list")
    assert listing.returncode == 0, listing.stderr
    assert done in listing.stdout and open_ in listing.stdout
    shown = _run("--db", str(db), "--show", done)  # a finished interview can be shown again
    assert shown.returncode == 0 and "Most likely causes" in shown.stdout
    assert "IN SHORT" in shown.stdout
    assert _run("--db", str(db), "--delete", done).returncode == 0
    assert [s.id for s in store.all()] == [open_]
    missing = _run("--db", str(db), "--delete", "nope")
    assert missing.returncode == 2 and open_ in missing.stderr
    cleared = _run("--db", str(db), "--delete-all")
    assert cleared.returncode == 0 and "Deleted 1" in cleared.stdout
    assert store.all() == []


def test_without_a_terminal_nothing_is_asked_or_saved(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    done = _run("--db", str(db))
    assert done.returncode == 2
    assert "no terminal" in done.stderr and "--answers" in done.stderr
    assert SessionStore(db).all() == []
