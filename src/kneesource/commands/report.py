"""``kneesource report``: the clinician report (PDF or HTML) or a FHIR R4 bundle of an
assessment; ``kneesource questionnaire``: the interview's questions as a FHIR Questionnaire."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from rich.console import Console

from kneesource.commands.base import EXIT_OK, write_atomically
from kneesource.engine import default_engine
from kneesource.errors import InputError

FORMATS = ("pdf", "html", "fhir")


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "report",
        help="a report for the clinician (PDF, HTML) or a FHIR bundle of an assessment",
        description="Write the report a person hands to their clinician (--format pdf or html: "
        "one or two A4 pages) or a FHIR R4 Bundle for a record system (--format fhir), from a "
        "case file or a saved interview.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("case", nargs="?", type=Path, help="a case file (.json)")
    source.add_argument("--interview", metavar="ID", help="a saved interview (its id)")
    p.add_argument("--format", choices=FORMATS, required=True)
    p.add_argument("-o", "--output", type=Path, required=True, help="the file to write")
    p.add_argument("--name", help="a name to print on the report (none unless given)")
    p.add_argument("--db", help="with --interview: the database (as `interview --db`)")
    p.set_defaults(handler=report)

    q = sub.add_parser(
        "questionnaire",
        help="the interview's questions as a FHIR Questionnaire",
        description="The interview's questions as a FHIR R4 Questionnaire, which any SDC form "
        "filler can show; `kneesource assess` reads its QuestionnaireResponse as a case.",
    )
    q.add_argument("--format", choices=("fhir",), default="fhir")
    q.add_argument("-o", "--output", type=Path, help="the file to write (default: print)")
    q.set_defaults(handler=questionnaire)


def report(args: argparse.Namespace, out: Console) -> int:
    from kneesource.case import read_cases
    from kneesource.interview import assessment
    from kneesource.interview.state import State
    from kneesource.report.document import report_html, report_pdf
    from kneesource.report.fhir import bundle

    suffix = {"pdf": ".pdf", "html": ".html", "fhir": ".json"}[args.format]
    if args.output.suffix != suffix:
        raise InputError(
            f"--output {args.output}: a {args.format} report is written to a {suffix} file"
        )
    engine = default_engine()
    state: State | None = None
    if args.interview is not None:
        from kneesource.interview.store import ENV_VAR
        from kneesource.web.store import InterviewStore, database_url

        store = InterviewStore(database_url(args.db or os.environ.get(ENV_VAR)))
        try:
            state = store.load(args.interview).state
        finally:
            store.close()
        a = assessment(state, case_id=args.interview)
    else:
        cases = list(read_cases(args.case, engine.model))
        if len(cases) != 1:
            raise InputError(f"{args.case}: a report is of one case; the file holds {len(cases)}")
        a = engine.assess(cases[0])
    if args.format == "fhir":
        write_atomically(args.output, bundle(engine, a, state).model_dump_json(indent=2) + "\n")
    else:
        html = report_html(engine, a, state, name=args.name)
        if args.format == "html":
            write_atomically(args.output, html)
        else:
            write_atomically(args.output, report_pdf(html))
    out.print(f"wrote {args.output}")
    return EXIT_OK


def questionnaire(args: argparse.Namespace, out: Console) -> int:
    from kneesource.report.fhir import questionnaire as build

    text = build(default_engine()).model_dump_json(indent=2) + "\n"
    if args.output is None:
        out.print(text, end="", highlight=False, markup=False, soft_wrap=True)
    else:
        write_atomically(args.output, text)
        out.print(f"wrote {args.output}")
    return EXIT_OK
