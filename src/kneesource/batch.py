"""Scoring data sets: Parquet in and out, and tables for Dask.

A case table has one row per person: ``age`` (required, whole years), ``sex`` (``female``,
``male`` or null), ``id`` (optional) and the findings, either

* *wide*: one column per finding id, true, false or null (unknown), as population data sets and
  simulations are usually kept; or
* *long*: one ``findings`` column holding a map of finding id to true/false, or the JSON object a
  case file would hold.

Every row is validated as a case file is (the error names the row and the closest valid id).
``score_frame`` turns a pandas table of cases into a table of results, one row per case, with
fixed columns (``result_columns``): the triage level, the leading condition, the pain sources,
the nerve roots and every condition's probability. That is the function to hand to Dask's
``map_partitions`` (see ``docs/batch.md``). Needs the ``batch`` extra (pyarrow, pandas, dask).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kneesource.assessment import Assessment
from kneesource.case import Case, decode_json, parse_case
from kneesource.engine import Engine, default_engine
from kneesource.errors import CaseFormatError, InputError
from kneesource.kb.schema import SOURCE_GROUPS

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

CASE_FIELDS = ("age", "sex", "id", "note")


def _need(module: str) -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        raise InputError(
            f"{module} is needed for Parquet files and data frames; install kneesource with "
            "its batch extra: pip install 'kneesource[batch]'"
        ) from None


def _plain(value: Any) -> Any:
    """A table cell as JSON would give it: numpy and pandas scalars become Python ones, and a
    missing value (None, NaN, pandas' NA) becomes None (unknown)."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if type(value).__name__ == "NAType":
        return None
    return value


def case_from_row(row: dict[str, Any], engine: Engine, where: str) -> Case:
    """One table row (a dict of column to value) as a case; see the module docstring."""
    data: dict[str, Any] = {
        k: _plain(row[k]) for k in CASE_FIELDS if _plain(row.get(k)) is not None
    }
    if "findings" in row:
        findings = row["findings"]
        if isinstance(findings, str):
            findings = decode_json(findings, where)
        elif isinstance(findings, list):  # pyarrow gives a map as (key, value) pairs
            findings = dict(findings)
        data["findings"] = (
            {k: _plain(v) for k, v in findings.items()} if isinstance(findings, dict) else findings
        )
        if data["findings"] is None:
            data["findings"] = {}
    else:
        data["findings"] = {k: _plain(v) for k, v in row.items() if k not in CASE_FIELDS}
    return parse_case(data, engine.model, where)


def _check_columns(names: Sequence[str], engine: Engine, where: str) -> None:
    if "age" not in names:
        raise CaseFormatError(f"{where}: no 'age' column; a case table needs one")
    if "findings" in names:
        extra = sorted(set(names) - {*CASE_FIELDS, "findings"})
        if extra:
            raise CaseFormatError(
                f"{where}: with a 'findings' column, other columns must be among "
                f"{[*CASE_FIELDS, 'findings']}; also found {extra}"
            )
        return
    model = engine.model
    valid = set(model.finding_ids) | set(model.context_ids)
    for name in names:
        if name not in CASE_FIELDS and name not in valid:
            # Raise the same error as for a case file, with the closest ids.
            parse_case({"age": 0, "findings": {name: None}}, model, f"{where}, column {name!r}")


def read_parquet_cases(
    path: Path, engine: Engine | None = None, batch_size: int = 2048
) -> Iterator[list[Case]]:
    """Cases from a Parquet file, a batch of rows at a time (memory does not grow with the
    file). A bad row stops the file with an error naming the row."""
    pq = _need("pyarrow.parquet")
    engine = engine or default_engine()
    try:
        file = pq.ParquetFile(path)
    except OSError as exc:
        raise CaseFormatError(f"cannot read {path} as Parquet: {exc}") from None
    _check_columns(file.schema_arrow.names, engine, path.name)
    start = 0
    for batch in file.iter_batches(batch_size=batch_size):
        rows = batch.to_pylist()
        yield [
            case_from_row(row, engine, f"{path.name} row {start + i + 1}")
            for i, row in enumerate(rows)
        ]
        start += len(rows)


def row_count(path: Path) -> int:
    """The number of rows of a Parquet file (from its footer)."""
    pq = _need("pyarrow.parquet")
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except OSError as exc:
        raise CaseFormatError(f"cannot read {path} as Parquet: {exc}") from None


def result_columns(engine: Engine | None = None) -> list[str]:
    """The columns of a result table, in order."""
    model = (engine or default_engine()).model
    return [
        "id",
        "age",
        "sex",
        "triage_level",
        "top_condition",
        "top_probability",
        "leading_source",
        *(f"source_{g}" for g in SOURCE_GROUPS),
        *(f"root_{r}" for r in model.root_ids),
        *(f"p_{c}" for c in model.condition_ids),
        "explained",
        "knowledge_base_version",
    ]


def result_row(a: Assessment, engine: Engine) -> dict[str, Any]:
    """One assessment as a row of the result table."""
    model = engine.model
    # From the posterior directly (the ranked objects are not needed): the top condition is
    # the first of the most probable, as in the ranking.
    probabilities = a.posterior.conditions.tolist()
    top = int(np.argmax(a.posterior.conditions))
    return {
        "id": a.case.case_id,
        "age": a.case.age,
        "sex": a.case.sex,
        "triage_level": a.triage.level if a.triage is not None else None,
        "top_condition": model.condition_ids[top],
        "top_probability": probabilities[top],
        "leading_source": a.leading_source,
        **{f"source_{g}": a.pain_source[g] for g in SOURCE_GROUPS},
        **{f"root_{r}": a.nerve_roots[r] for r in model.root_ids},
        **{f"p_{c}": p for c, p in zip(model.condition_ids, probabilities, strict=True)},
        "explained": a.explained,
        "knowledge_base_version": a.knowledge_base_version,
    }


def result_table(assessments: Sequence[Assessment], engine: Engine) -> pa.Table:
    """Assessments as a table of results (an Arrow table with the columns of ``result_columns``,
    the rows ``result_row`` gives), built a column at a time: from a list of row dictionaries
    Arrow took 0.1 ms a case, as long as scoring it."""
    pa = _need("pyarrow")
    model = engine.model
    n = len(assessments)
    if n:
        conditions = np.stack([a.posterior.conditions for a in assessments])
    else:
        conditions = np.empty((0, len(model.condition_ids)))
    # The first of the most probable, as in the ranking (and in ``result_row``).
    top = np.argmax(conditions, axis=1)
    columns: dict[str, Any] = {
        "id": [a.case.case_id for a in assessments],
        "age": [a.case.age for a in assessments],
        "sex": [a.case.sex for a in assessments],
        "triage_level": [a.triage.level if a.triage is not None else None for a in assessments],
        "top_condition": [model.condition_ids[i] for i in top.tolist()],
        "top_probability": conditions[np.arange(n), top],
        "leading_source": [a.leading_source for a in assessments],
    }
    for g in SOURCE_GROUPS:
        columns[f"source_{g}"] = [a.pain_source[g] for a in assessments]
    for r in model.root_ids:
        columns[f"root_{r}"] = [a.nerve_roots[r] for a in assessments]
    for j, c in enumerate(model.condition_ids):
        columns[f"p_{c}"] = conditions[:, j]
    columns["explained"] = [a.explained for a in assessments]
    columns["knowledge_base_version"] = [a.knowledge_base_version for a in assessments]
    schema = _schema(engine)
    return pa.Table.from_arrays(
        [pa.array(columns[f.name], type=f.type) for f in schema], schema=schema
    )


def _schema(engine: Engine) -> pa.Schema:
    pa = _need("pyarrow")
    types = {
        "object": pa.string(),
        "int64": pa.int64(),
        "bool": pa.bool_(),
        "float64": pa.float64(),
    }
    return pa.schema([(c, types[t]) for c, t in result_dtypes(engine).items()])


class ParquetResults:
    """Writes result rows to a Parquet file a batch at a time; the file appears (by rename)
    only when ``commit`` is called, so an error leaves no half-written file."""

    def __init__(self, path: Path, engine: Engine) -> None:
        pq = _need("pyarrow.parquet")
        directory = path.parent if str(path.parent) else Path(".")
        if not directory.is_dir():
            raise InputError(f"cannot write {path}: folder {directory} does not exist")
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        self._path, self._tmp, self._engine = path, Path(tmp), engine
        self._writer = pq.ParquetWriter(tmp, _schema(engine))

    def write(self, assessments: Sequence[Assessment]) -> None:
        self.write_table(result_table(assessments, self._engine))

    def write_table(self, table: pa.Table) -> None:
        """A table as ``result_table`` gives it."""
        self._writer.write_table(table)

    def commit(self) -> None:
        self._writer.close()
        os.replace(self._tmp, self._path)

    def discard(self) -> None:
        self._writer.close()
        self._tmp.unlink(missing_ok=True)


def score_frame(frame: pd.DataFrame, engine: Engine | None = None) -> pd.DataFrame:
    """A pandas table of cases (wide or long, see the module docstring) scored into a table of
    results with the columns of ``result_columns``, one row per case, in order."""
    _need("pandas")  # to_pandas below: a clear message when pandas is missing
    engine = engine or default_engine()
    _check_columns(list(frame.columns), engine, "table")
    records = frame.to_dict("records")
    cases = [case_from_row(r, engine, f"table row {i + 1}") for i, r in enumerate(records)]
    # The result table holds no explanations, so none are computed.
    table = result_table(engine.assess_many(cases, explain=False), engine)
    out = table.to_pandas()
    return out.astype(result_dtypes(engine))


def result_dtypes(engine: Engine | None = None) -> dict[str, str]:
    """pandas dtypes of the result columns (for Dask's ``meta``)."""
    text = {
        "id",
        "sex",
        "triage_level",
        "top_condition",
        "leading_source",
        "knowledge_base_version",
    }
    special = {"age": "int64", "explained": "bool"}
    return {c: "object" if c in text else special.get(c, "float64") for c in result_columns(engine)}


def empty_results(engine: Engine | None = None) -> pd.DataFrame:
    """An empty result table with the right columns and dtypes: Dask's ``meta``."""
    pd = _need("pandas")
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in result_dtypes(engine).items()})
