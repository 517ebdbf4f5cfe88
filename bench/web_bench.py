"""Load on the REST API over loopback: `kneesource serve` with 1, 2 and 4 workers, a fixed
number of requests (or seconds) with a fixed number in flight.

Rows: `POST /v1/assess` of an example case (a few answers), sent by wrk (a C load generator,
so the client takes little of the two cores) when it is installed, and by an httpx async client
in this process; and interview answers from the httpx client (each client runs whole
interviews: start, then answers until the result). Reported: requests per second, p50 and p99
latency, errors. The database is a new SQLite file, or --db URL (a PostgreSQL server). Run:
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


async def _interviews(url: str, n: int, concurrency: int) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    sem = asyncio.Semaphore(concurrency)

    async def one(client: httpx.AsyncClient, k: int) -> None:
        nonlocal errors
        async with sem:
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
                value: object = {"age": 20 + k % 60, "sex": "female"}.get(q["type"], "dont_know")
                t = time.perf_counter()
                r = await client.post(
                    f"{url}/v1/interviews/{state['id']}/answers",
                    json={"question_id": q["id"], "answer": value},
                )
                latencies.append(time.perf_counter() - t)
                if r.status_code != 200:
                    errors += 1
                    failures.append(f"{r.status_code} {r.text[:200]}")
                    return
                state = {**r.json(), "id": state["id"]}

    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.gather(*(one(client, k) for k in range(n)))
    return latencies, errors


failures: list[str] = []  # the first words of every failed response, printed at the end

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
    q = statistics.quantiles(latencies, n=100)
    table.add_row(
        what,
        str(workers),
        str(len(latencies)),
        f"{len(latencies) / wall:,.0f}",
        f"{1000 * q[49]:.1f}",
        f"{1000 * q[98]:.1f}",
        str(errors),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assess", type=int, default=3000, help="assess requests per row")
    parser.add_argument("--interviews", type=int, default=40, help="whole interviews per row")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=10, help="wrk's run per row")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    args = parser.parse_args()
    console = Console()
    table = Table(
        title=f"REST API over loopback ({platform.machine()}, {platform.python_version()}, "
        f"concurrency {args.concurrency})"
    )
    for col in ("request", "workers", "requests", "per second", "p50 ms", "p99 ms", "errors"):
        table.add_column(col, justify="left" if col == "request" else "right")
    for workers in (int(w) for w in args.workers.split(",")):
        db = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
        server = start_server(db, workers=workers)
        try:
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
                    str(bad),
                )
            t = time.perf_counter()
            lat, err = asyncio.run(_assess(server.url, args.assess, args.concurrency))
            _row(table, "POST /v1/assess (httpx)", workers, lat, err, time.perf_counter() - t)
            t = time.perf_counter()
            lat, err = asyncio.run(_interviews(server.url, args.interviews, args.concurrency))
            _row(table, "interview answer", workers, lat, err, time.perf_counter() - t)
        finally:
            server.stop()
        console.print(f"done: {workers} worker(s)")
    console.print(table)
    for failure in failures[:5]:
        console.print(f"failed: {failure}")


if __name__ == "__main__":
    main()
