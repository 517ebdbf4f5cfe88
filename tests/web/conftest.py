"""Real servers for the web tests: ``kneesource serve`` in its own process on a free port, on a
SQLite file or on a PostgreSQL server started for the session (Debian's ``postgresql``).

PostgreSQL and Chromium are started from what the machine has; the test command installs them
(`scripts/check` on a machine with apt). Set ``KNEESOURCE_REQUIRE_SERVICES=1`` (as `.ci/run`
does) to fail, not skip, when one is missing.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

REQUIRE = os.environ.get("KNEESOURCE_REQUIRE_SERVICES") == "1"
CHROMIUM = Path("/usr/bin/chromium")


def missing(what: str) -> None:
    if REQUIRE:
        pytest.fail(f"{what} is required (KNEESOURCE_REQUIRE_SERVICES=1) but not installed")
    pytest.skip(f"{what} is not installed")


def stored_codes(bundle: dict[str, Any], question_id: str) -> list[str]:
    """The answer codes an interview's FHIR bundle holds for one question (its
    ``QuestionnaireResponse``): what was stored, as a record system reads it."""
    response = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    )
    item = next(i for i in response["item"] if i["linkId"] == question_id)
    return [a["valueCoding"]["code"] for a in item["answer"]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    db: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]

    def kill(self) -> None:
        """kill -9: no chance to flush or clean up."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def start_server(db: str, extra_env: dict[str, str] | None = None, workers: int = 1) -> Server:
    port = free_port()
    env = {**os.environ, **(extra_env or {})}
    log = Path(tempfile.mkstemp(prefix="kneesource-serve-", suffix=".log")[1])
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "kneesource", "serve"),
                *("--port", str(port), "--db", db, "--workers", str(workers)),
            ],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return Server(url, db, process, env)
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start within 60 s")


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'interviews.sqlite3'}"


@pytest.fixture(scope="session")
def server(sqlite_url: str) -> Iterator[Server]:
    s = start_server(sqlite_url)
    yield s
    s.stop()


def _pg_bin() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True):
        return candidate.parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free port, removed afterwards."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        missing("PostgreSQL (Debian package postgresql)")
    assert bin_dir is not None
    folder = Path(tempfile.mkdtemp(prefix="kneesource-pg-"))
    data = folder / "data"
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(folder, "postgres", "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(
        [*run_as, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "kneesource"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -h 127.0.0.1 -c fsync=on"
    subprocess.run(
        [
            *run_as,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-w",
            "start",
            "-l",
            str(folder / "log"),
        ],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            [
                str(bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "kneesource",
                "kneesource",
            ],
            check=True,
            capture_output=True,
        )
        yield f"postgresql://kneesource@127.0.0.1:{port}/kneesource"
    finally:
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)
