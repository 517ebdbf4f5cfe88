"""The terminal interview through a real pseudo-terminal, typed as a person would."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pexpect

KNEESOURCE = str(Path(sys.executable).parent / "kneesource")
PROMPT = r"\(\? why this question"


def _spawn(db: Path, *extra: str) -> pexpect.spawn:
    env = {**os.environ, "COLUMNS": "120", "TERM": "dumb", "NO_COLOR": "1"}
    return pexpect.spawn(
        KNEESOURCE,
        ["interview", "--db", str(db), *extra],
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 120),
    )


def _reply(hint: str) -> str:
    """What a person with mild knee pain and no warning signs would type for this hint."""
    if "your age" in hint:
        return "47"
    if "f (female)" in hint:
        return "f"
    if "y (yes)" in hint:
        return "n"
    if "number of one answer" in hint:
        return "3"
    return "0"


def test_a_new_user_runs_the_whole_interview(tmp_path: Path) -> None:
    child = _spawn(tmp_path / "s.db")
    child.expect("Question 1")
    child.expect("How old are you")
    child.expect("> ")
    child.sendline("?")  # why
    child.expect("Why this question")
    child.expect("Many causes of knee pain")
    child.expect("> ")
    child.sendline("forty")  # a typo is explained, not fatal
    child.expect("Sorry, I did not understand 'forty'")
    child.expect("> ")
    child.sendline("47")
    child.expect("Question 2")
    child.expect("> ")
    child.sendline("m")
    child.expect("Question 3")
    child.expect("> ")
    child.sendline("b")  # back to change the sex
    child.expect("Question 2")
    child.expect("> ")
    child.sendline("f")
    child.expect("Question 3")
    child.expect("Where does the knee hurt")
    child.expect("> ")
    child.sendline("3")
    answered = 3
    while True:
        index = child.expect([r"Type ([^\n]*)", "Most likely causes"])
        if index == 1:
            break
        hint = child.match.group(1)
        child.expect("> ")
        child.sendline(_reply(hint))
        answered += 1
        assert answered <= 30
    child.expect("Where the pain comes from")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert answered >= 7  # opening and screen at least


def test_resume_after_the_process_is_killed(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    child = _spawn(db, "--new")
    for reply in ("45", "m", "2"):
        child.expect("> ")
        child.sendline(reply)
    child.expect("Question 4")
    child.expect("> ")
    child.kill(signal.SIGKILL)
    child.close(force=True)
    assert child.signalstatus == signal.SIGKILL

    again = _spawn(db)
    again.expect(r"unfinished interview \(3 answers")
    again.sendline("y")
    again.expect("Question 4")
    again.expect("Do you have any of these")
    again.expect("> ")
    again.sendline("q")
    again.expect("Saved. Resume any time with: kneesource interview --resume ([0-9a-f]+)")
    session = again.match.group(1)
    again.expect(pexpect.EOF)

    third = _spawn(db, "--resume", session)
    third.expect("Question 4")
    third.sendline("0")
    third.expect("Question 5")
    third.sendline("q")
    third.expect(pexpect.EOF)


def test_ctrl_d_saves_and_quits(tmp_path: Path) -> None:
    child = _spawn(tmp_path / "s.db")
    child.expect("> ")
    child.sendline("33")
    child.expect("Question 2")
    child.expect("> ")
    child.sendeof()
    child.expect("Saved")
    child.expect(pexpect.EOF)


def test_quitting_before_any_answer_saves_nothing(tmp_path: Path) -> None:
    from kneesource.interview.store import SessionStore

    db = tmp_path / "s.db"
    child = _spawn(db)
    child.expect("Question 1")
    child.expect("> ")
    child.sendline("q")
    child.expect("nothing is saved")
    child.expect(pexpect.EOF)
    assert SessionStore(db).all() == []
