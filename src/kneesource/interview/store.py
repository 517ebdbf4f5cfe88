"""Interview sessions kept in SQLite, so an interrupted interview resumes with nothing lost.

One row per session holds the whole state as JSON. Every save is one transaction on a fresh
connection: a process killed mid-write leaves the previous row intact, never half of a new one.
The location is a path or a ``sqlite:///path`` URL; by default a file in the user's data folder
(``platformdirs.user_data_dir("kneesource")``), or ``$KNEESOURCE_DB`` when set.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import platformdirs

from kneesource.errors import InputError
from kneesource.interview.state import State

ENV_VAR = "KNEESOURCE_DB"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Session:
    id: str
    state: State
    finished: bool
    updated: str


def default_location() -> Path:
    return Path(platformdirs.user_data_dir("kneesource")) / "sessions.sqlite3"


def resolve_location(given: str | None) -> Path:
    """The database file from ``--db``, else ``$KNEESOURCE_DB``, else the default."""
    text = given or os.environ.get(ENV_VAR) or ""
    if not text:
        return default_location()
    if text.startswith("sqlite:///"):
        return Path(text[len("sqlite:///") :])
    if "://" in text:
        raise InputError(f"unsupported database URL {text!r}; use a file path or sqlite:///path")
    return Path(text)


class SessionStore:
    """Sessions in one SQLite file. The file holds health answers, so it is created readable by
    its owner only (mode 600); the default data folder is created (mode 700) on first use, but a
    folder named with ``--db`` or ``$KNEESOURCE_DB`` must already exist."""

    def __init__(self, path: Path, create_folder: bool = False) -> None:
        self.path = path
        try:
            if create_folder:
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            elif not path.parent.is_dir():
                raise InputError(
                    f"cannot open the session database {path}: the folder {path.parent} does "
                    "not exist (create it first, or leave out --db to use the default)"
                )
            if not path.exists():
                path.touch(mode=0o600)
            os.chmod(path, 0o600)
            with closing(self._connect()) as conn, conn:
                conn.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise InputError(f"cannot open the session database {path}: {exc}") from None

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def create(self, state: State) -> str:
        session_id = uuid.uuid4().hex[:12]
        now = _now()
        with closing(self._connect()) as conn, conn:
            conn.execute(
                "INSERT INTO sessions (id, created, updated, finished, state) VALUES (?,?,?,0,?)",
                (session_id, now, now, json.dumps(state.to_dict())),
            )
        return session_id

    def save(self, session_id: str, state: State, finished: bool = False) -> None:
        with closing(self._connect()) as conn, conn:
            cur = conn.execute(
                "UPDATE sessions SET state = ?, updated = ?, finished = ? WHERE id = ?",
                (json.dumps(state.to_dict()), _now(), int(finished), session_id),
            )
            if cur.rowcount != 1:
                raise InputError(f"no saved interview with id {session_id!r} in {self.path}")

    def load(self, session_id: str) -> Session:
        with closing(self._connect()) as conn:
            row = conn.execute(
                "SELECT id, state, finished, updated FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
        if row is None:
            ids = [s.id for s in self.unfinished()]
            known = f"; unfinished interviews: {', '.join(ids)}" if ids else ""
            raise InputError(f"no saved interview with id {session_id!r} in {self.path}{known}")
        return _session(row)

    def unfinished(self) -> list[Session]:
        """Unfinished sessions, most recently updated first."""
        with closing(self._connect()) as conn:
            rows = conn.execute(
                "SELECT id, state, finished, updated FROM sessions WHERE finished = 0 "
                "ORDER BY updated DESC, id"
            ).fetchall()
        return [_session(r) for r in rows]

    def all(self) -> list[Session]:
        """Every saved session, most recently updated first."""
        with closing(self._connect()) as conn:
            rows = conn.execute(
                "SELECT id, state, finished, updated FROM sessions ORDER BY updated DESC, id"
            ).fetchall()
        return [_session(r) for r in rows]

    def delete(self, session_id: str) -> None:
        with closing(self._connect()) as conn, conn:
            cur = conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        if cur.rowcount != 1:
            known = ", ".join(s.id for s in self.all()) or "none"
            raise InputError(
                f"no saved interview with id {session_id!r} in {self.path}; saved: {known}"
            )

    def delete_all(self) -> int:
        with closing(self._connect()) as conn, conn:
            cur = conn.execute("DELETE FROM sessions")
        return int(cur.rowcount)


def _session(row: tuple[str, str, int, str]) -> Session:
    return Session(row[0], State.from_dict(json.loads(row[1])), bool(row[2]), row[3])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
