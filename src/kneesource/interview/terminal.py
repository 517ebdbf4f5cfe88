"""The interactive terminal interview (rich). Presentation only: every decision comes from the
library API, and every answer is saved before the next question is shown.

Keys: the answer itself (y / n / d, option numbers, an age), ``?`` why this question is asked,
``b`` back to change the previous answer, ``q`` save and quit (resume later).
"""

from __future__ import annotations

import threading

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from kneesource.engine import Engine
from kneesource.errors import InputError
from kneesource.inference.exact import warm_up
from kneesource.interview.flow import (
    STOP_REASONS,
    Question,
    answer,
    assessment,
    back,
    next_question,
    stop_reason,
)
from kneesource.interview.state import State, checklist_given
from kneesource.interview.store import SessionStore
from kneesource.render import print_assessment

PHASE_TITLES = {"opening": "About you", "screen": "Warning signs", "adaptive": "Narrowing down"}
HELP = "? why this question · b back · q save and quit"


def run_terminal(
    console: Console, engine: Engine, store: SessionStore, session_id: str | None, state: State
) -> int:
    """Ask until the stopping rule holds, then show the assessment. Returns an exit code.

    A new interview (``session_id`` None) is saved from its first answer on, so quitting before
    answering anything leaves nothing behind."""
    # The adaptive questions score many answers with the compiled kernel; it loads (most of a
    # second) while the person reads and answers the first questions.
    threading.Thread(target=warm_up, args=(engine.model,), daemon=True).start()

    def save(finished: bool = False) -> str:
        nonlocal session_id
        if session_id is None:
            session_id = store.create(state)
            console.print(f"[dim]Your answers are saved as you go (interview {session_id}).[/dim]")
        store.save(session_id, state, finished=finished)
        return session_id

    while True:
        question = next_question(state)
        if question is None:
            break
        _show(console, question)
        while True:
            try:
                reply = console.input("[bold]> [/bold]").strip()
            except (EOFError, KeyboardInterrupt):
                reply = "q"
            low = reply.lower()
            if low in ("?", "why"):
                console.print(Panel(Text(question.why.text), title="Why this question"))
                continue
            if low in ("q", "quit", "exit"):
                if session_id is None:
                    console.print("Nothing was answered, so nothing is saved.")
                    return 0
                console.print(
                    f"Saved. Resume any time with: kneesource interview --resume {session_id} "
                    f"(from the project folder: scripts/start interview --resume {session_id})"
                )
                return 0
            if low in ("b", "back"):
                if not state.answers:
                    console.print("[yellow]This is the first question.[/yellow]")
                    continue
                state = back(state)
                save()
                console.print("[dim]Going back to the previous question.[/dim]")
                break
            try:
                state = answer(state, question.id, _parse(question, reply))
            except InputError:
                console.print(
                    Text(f"Sorry, I did not understand {reply!r}. {_hint(question)}", style="red")
                )
                continue
            save()
            break
    session_id = save(finished=True)
    reason = stop_reason(state)
    console.print()
    if reason is not None:
        console.print(
            f"[bold]Done after {len(state.answers)} questions:[/bold] {STOP_REASONS[reason]}."
        )
    print_assessment(
        console,
        assessment(state, case_id=f"interview {session_id}"),
        engine.kb,
        clinician=state.mode == "clinician",
    )
    return 0


def _show(console: Console, q: Question) -> None:
    done = q.number - 1
    width = 20
    filled = min(width, round(width * done / q.max_questions))
    bar = "█" * filled + "░" * (width - filled)
    console.print()
    console.print(
        f"[bold cyan]Question {q.number}[/bold cyan] [dim](at most {q.max_questions})[/dim] "
        f"{bar} [dim]{PHASE_TITLES.get(q.phase, q.phase)}[/dim]"
    )
    console.print(Text(q.text, style="bold"))
    if q.how_to:
        console.print(Text(f"How to test: {q.how_to}", style="italic"))
    for i, option in enumerate(q.options, start=1):
        console.print(f"  {i}  {option.label}")
    console.print(Text(_hint(q) + "  (" + HELP + ")", style="dim"))


def _hint(q: Question) -> str:
    if q.type == "age":
        return "Type your age in years."
    if q.type == "sex":
        return "Type f (female), m (male) or s to skip."
    if q.type == "yes_no":
        return "Type y (yes), n (no) or d (don't know)."
    if q.type == "single":
        return "Type the number of one answer, or d (don't know)."
    return (
        "Type the numbers that apply, separated by commas, with ? before any you are not sure of "
        "(1,?3); 0 for none of these; d for don't know."
    )


def _option_number(text: str, q: Question) -> bool:
    """Whether ``text`` is the number of one of the question's options (decimal digits only: a
    superscript or a number thousands of digits long is not, and is never converted)."""
    return text.isdecimal() and len(text) <= 3 and 1 <= int(text) <= len(q.options)


def _parse(q: Question, reply: str) -> object:
    """Turn what a person typed into a value for :func:`answer` (which validates it)."""
    low = reply.strip().lower()
    if low in ("d", "dk", "don't know", "dont know", "not sure"):
        return None if q.type != "age" else reply
    if q.type == "sex" and low in ("s", "skip"):
        return "not_given"
    if q.type == "single" and _option_number(low, q):
        return q.options[int(low) - 1].id
    if q.type == "multi":
        if low in ("0", "none", "n", "no"):
            return []
        parts = [p.strip() for p in low.replace(" ", ",").split(",") if p.strip()]
        numbers = [p.removeprefix("?") for p in parts]
        if parts and all(_option_number(n, q) for n in numbers):
            ticked = [q.options[int(p) - 1].id for p in parts if not p.startswith("?")]
            unsure = [q.options[int(p[1:]) - 1].id for p in parts if p.startswith("?")]
            return checklist_given(ticked, unsure)
        return reply
    return reply
