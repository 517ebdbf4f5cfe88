"""Three people through the terminal interview in a 100 x 40 pseudo-terminal, as they would type
their answers: the footballer who twisted his knee, the runner with pain behind the knee, and
the 68-year-old with back and knee pain. Each reads the questions on the screen and answers from
a few plain facts about herself or himself; then the saved interview is listed, shown again
and deleted.

Checked: the summary box is on the last screen, no question is asked twice, the footballer is
asked about a pop and the knee giving way before the interview stops (``before_stopping`` in
``questions.yaml``), and the list, show and delete commands work on the interview just finished.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

KNEESOURCE = str(Path(sys.executable).parent / "kneesource")
ROWS, COLUMNS = 40, 100
# The hint under each question, which the terminal may wrap anywhere.
HINT = re.compile(r"Type (.*?)\s+\(\?\s+why\s+this\s+question", re.S)

# What each person would say yes to, as words they would recognise on the screen.
PEOPLE = {
    "footballer": (
        "24",
        "m",
        (
            "twisted my knee",
            "pop or snap",
            "swelled up within",
            "football",
            "give way",
            "gives way",
        ),
    ),
    "runner": (
        "35",
        "f",
        ("hollow behind", "running", "run ", "downhill", "back of the knee"),
    ),
    "back and knee": (
        "68",
        "f",
        ("lower back", "front of the thigh", "stairs", "gradually", "standing", "walking"),
    ),
}


def _spawn(db: Path, *args: str) -> pexpect.spawn:
    env = {**os.environ, "COLUMNS": str(COLUMNS), "LINES": str(ROWS), "TERM": "dumb"}
    env["NO_COLOR"] = "1"
    return pexpect.spawn(
        KNEESOURCE,
        ["interview", "--db", str(db), *args],
        env=env,
        encoding="utf-8",
        timeout=90,
        dimensions=(ROWS, COLUMNS),
    )


def _options(block: str) -> list[tuple[str, str]]:
    """Numbered options of the question on screen, wrapped lines joined."""
    out: list[tuple[str, str]] = []
    for line in block.splitlines():
        m = re.match(r"^\s{2}(\d+)\s{2}(.*)$", line)
        if m:
            out.append((m.group(1), m.group(2)))
        elif out and line.strip():
            out[-1] = (out[-1][0], out[-1][1] + " " + line.strip())
    return out


def _reply(hint: str, block: str, age: str, sex: str, yes: tuple[str, ...]) -> str:
    text = " ".join(block.split()).lower()
    if "your age" in hint:
        return age
    if "f (female)" in hint:
        return sex
    if "y (yes)" in hint:
        return "y" if any(w in text for w in yes) else "n"
    chosen = [n for n, label in _options(block) if any(w in label.lower() for w in yes)]
    if "numbers that apply" in hint:
        return ",".join(chosen) if chosen else "0"
    if chosen:
        return chosen[0]
    return "d"


@pytest.mark.parametrize("who", list(PEOPLE))
def test_three_people_through_the_terminal(tmp_path: Path, who: str) -> None:
    age, sex, yes = PEOPLE[who]
    db = tmp_path / "store.db"
    child = _spawn(db, "--new")
    transcript = ""
    asked: list[str] = []
    while True:
        index = child.expect([r"Question \d+ \(at most \d+\)[^\n]*\n([^\n]+)", pexpect.EOF])
        transcript += child.before + (child.after if isinstance(child.after, str) else "")
        if index == 1:
            break
        question = child.match.group(1).strip()
        assert question not in asked, f"asked twice: {question}"
        asked.append(question)
        child.expect(HINT)
        block = child.before
        transcript += block + child.after
        block = block.replace("\r", "")
        hint = " ".join(child.match.group(1).split())
        child.expect("> ")
        child.sendline(_reply(hint, question + "\n" + block, age, sex, yes))
        assert len(asked) <= 40
    child.close()
    assert child.exitstatus == 0
    if who == "footballer":
        # After a twist a clinician always asks about a pop and about giving way
        # (policy.before_stopping): as a question of its own or as an option of a checklist.
        text = " ".join(asked).lower()
        shown = " ".join(transcript.split()).lower()
        assert "pop or snap" in text, "\n".join(asked)
        assert "give way" in text or "gives way, or feels as if it will collapse" in shown
    # The last screen (the bottom 40 rows) holds the summary box.
    lines = transcript.replace("\r\n", "\n").rstrip("\n").split("\n")
    last_screen = "\n".join(lines[-ROWS:])
    assert "IN SHORT" in last_screen, last_screen

    def run(*args: str) -> str:
        done = subprocess.run(
            [KNEESOURCE, "interview", "--db", str(db), *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "COLUMNS": str(COLUMNS)},
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    listing = run("--list")
    ids = re.findall(r"\b([0-9a-f]{12})\b", listing)
    assert len(ids) == 1, listing
    shown = run("--show", ids[0])
    assert "IN SHORT" in shown and "Most likely causes" in shown
    run("--delete", ids[0])
    assert not re.findall(r"\b[0-9a-f]{12}\b", run("--list"))
