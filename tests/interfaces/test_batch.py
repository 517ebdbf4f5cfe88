"""Batches: Parquet in and out, the result table, and the Dask recipe of docs/batch.md.

Expected values: the same cases assessed one by one through ``Engine.assess`` (the JSON Lines
path), compared with what the Parquet and Dask paths give.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kneesource.assessment import assess_cases
from kneesource.batch import (
    empty_results,
    result_columns,
    result_row,
    result_table,
    score_frame,
)
from kneesource.engine import default_engine

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

ENGINE = default_engine()
MODEL = ENGINE.model


def _cases(n: int, seed: int = 7) -> list[dict]:
    rng = np.random.default_rng(seed)
    ids = [f for f in MODEL.finding_ids if f not in MODEL.evidence_skipped]
    out = []
    for i in range(n):
        chosen = rng.choice(len(ids), size=int(rng.integers(0, 9)), replace=False)
        out.append(
            {
                "id": f"p{i}",
                "age": int(rng.integers(1, 95)),
                "sex": [None, "female", "male"][i % 3],
                "findings": {ids[j]: bool(rng.random() < 0.4) for j in chosen},
            }
        )
    return out


def _wide(cases: list[dict]) -> pd.DataFrame:
    columns = sorted({f for c in cases for f in c["findings"]})
    rows = [
        {
            "id": c["id"],
            "age": c["age"],
            "sex": c["sex"],
            **{f: c["findings"].get(f) for f in columns},
        }
        for c in cases
    ]
    frame = pd.DataFrame(rows)
    for f in columns:
        frame[f] = frame[f].astype("boolean")  # true, false or missing (unknown)
    return frame


def _expected(cases: list[dict]) -> pd.DataFrame:
    # One at a time; result tables carry no explanations, so none are computed for them.
    results = [ENGINE.assess_many([ENGINE.case(c)], explain=False)[0] for c in cases]
    return pd.DataFrame([result_row(a, ENGINE) for a in results], columns=result_columns())


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kneesource", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_score_frame_wide_and_long_give_the_case_by_case_results() -> None:
    cases = _cases(60)
    expected = _expected(cases)
    wide = score_frame(_wide(cases))
    pd.testing.assert_frame_equal(wide, expected.astype(wide.dtypes.to_dict()))
    long = pd.DataFrame(
        [
            {**{k: c[k] for k in ("id", "age", "sex")}, "findings": json.dumps(c["findings"])}
            for c in cases
        ]
    )
    pd.testing.assert_frame_equal(score_frame(long), wide)


def test_the_table_built_by_column_holds_the_rows_built_one_by_one() -> None:
    # result_table (columns from stacked arrays) against Arrow's own conversion of result_row's
    # dictionaries: cases without an id, without a sex and without a triage included.
    cases = [ENGINE.case(c) for c in _cases(90, seed=11)]
    cases += [ENGINE.case({"age": 40, "findings": {}}), ENGINE.case({"age": 9, "sex": "male"})]
    triaged = ENGINE.assess_many(cases, explain=False)
    untriaged = assess_cases(ENGINE.kb, MODEL, cases[:5], explain=False)
    for results in (triaged, untriaged, []):
        got = result_table(results, ENGINE)
        rows = [result_row(a, ENGINE) for a in results]
        expected = pa.Table.from_pylist(rows, schema=got.schema)
        assert got.column_names == result_columns()
        assert got.equals(expected)


def test_parquet_in_and_out_through_the_cli(tmp_path: Path) -> None:
    cases = _cases(40, seed=3)
    source = tmp_path / "cases.parquet"
    _wide(cases).to_parquet(source)
    target = tmp_path / "results.parquet"
    done = run("assess", source, "-o", target)
    assert done.returncode == 0, done.stderr
    got = pq.read_table(target).to_pandas()
    expected = _expected(cases)
    assert list(got.columns) == result_columns()
    pd.testing.assert_frame_equal(got, expected.astype(got.dtypes.to_dict()))
    # JSON Lines out of a Parquet source: the same lines as assess --json of the .jsonl cases
    # (findings in column order: ties in the explanations keep the order findings are given).
    jsonl = tmp_path / "cases.jsonl"
    jsonl.write_text(
        "".join(
            json.dumps({**c, "findings": dict(sorted(c["findings"].items()))}) + "\n" for c in cases
        )
    )
    as_lines = run("assess", jsonl, "--json").stdout
    out = tmp_path / "results.jsonl"
    assert run("assess", source, "-o", out).returncode == 0
    assert out.read_text() == as_lines


def test_bad_row_names_it_and_leaves_no_output_file(tmp_path: Path) -> None:
    cases = _cases(10)
    frame = _wide(cases)
    frame.loc[6, "age"] = 130
    source = tmp_path / "bad.parquet"
    frame.to_parquet(source)
    target = tmp_path / "results.parquet"
    done = run("assess", source, "-o", target)
    assert done.returncode == 2
    assert "row 7" in done.stderr and "between 0 and 120" in done.stderr
    assert "nothing was written" in " ".join(done.stderr.split())
    assert not target.exists() and not list(tmp_path.glob(".results*"))
    # An unknown column is named with the closest valid id.
    typo = _wide(cases).rename(columns={"age": "age"}).assign(knee_sweling=True)
    typo.to_parquet(source)
    done = run("assess", source, "-o", target)
    assert done.returncode == 2 and "knee_swelling" in done.stderr


def test_dask_recipe_on_a_local_cluster_matches(tmp_path: Path) -> None:
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    cases = _cases(90, seed=11)
    folder = tmp_path / "people"
    folder.mkdir()
    wide = _wide(cases)
    for i in range(3):  # a data set in three Parquet files
        wide.iloc[i * 30 : (i + 1) * 30].to_parquet(folder / f"part{i}.parquet")
    # The recipe of docs/batch.md.
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False) as cluster,
        distributed.Client(cluster),
    ):
        people = dd.read_parquet(str(folder))
        results = people.map_partitions(score_frame, meta=empty_results()).compute()
    expected = _expected(cases)
    got = results.reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected.astype(got.dtypes.to_dict()))
