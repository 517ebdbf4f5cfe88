"""``kneesource interview``: the adaptive interview, interactive or scripted.

Interactive (default): questions in the terminal, saved after every answer, resumable.
``--answers FILE``: answers from a JSON object of question id -> answer (questions it leaves out
are answered "don't know"; answers to questions the interview did not ask are listed as unused,
not silently dropped). ``--patient CASE.json``: a simulated patient answers truthfully from
a case in the ``assess`` format. Both print the questions asked and the assessment.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from kneesource.case import decode_json, read_cases, read_text
from kneesource.commands.base import EXIT_OK
from kneesource.engine import Engine, default_engine
from kneesource.errors import CaseFormatError, InputError
from kneesource.interview import STOP_REASONS, Question, State, assessment, start, stop_reason
from kneesource.interview.simulate import run_interview, simulated_answer
from kneesource.interview.state import DONT_KNOW, Value, normalise, value_json
from kneesource.interview.store import SessionStore, default_location, resolve_location
from kneesource.interview.terminal import run_terminal
from kneesource.interview.triage_link import question_bank
from kneesource.interview.why import answer_label
from kneesource.render import print_assessment


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "interview", help="answer a few plain questions and get an assessment (start here)"
    )
    p.add_argument(
        "--mode",
        choices=["patient", "clinician"],
        default="patient",
        help="clinician mode adds examination tests (default: patient)",
    )
    p.add_argument(
        "--db",
        default=None,
        help="session database: a file path or sqlite:///path "
        "(default: $KNEESOURCE_DB, else a file in your data folder)",
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--resume",
        nargs="?",
        const="latest",
        default=None,
        metavar="ID",
        help="resume a saved interview (the latest unfinished one by default)",
    )
    source.add_argument("--new", action="store_true", help="start afresh without asking")
    source.add_argument("--list", action="store_true", help="list the saved interviews")
    source.add_argument("--show", metavar="ID", help="show the assessment of a saved interview")
    source.add_argument("--delete", metavar="ID", help="delete one saved interview")
    source.add_argument(
        "--delete-all", action="store_true", help="delete every saved interview in the store"
    )
    source.add_argument(
        "--answers",
        type=Path,
        metavar="FILE",
        help="answer from a JSON object of question id -> answer, no prompts",
    )
    source.add_argument(
        "--patient",
        type=Path,
        metavar="CASE.json",
        help="a simulated patient answers truthfully from a case file",
    )
    p.add_argument("--json", action="store_true", help="with --answers/--patient: print JSON")
    p.set_defaults(handler=interview)
    q = sub.add_parser(
        "questions",
        help="list the interview's questions with their ids, types and option ids",
        description="The questions an answers file (interview --answers) can answer: each "
        "question id, its type and phase, who is asked, and for checklists and single choices "
        "the option ids.",
    )
    q.add_argument("--json", action="store_true", help="print JSON instead of a table")
    q.set_defaults(handler=list_questions)


def list_questions(args: argparse.Namespace, out: Console) -> int:
    bank = question_bank(default_engine())
    if args.json:
        rows = [
            {
                "id": spec.id,
                "type": spec.type,
                "phase": spec.phase,
                "clinician_only": spec.clinician_only,
                "text": spec.text,
                "options": [o.id for o in spec.options],
            }
            for spec in bank.questions
        ]
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        return EXIT_OK
    table = Table(
        title=f"{len(bank.questions)} questions (answers: a number for age, yes/no/dont_know, "
        "an option id or a list of option ids)"
    )
    width = max(len(spec.id) for spec in bank.questions)
    table.add_column("id", no_wrap=True, overflow="fold", min_width=width)
    for col in ("type", "asked", "options"):
        table.add_column(col, overflow="fold")
    for spec in bank.questions:
        asked = "clinician" if spec.clinician_only else "everyone"
        table.add_row(spec.id, spec.type, asked, ", ".join(o.id for o in spec.options))
    out.print(table)
    return EXIT_OK


def interview(args: argparse.Namespace, out: Console) -> int:
    engine = default_engine()
    if args.answers is not None:
        given = _read_answers(args.answers)
        state = start(engine, mode=args.mode)
        bank = question_bank(engine)
        for qid, raw in given.items():
            normalise(bank.get(qid), raw)  # unknown ids and bad values fail before any output
        final, asked = run_interview(state, lambda q: given.get(q.id))
        unused = [qid for qid in given if not final.answered(qid)]
        return _report(out, final, asked, args.json, args.answers.stem, unused)
    if args.patient is not None:
        case = next(read_cases(args.patient, engine.model))
        bank = question_bank(engine)
        state = start(engine, mode=args.mode)
        final, asked = run_interview(state, lambda q: simulated_answer(bank.get(q.id), case))
        return _report(out, final, asked, args.json, case_id=case.case_id or args.patient.stem)
    location = resolve_location(args.db)
    store = SessionStore(location, create_folder=location == default_location())
    if args.list or args.show or args.delete or args.delete_all:
        return _manage(out, engine, store, args)
    if not sys.stdin.isatty():
        raise InputError(
            "there is no terminal to ask the questions on; run it in a terminal, or answer "
            "from a file with --answers FILE (question ids: kneesource questions) or "
            "--patient CASE.json"
        )
    session_id, state = _open_session(out, store, args)
    return run_terminal(out, engine, store, session_id, state)


def _manage(out: Console, engine: Engine, store: SessionStore, args: argparse.Namespace) -> int:
    """--list, --show ID, --delete ID, --delete-all: the saved interviews."""
    if args.list:
        sessions = store.all()
        table = Table(title=f"{len(sessions)} saved interviews in {store.path}")
        for col in ("id", "saved (UTC)", "answers", "finished"):
            table.add_column(col)
        for sess in sessions:
            table.add_row(
                sess.id,
                sess.updated[:16].replace("T", " "),
                str(len(sess.state.answers)),
                "yes" if sess.finished else "no",
            )
        out.print(table)
    elif args.show:
        sess = store.load(args.show)
        result = assessment(sess.state, case_id=f"interview {sess.id}")
        print_assessment(out, result, engine.kb, clinician=sess.state.mode == "clinician")
    elif args.delete:
        store.delete(args.delete)
        out.print(f"Deleted interview {args.delete}.")
    else:
        out.print(f"Deleted {store.delete_all()} saved interviews from {store.path}.")
    return EXIT_OK


def _open_session(
    out: Console, store: SessionStore, args: argparse.Namespace
) -> tuple[str | None, State]:
    if args.resume is not None and args.resume != "latest":
        session = store.load(args.resume)
        if session.finished:
            raise InputError(f"interview {args.resume!r} is already finished")
        out.print(f"Resuming interview {session.id} ({len(session.state.answers)} answers so far).")
        return session.id, session.state
    pending = [] if args.new else store.unfinished()
    if pending:
        latest = pending[0]
        if args.resume == "latest" or _confirm(
            out,
            f"You have an unfinished interview ({len(latest.state.answers)} answers, "
            f"saved {latest.updated[:16].replace('T', ' ')} UTC). Resume it?",
        ):
            out.print(f"Resuming interview {latest.id}.")
            return latest.id, latest.state
    elif args.resume == "latest":
        out.print("No unfinished interview found; starting a new one.")
    state = start(mode=args.mode)
    out.print(
        "[bold]kneesource interview[/bold]: a few plain questions about your knee pain. "
        "Decision support, not a diagnosis."
    )
    return None, state


def _confirm(out: Console, prompt: str) -> bool:
    try:
        reply = out.input(f"{prompt} [Y/n] ").strip().lower()
    except (EOFError, KeyboardInterrupt):
        return False
    return reply in ("", "y", "yes")


def _read_answers(path: Path) -> dict[str, object]:
    data = decode_json(read_text(path), path.name)
    if not isinstance(data, dict):
        raise CaseFormatError(f"{path.name}: must be a JSON object of question id -> answer")
    if "age" not in data:
        raise CaseFormatError(f"{path.name}: must give 'age' (whole years, 0-120)")
    return data


def _report(
    out: Console,
    state: State,
    asked: list[tuple[Question, Value]],
    as_json: bool,
    case_id: str,
    unused: Sequence[str] = (),
) -> int:
    engine = default_engine()
    bank = question_bank(engine)
    result = assessment(state, case_id=case_id)
    reason = stop_reason(state)
    if as_json:
        body = {
            "questions": [
                {
                    "id": q.id,
                    "phase": q.phase,
                    "text": q.text,
                    "answer": value_json(v),
                }
                for q, v in asked
            ],
            "stop_reason": reason,
            "unused_answers": list(unused),
            "assessment": result.to_dict(),
        }
        sys.stdout.write(json.dumps(body) + "\n")
        return EXIT_OK
    table = Table(title=f"{len(asked)} questions asked", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("Question")
    table.add_column("Answer")
    for i, (q, v) in enumerate(asked, start=1):
        label = "don't know" if v == DONT_KNOW else answer_label(bank.get(q.id), v)
        table.add_row(str(i), q.text, label)
    out.print(table)
    if reason is not None:
        out.print(f"Stopped: {STOP_REASONS[reason]}.")
    if unused:
        out.print(
            f"Not asked, so not used: {', '.join(unused)} (the interview stopped without "
            "needing these answers)."
        )
    print_assessment(out, result, engine.kb, clinician=state.mode == "clinician")
    return EXIT_OK
