"""Load on the REST API over loopback: `kneesource serve` with 1, 2 and 4 workers, a fixed
number of requests (or seconds) with a fixed number in flight.

Rows: `POST /v1/assess` of an example case (a few answers), sent by wrk (a C load generator,
so the client takes little of the two cores) when it is installed, and by an httpx async client
in this process; and interview answers from httpx clients: each simulated person, on their own
connection as a browser would be, runs a whole interview (start, then answers until the
result), answering from a patient drawn from the model (seeded; what a person can say of
themselves, "not sure" or "don't know" to anything else); the answers that bring the next
question, those that bring the result, and every answer together. Reported: requests per
second, p50 and p99 latency, the slowest request, errors. The database is a new SQLite file,
or --db URL (a PostgreSQL server). Run:
    .venv/bin/python -m bench.web_bench [--assess N] [--interviews N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from tests.web.conftest import start_server

from kneesource.case import Case
from kneesource.engine import default_engine
from kneesource.evaluation.simulator import Observation, observable_findings, simulate
from kneesource.interview.simulate import simulated_answer
from kneesource.interview.state import value_json
from kneesource.interview.triage_link import question_bank

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _cases() -> list[dict[str, object]]:
    return [
        json.loads((EXAMPLES / n).read_text())
        for n in (
            "back_and_knee_68f.json",
            "footballer_twist_24m.json",
            "runner_back_of_knee_35f.json",
        )
    ]


async def _assess(url: str, n: int, concurrency: int) -> tuple[list[float], int]:
    cases = _cases()
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while not queue.empty():
            i = queue.get_nowait()
            t = time.perf_counter()
            r = await client.post(f"{url}/v1/assess", json=cases[i % len(cases)])
            latencies.append(time.perf_counter() - t)
            errors += r.status_code != 200

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return latencies, errors


def _people(n: int, seed: int) -> list[Case]:
    """``n`` patients drawn from the model, as they could describe themselves."""
    engine = default_engine()
    seen = Observation(observable=observable_findings(engine.kb, "patient"))
    return [
        Case(p.person.age, p.person.sex, p.observed)
        for p in simulate(engine.model, n, seed, observation=seen)
    ]


async def _interviews(
    url: str, n: int, concurrency: int, seed: int = 11
) -> tuple[list[float], list[float], int]:
    """Latencies of the answers that brought the next question, of those that brought the
    result (the whole assessment), and the number of errors."""
    latencies: list[float] = []
    finals: list[float] = []
    errors = 0
    sem = asyncio.Semaphore(concurrency)
    people = _people(n, seed)
    bank = question_bank(default_engine())

    async def one(k: int) -> None:
        nonlocal errors
        async with sem, httpx.AsyncClient(timeout=60) as client:
            created = await client.post(f"{url}/v1/interviews", json={})
            if created.status_code != 201:
                errors += 1
                failures.append(f"{created.status_code} {created.text[:200]}")
                return
            state = created.json()
            for _ in range(60):
                if state.get("status") != "asking":
                    break
                q = state["question"]
                value = value_json(simulated_answer(bank.get(q["id"]), people[k]))
                t = time.perf_counter()
                r = await client.post(
                    f"{url}/v1/interviews/{state['id']}/answers",
                    json={"question_id": q["id"], "answer": value},
                )
                took = time.perf_counter() - t
                if r.status_code != 200:
                    errors += 1
                    failures.append(f"{r.status_code} {r.text[:200]}")
                    return
                state = {**r.json(), "id": state["id"]}
                (finals if state.get("status") == "done" else latencies).append(took)

    await asyncio.gather(*(one(k) for k in range(n)))
    return latencies, finals, errors


failures: list[str] = []  # the first words of every failed response, printed at the end
STARTUP_SECONDS = 6.0

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[%s]]
"""


def _wrk(url: str, seconds: int, connections: int) -> tuple[float, float, float, int] | None:
    """(requests/s, p50 ms, p99 ms, non-2xx) from wrk, or None without wrk."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    body = json.dumps(_cases()[1])
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % body)
    args = [wrk, "-t1", f"-c{connections}", "--latency", "-s", script.name]
    subprocess.run([*args, "-d2s", f"{url}/v1/assess"], capture_output=True, check=True)
    out = subprocess.run(
        [*args, f"-d{seconds}s", f"{url}/v1/assess"], capture_output=True, text=True, check=True
    ).stdout

    def ms(label: str) -> float:
        m = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out)
        assert m is not None, out
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert rate is not None, out
    return float(rate.group(1)), ms("50%"), ms("99%"), int(bad.group(1)) if bad else 0


def _row(
    table: Table, what: str, workers: int, latencies: list[float], errors: int, wall: float
) -> None:
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    table.add_row(
        what,
        str(workers),
        str(len(latencies)),
        f"{len(latencies) / wall:,.0f}",
        f"{1000 * q[49]:.1f}",
        f"{1000 * q[98]:.1f}",
        f"{1000 * max(latencies):.1f}",
        str(errors),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assess", type=int, default=3000, help="assess requests per row")
    parser.add_argument(
        "--interviews", type=int, default=40, help="whole interviews per row (0: none)"
    )
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=10, help="wrk's run per row")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    args = parser.parse_args()
    console = Console(width=150)
    table = Table(
        title=f"REST API over loopback ({platform.machine()}, {platform.python_version()}, "
        f"concurrency {args.concurrency})"
    )
    for col in (
        "request",
        "workers",
        "requests",
        "per second",
        "p50 ms",
        "p99 ms",
        "max ms",
        "errors",
    ):
        table.add_column(col, justify="left" if col == "request" else "right")
    for workers in (int(w) for w in args.workers.split(",")):
        db = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
        server = start_server(db, workers=workers)
        try:
            # The server answers as soon as one worker is up; the others are still loading the
            # engine and its kernels (a second or two each on two busy cores), and connections
            # opened meanwhile all go to the first and stay there, measuring one worker.
            time.sleep(STARTUP_SECONDS)
            asyncio.run(_assess(server.url, 100, args.concurrency))  # warm every worker
            measured = _wrk(server.url, args.seconds, args.concurrency)
            if measured is not None:
                rate, p50, p99, bad = measured
                table.add_row(
                    "POST /v1/assess (wrk)",
                    str(workers),
                    f"{round(rate * args.seconds):,}",
                    f"{rate:,.0f}",
                    f"{p50:.1f}",
                    f"{p99:.1f}",
                    "",
                    str(bad),
                )
            t = time.perf_counter()
            lat, err = asyncio.run(_assess(server.url, args.assess, args.concurrency))
            _row(table, "POST /v1/assess (httpx)", workers, lat, err, time.perf_counter() - t)
            # Each pass plays other patients (seeds 11, 12), so that no answer is served from
            # what the server kept of an earlier pass.
            passes = sorted({1, args.concurrency}) if args.interviews > 0 else []
            for seed, people in enumerate(passes, start=11):
                t = time.perf_counter()
                lat, finals, err = asyncio.run(
                    _interviews(server.url, args.interviews, people, seed)
                )
                wall = time.perf_counter() - t
                what = f"interview answer, {people} in flight"
                _row(table, f"{what} -> next question", workers, lat, err, wall)
                _row(table, f"{what} -> result", workers, finals, 0, wall)
                _row(table, f"{what}, every answer", workers, lat + finals, err, wall)
        finally:
            server.stop()
        console.print(f"done: {workers} worker(s)")
    console.print(table)
    for failure in failures[:5]:
        console.print(f"failed: {failure}")


if __name__ == "__main__":
    main()
