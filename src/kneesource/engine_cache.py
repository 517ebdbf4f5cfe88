"""A ready engine kept on disk between runs, so that a command does not re-read and re-validate
the knowledge base every time it starts (about 0.15 s of a 0.5 s ``assess``).

The file is keyed by everything the engine is built from: the bytes of every file in the
knowledge directory, the package's own source files, and the versions of Python, numpy and
pydantic. Any change gives a new key, so a stale engine is never used; a file that cannot be read
back is ignored and rebuilt. It lives in ``$KNEESOURCE_CACHE_DIR`` (an empty value turns it off),
else ``$XDG_CACHE_HOME/kneesource``, else ``~/.cache/kneesource``, in a directory only its owner
may write, and is read only when that owner is the current user.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pydantic

PACKAGE = Path(__file__).resolve().parent
FORMAT = b"kneesource engine cache 1"
KEEP = 4  # engines kept (the newest), for people who switch between knowledge bases


def directory() -> Path | None:
    """Where engines are kept, or None when the cache is turned off."""
    chosen = os.environ.get("KNEESOURCE_CACHE_DIR")
    if chosen is not None:
        return Path(chosen) if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kneesource"


def key(knowledge_dir: Path) -> str | None:
    """The digest of everything an engine built from ``knowledge_dir`` depends on, or None when
    the files cannot be read (loading the knowledge base then says what is wrong)."""
    digest = hashlib.sha256(FORMAT)
    versions = (sys.version_info[:3], np.__version__, pydantic.VERSION)
    digest.update(repr(versions).encode())
    try:
        for label, root, paths in (
            (b"code", PACKAGE, sorted(PACKAGE.rglob("*.py"))),
            (
                b"knowledge",
                knowledge_dir,
                sorted(p for p in knowledge_dir.iterdir() if p.is_file()),
            ),
        ):
            for path in paths:
                digest.update(label + b"\0" + str(path.relative_to(root)).encode() + b"\0")
                digest.update(path.read_bytes())
    except OSError:
        return None
    return digest.hexdigest()


def load(digest: str | None) -> Any | None:
    """The engine stored under ``digest``, or None (none stored, not ours, or unreadable)."""
    where = directory()
    if where is None or digest is None:
        return None
    path = where / f"engine-{digest[:40]}.pickle"
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None
            return pickle.load(handle)
    except Exception:
        return None


def store(digest: str | None, engine: Any) -> None:
    """Keep ``engine`` under ``digest``, written whole or not at all; older engines beyond the
    newest ``KEEP`` are removed. A cache that cannot be written is skipped silently."""
    where = directory()
    if where is None or digest is None:
        return
    try:
        where.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=where, prefix=".engine-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                pickle.dump(engine, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, where / f"engine-{digest[:40]}.pickle")
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        kept = sorted(where.glob("engine-*.pickle"), key=lambda p: p.stat().st_mtime_ns)
        for old in kept[:-KEEP]:
            old.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError):
        return
