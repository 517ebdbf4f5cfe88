"""The SQLite session store: round trip, transactions, locations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kneesource.engine import Engine
from kneesource.errors import InputError
from kneesource.interview.store import SessionStore, default_location, resolve_location
from tests.interview.conftest import QUIET_START, answered


def test_round_trip_and_latest_first(engine: Engine, tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "nested" / "s.sqlite3", create_folder=True)
    a = store.create(answered(engine, QUIET_START[:2]))
    b = store.create(answered(engine, QUIET_START[:3]))
    state = answered(engine, QUIET_START)
    store.save(a, state)
    assert store.load(a).state == state
    assert [s.id for s in store.unfinished()] == [a, b]
    store.save(a, state, finished=True)
    assert [s.id for s in store.unfinished()] == [b]
    assert store.load(a).finished


def test_the_store_is_private_and_never_makes_a_folder_it_was_not_asked_to(
    tmp_path: Path,
) -> None:
    # Health answers: the file is the owner's alone (600), a created folder too (700).
    store = SessionStore(tmp_path / "made" / "s.sqlite3", create_folder=True)
    assert store.path.stat().st_mode & 0o777 == 0o600
    assert store.path.parent.stat().st_mode & 0o777 == 0o700
    missing = tmp_path / "no" / "such" / "s.sqlite3"
    with pytest.raises(InputError, match="does not exist"):
        SessionStore(missing)
    assert not missing.parent.exists()


def test_unknown_session_names_the_unfinished(engine: Engine, tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.sqlite3")
    sid = store.create(answered(engine, QUIET_START[:1]))
    with pytest.raises(InputError, match=sid):
        store.load("nope")
    with pytest.raises(InputError, match="no saved interview"):
        store.save("nope", answered(engine, QUIET_START[:1]))


def test_a_failed_write_leaves_the_previous_state(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = SessionStore(path)
    sid = store.create(answered(engine, QUIET_START[:2]))
    # Hold a write lock from another connection: the save must fail whole, not half-apply.
    other = sqlite3.connect(path, timeout=0)
    other.execute("BEGIN EXCLUSIVE")
    blocked = SessionStore.__new__(SessionStore)
    blocked.path = path
    blocked._connect = lambda: sqlite3.connect(path, timeout=0.05)  # type: ignore[method-assign]
    with pytest.raises(sqlite3.OperationalError):
        blocked.save(sid, answered(engine, QUIET_START))
    other.rollback()
    other.close()
    assert store.load(sid).state == answered(engine, QUIET_START[:2])


def test_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KNEESOURCE_DB", raising=False)
    assert resolve_location(None) == default_location()
    assert default_location().parent.name == "kneesource"
    assert resolve_location(f"sqlite:///{tmp_path}/a.db") == tmp_path / "a.db"
    monkeypatch.setenv("KNEESOURCE_DB", str(tmp_path / "env.db"))
    assert resolve_location(None) == tmp_path / "env.db"
    assert resolve_location(str(tmp_path / "given.db")) == tmp_path / "given.db"
    with pytest.raises(InputError, match="unsupported database URL"):
        resolve_location("postgresql://host/db")
