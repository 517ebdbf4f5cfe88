"""The load bench runs end to end over real HTTP: assessments and whole interviews played by
simulated patients, whose answers include checklists answered in part, with no failed request.
It is run small here; its figures are in docs/web.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _rows(out: str) -> list[list[str]]:
    """The table's body rows, cell by cell (rich draws cells between vertical bars)."""
    rows = []
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) == 8 and cells[1].isdigit():
            rows.append(cells)
    return rows


def test_small_run_has_every_row_and_no_error() -> None:
    args = ("--assess", "20", "--interviews", "3", "--concurrency", "2", "--workers", "1")
    done = subprocess.run(
        [sys.executable, "-m", "bench.web_bench", *args, "--seconds", "1"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=300,
    )
    rows = _rows(done.stdout)
    names = {r[0] for r in rows}
    assert "POST /v1/assess (httpx)" in names
    for people in (1, 2):
        what = f"interview answer, {people} in flight"
        assert {f"{what} -> next question", f"{what} -> result", f"{what}, every answer"} <= names
    # Three interviews, each ending in one result; every answer is a next question or a result.
    by_name = {r[0]: r for r in rows}
    for people in (1, 2):
        what = f"interview answer, {people} in flight"
        assert by_name[f"{what} -> result"][2] == "3"
        total = int(by_name[f"{what} -> next question"][2]) + 3
        assert int(by_name[f"{what}, every answer"][2]) == total
    assert all(r[7] == "0" for r in rows), done.stdout
    assert "failed:" not in done.stdout
