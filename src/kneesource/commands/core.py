"""Core subcommands: assess, findings, conditions, kb check, model export."""

from __future__ import annotations

import argparse
import collections
import contextlib
import gc
import json
import multiprocessing
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from kneesource.assessment import Assessment
from kneesource.case import Case, CaseStream, read_cases
from kneesource.commands.base import EXIT_OK, Parser, write_atomically
from kneesource.engine import Engine, default_engine
from kneesource.errors import InputError
from kneesource.kb.loader import load_knowledge_base
from kneesource.model.bif import iter_bif
from kneesource.model.compiled import Person
from kneesource.render import print_assessment
from kneesource.triage import load_rules


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("assess", help="assess a case file (.json) or many cases (.jsonl, .parquet)")
    p.add_argument("case", type=Path, help="CASE.json, CASES.jsonl or CASES.parquet")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="write the results to RESULTS.jsonl or RESULTS.parquet (all or nothing)",
    )
    p.add_argument("--json", action="store_true", help="print JSON (one line per case for .jsonl)")
    p.set_defaults(handler=assess)

    p = sub.add_parser("findings", help="list the findings (answers and exam tests) with wording")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=list_findings)
    p = sub.add_parser("conditions", help="list the conditions with codes")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=list_conditions)

    kb = sub.add_parser("kb", help="knowledge base tools")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True, parser_class=Parser)
    p = kb_sub.add_parser("check", help="validate the knowledge files and report every problem")
    p.add_argument("--dir", type=Path, default=None, help="a knowledge directory to check")
    p.set_defaults(handler=kb_check)

    model = sub.add_parser("model", help="model tools")
    model_sub = model.add_subparsers(dest="model_command", required=True, parser_class=Parser)
    p = model_sub.add_parser("export", help="write the network for one person in BIF format")
    p.add_argument("file", type=Path)
    p.add_argument("--format", choices=["bif"], required=True)
    p.add_argument("--age", type=int, default=45, help="age in years (default 45)")
    p.add_argument("--sex", choices=["female", "male"], default=None)
    p.add_argument("--activity", action="append", default=[], help="a context finding id")
    p.set_defaults(handler=model_export)


def kb_check(args: argparse.Namespace, out: Console) -> int:
    kb = load_knowledge_base(args.dir)
    engine = Engine(kb, load_rules(kb, args.dir))  # compiles and checks the model as well
    out.print(
        f"knowledge base {kb.version}: {len(kb.conditions)} conditions, "
        f"{len(kb.findings)} findings, {len(kb.links)} links, "
        f"{len(kb.references)} references, {len(engine.rules.rules)} red-flag rules, "
        f"{len(engine.rules.thresholds)} probability thresholds: no problems"
    )
    return EXIT_OK


# Cases scored together: enough to keep the compiled kernel's batch busy on every core, few enough
# that memory stays small whatever the size of the file (about 50 MB for fully answered cases).
CHUNK = 2048
# ... or fewer cases when they are fully answered: a chunk holds at most this many posterior
# queries (a case and one per finding left out), so work spreads over the worker processes.
CHUNK_QUERIES = 16384
INPUTS = (".json", ".jsonl", ".parquet")
OUTPUTS = (".jsonl", ".parquet")


def assess(args: argparse.Namespace, out: Console) -> int:
    if args.case.suffix not in INPUTS:
        raise InputError(f"{args.case.name}: cases are read from {', '.join(INPUTS)} files")
    output: Path | None = args.output
    if output is not None and output.suffix not in OUTPUTS:
        raise InputError(f"--output {output}: results are written to {' or '.join(OUTPUTS)}")
    engine = default_engine()
    if args.case.suffix == ".json":
        cases = list(read_cases(args.case, engine.model))
        sink = _Sink(args, out, engine)
        sink.write(_assess(engine, sink.form, cases))
        sink.commit()
        return EXIT_OK
    # Many cases: read, score and write a chunk at a time, so memory stays bounded and output
    # starts at once. A file given with --output appears only when every case is done.
    sink = _Sink(args, out, engine)
    done = 0
    try:
        with _progress() as progress, _Scorer(engine, sink.form) as scorer:
            task = progress.add_task("assessing", total=None)
            for results, n, position, total in scorer.map(_chunks(args.case, engine)):
                sink.write(results)
                done += n
                progress.update(task, completed=position, total=total)
    except InputError as exc:
        sink.discard()
        if done and output is None:
            raise InputError(
                f"{exc} (the {done} case(s) before it were assessed and written)"
            ) from None
        if output is not None:
            raise InputError(f"{exc}; nothing was written to {output}") from None
        raise
    except BaseException:
        sink.discard()
        raise
    sink.commit()
    if output is not None:
        Console(stderr=True).print(f"wrote {done} result(s) to {output}")
    return EXIT_OK


def _chunks(path: Path, engine: Engine) -> Iterator[tuple[list[Case], int, int]]:
    """Chunks of cases with how far through the file they reach (bytes or rows) and its size."""
    if path.suffix == ".parquet":
        from kneesource.batch import read_parquet_cases, row_count

        total, rows = row_count(path), 0
        for batch in read_parquet_cases(path, engine, batch_size=CHUNK):
            rows += len(batch)
            yield batch, rows, total
        return
    with CaseStream(path, engine.model) as cases:
        total = path.stat().st_size
        chunk: list[Case] = []
        queries = 0
        for case in cases:
            chunk.append(case)
            queries += 1 + len(case.findings)
            if len(chunk) >= CHUNK or queries >= CHUNK_QUERIES:
                yield chunk, cases.position, total
                chunk, queries = [], 0
        if chunk:
            yield chunk, cases.position, total


class _Sink:
    """Where results go: the terminal (rendered or JSON Lines), or the --output file."""

    def __init__(self, args: argparse.Namespace, out: Console, engine: Engine) -> None:
        self.args, self.out, self.engine = args, out, engine
        self.path: Path | None = args.output
        self.parquet: Any = None
        self.lines: Any = None
        self.tmp: Path | None = None
        if self.path is not None and self.path.suffix == ".parquet":
            from kneesource.batch import ParquetResults

            self.parquet = ParquetResults(self.path, engine)
        elif self.path is not None:
            directory = self.path.parent if str(self.path.parent) else Path(".")
            if not directory.is_dir():
                raise InputError(f"cannot write {self.path}: folder {directory} does not exist")
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{self.path.name}.", suffix=".tmp")
            self.tmp = Path(tmp)
            self.lines = os.fdopen(fd, "w", encoding="utf-8")

    @property
    def form(self) -> str:
        """What the workers hand back: JSON lines, a result table, or assessments to render."""
        if self.parquet is not None:
            return "table"
        return "json" if self.lines is not None or self.args.json else "assessments"

    def write(self, results: Sequence[Any]) -> None:
        if self.parquet is not None:
            for table in results:
                self.parquet.write_table(table)
        elif self.lines is not None:
            self.lines.writelines(results)
        elif self.args.json:
            sys.stdout.writelines(results)
            sys.stdout.flush()
        else:
            for r in results:
                print_assessment(self.out, r, self.engine.kb)

    def commit(self) -> None:
        if self.parquet is not None:
            self.parquet.commit()
        elif self.lines is not None and self.path is not None and self.tmp is not None:
            self.lines.close()
            os.replace(self.tmp, self.path)

    def discard(self) -> None:
        if self.parquet is not None:
            self.parquet.discard()
        elif self.lines is not None and self.tmp is not None:
            self.lines.close()
            self.tmp.unlink(missing_ok=True)


def _assess(engine: Engine, form: str, cases: list[Case]) -> list[Any]:
    """Assess and format a chunk; result tables hold no explanations, so none are computed."""
    with _collect_after():
        return _format(engine, form, engine.assess_many(cases, explain=form != "table"))


@contextlib.contextmanager
def _collect_after() -> Iterator[None]:
    """The cyclic garbage collector waits until the chunk is done. Scoring a chunk makes many
    small objects (the assessments, their dictionaries) and no reference cycles, so every
    collection on the way would only walk the chunk's live results again: it doubled the time
    of turning assessments into JSON."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _format(engine: Engine, form: str, results: Sequence[Assessment]) -> list[Any]:
    if form == "json":
        line = orjson.OPT_APPEND_NEWLINE | orjson.OPT_SERIALIZE_NUMPY
        return [orjson.dumps(r.to_dict(), option=line).decode() for r in results]
    if form == "table":
        from kneesource.batch import result_table

        # One Arrow table for the chunk: it crosses from a worker process as a few buffers.
        return [result_table(results, engine)]
    return list(results)


def _score(form: str, chunk: list[Case]) -> list[Any]:
    """In a worker process: assess a chunk and format its results."""
    return _assess(default_engine(), form, chunk)


def _worker_start() -> None:
    # Each worker process has a core of its own: compiled work runs serially there (and numba
    # would terminate a worker forked from a process that had used OpenMP if it launched any).
    from kneesource.inference import threads

    threads.single_threaded()
    # What the worker inherits (the engine) lives as long as it does: the garbage collector
    # need not walk it again.
    gc.freeze()


class _Scorer:
    """Scores chunks in order: in worker processes (one per core, forked with the engine already
    loaded) when the machine has several cores and results are JSON or table rows; in this
    process otherwise. At most two chunks per worker are in flight, so memory stays bounded."""

    def __init__(self, engine: Engine, form: str) -> None:
        self.engine, self.form = engine, form
        cores = os.cpu_count() or 1
        methods = multiprocessing.get_all_start_methods()
        self.pool: ProcessPoolExecutor | None = None
        if cores > 1 and form != "assessments" and "fork" in methods:
            self.pool = ProcessPoolExecutor(
                max_workers=cores,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_worker_start,
            )
            self.depth = 2 * cores

    def map(
        self, chunks: Iterator[tuple[list[Case], int, int]]
    ) -> Iterator[tuple[list[Any], int, int, int]]:
        if self.pool is None:
            for chunk, position, total in chunks:
                results = _assess(self.engine, self.form, chunk)
                yield results, len(chunk), position, total
            return
        waiting: collections.deque[tuple[Future[list[Any]], int, int, int]] = collections.deque()
        try:
            for chunk, position, total in chunks:
                future = self.pool.submit(_score, self.form, chunk)
                waiting.append((future, len(chunk), position, total))
                if len(waiting) >= self.depth:
                    future, n, at, size = waiting.popleft()
                    yield future.result(), n, at, size
        except InputError:
            # Reading stopped at a bad line: the chunks before it are still written.
            while waiting:
                future, n, at, size = waiting.popleft()
                yield future.result(), n, at, size
            raise
        while waiting:
            future, n, at, size = waiting.popleft()
            yield future.result(), n, at, size

    def __enter__(self) -> _Scorer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _progress() -> Progress:
    """A progress bar on the terminal's error stream (none when it is not a terminal)."""
    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} of {task.total:,}"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def model_export(args: argparse.Namespace, out: Console) -> int:
    engine = default_engine()
    person = Person(age=args.age, sex=args.sex, activities=frozenset(args.activity))
    engine.model.priors(person)  # validates the activities before anything is written
    write_atomically(args.file, "".join(iter_bif(engine.model, person)))
    out.print(f"wrote {args.file} ({len(engine.model.condition_ids)} conditions)")
    return EXIT_OK


def list_findings(args: argparse.Namespace, out: Console) -> int:
    engine = default_engine()
    if args.json:
        rows = [
            f.model_dump(exclude={"leak_source"}, exclude_none=True) for f in engine.kb.findings
        ]
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        return EXIT_OK
    table = Table(title=f"{len(engine.kb.findings)} findings")
    # The id is what a case file needs, so it is never cut: the wording columns wrap instead.
    table.add_column(
        "id", no_wrap=True, overflow="fold", min_width=max(len(f.id) for f in engine.kb.findings)
    )
    for col in ("kind", "patient wording", "clinician wording"):
        table.add_column(col, overflow="fold")
    for f in engine.kb.findings:
        table.add_row(f.id, f.kind, f.patient, f.clinician)
    out.print(table)
    return EXIT_OK


def list_conditions(args: argparse.Namespace, out: Console) -> int:
    engine = default_engine()
    if args.json:
        rows = [
            {
                "id": c.id,
                "name": c.name,
                "clinical_name": c.clinical_name,
                "source": c.source_group,
                "serious": c.serious,
                "icd10cm": c.codes.icd10cm,
                "snomed": c.codes.snomed,
                "summary": c.summary,
                "advice": c.advice,
            }
            for c in engine.kb.conditions
        ]
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        return EXIT_OK
    table = Table(title=f"{len(engine.kb.conditions)} conditions")
    table.add_column(
        "id", no_wrap=True, overflow="fold", min_width=max(len(c.id) for c in engine.kb.conditions)
    )
    for col in ("name", "source", "ICD-10-CM"):
        table.add_column(col, overflow="fold")
    for c in engine.kb.conditions:
        table.add_row(c.id, c.name, c.source_group, ", ".join(c.codes.icd10cm))
    out.print(table)
    return EXIT_OK
