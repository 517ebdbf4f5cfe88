"""Interviews kept in a database through SQLAlchemy: SQLite by default, PostgreSQL by URL.

The table is the one the terminal interview uses (``sessions``: id, created, updated, finished,
state as JSON), so an interview started in the terminal resumes in the browser and the other way
round. The schema is created and upgraded by Alembic migrations when the store opens. Every write
is one transaction committed before the caller answers anyone: an acknowledged answer survives a
killed server. Interview ids carry 128 random bits, so a link cannot be guessed.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine as DbEngine

from kneesource.errors import InputError
from kneesource.interview.state import State
from kneesource.interview.store import default_location

METADATA = sa.MetaData()
SESSIONS = sa.Table(
    "sessions",
    METADATA,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("updated", sa.Text, nullable=False),
    sa.Column("finished", sa.Integer, nullable=False, server_default="0"),
    sa.Column("state", sa.Text, nullable=False),
)


@dataclass(frozen=True)
class StoredInterview:
    id: str
    state: State
    finished: bool
    updated: str


class UnknownInterviewError(InputError):
    """No interview with that id."""


def database_url(given: str | None) -> str:
    """A SQLAlchemy URL from ``--db``: a URL as given, a bare path as a SQLite file, nothing as
    the terminal interview's default file."""
    if not given:
        path = default_location()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    if "://" in given:
        if given.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            return given.replace("postgresql://", "postgresql+psycopg://", 1)
        raise InputError(
            f"unsupported database URL {given!r}; use sqlite:///PATH or postgresql://USER@HOST/DB"
        )
    return f"sqlite:///{Path(given)}"


def migrate(url: str) -> None:
    """Bring the database's schema to the latest migration (Alembic)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("kneesource.web") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


class InterviewStore:
    def __init__(self, url: str) -> None:
        self.url = url
        try:
            path = sa.engine.make_url(url).database if url.startswith("sqlite") else None
            if path and path != ":memory:":
                # Health answers: the file is its owner's alone, as the terminal's store makes it.
                file = Path(path)
                if not file.exists():
                    file.touch(mode=0o600)
                os.chmod(file, 0o600)
            self.db: DbEngine = sa.create_engine(url, pool_pre_ping=True)
            if self.db.dialect.name == "sqlite":
                sa.event.listen(self.db, "connect", _sqlite_settings)
            migrate(url)
        except Exception as exc:  # a driver's error types differ; all mean "cannot open"
            raise InputError(f"cannot open the interview database {url}: {exc}") from None

    def create(self, state: State) -> str:
        interview_id = secrets.token_urlsafe(16)  # 128 bits
        now = _now()
        with self.db.begin() as conn:
            conn.execute(
                SESSIONS.insert().values(
                    id=interview_id, created=now, updated=now, finished=0, state=_dump(state)
                )
            )
        return interview_id

    def save(self, interview_id: str, state: State, finished: bool = False) -> None:
        with self.db.begin() as conn:
            done = conn.execute(
                SESSIONS.update()
                .where(SESSIONS.c.id == interview_id)
                .values(state=_dump(state), updated=_now(), finished=int(finished))
            )
            if done.rowcount != 1:
                raise UnknownInterviewError(f"no interview with id {interview_id!r}")

    def load(self, interview_id: str) -> StoredInterview:
        with self.db.connect() as conn:
            row = conn.execute(
                sa.select(
                    SESSIONS.c.id, SESSIONS.c.state, SESSIONS.c.finished, SESSIONS.c.updated
                ).where(SESSIONS.c.id == interview_id)
            ).first()
        if row is None:
            raise UnknownInterviewError(f"no interview with id {interview_id!r}")
        return StoredInterview(row[0], State.from_dict(json.loads(row[1])), bool(row[2]), row[3])

    def close(self) -> None:
        self.db.dispose()


def _sqlite_settings(connection: object, record: object) -> None:
    """Write-ahead logging: readers never wait for a writer, and a commit is one append. With
    synchronous=NORMAL a commit survives the process being killed (the log is in the operating
    system's hands); only a power cut can lose the last ones. Writers wait up to 10 s for each
    other instead of failing."""
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _dump(state: State) -> str:
    return json.dumps(state.to_dict())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
