"""Core subcommands: assess, findings, conditions, kb check, model export."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from kneesource.case import read_cases
from kneesource.commands.base import EXIT_OK, Parser, write_atomically
from kneesource.engine import Engine, default_engine
from kneesource.kb.loader import load_knowledge_base
from kneesource.model.bif import iter_bif
from kneesource.model.compiled import Person
from kneesource.render import print_assessment
from kneesource.triage import load_rules


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("assess", help="assess a case file (.json) or many cases (.jsonl)")
    p.add_argument("case", type=Path, help="CASE.json or CASES.jsonl")
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


def assess(args: argparse.Namespace, out: Console) -> int:
    engine = default_engine()
    cases = list(read_cases(args.case, engine.model))
    for result in engine.assess_many(cases):
        if args.json:
            sys.stdout.write(json.dumps(result.to_dict()) + "\n")
        else:
            print_assessment(out, result, engine.kb)
    return EXIT_OK


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
