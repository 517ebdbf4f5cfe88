"""Shared pieces of the interview tests: the shipped engine and a helper to reach a state."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from kneesource.engine import Engine, default_engine
from kneesource.interview import State, answer, start

# The opening and the screen answered for a 52-year-old woman with inner knee pain, no red flags.
QUIET_START: tuple[tuple[str, object], ...] = (
    ("age", 52),
    ("sex", "female"),
    ("where", "inner"),
    ("knee_replacement", []),
    ("screen_nerves", []),
    ("screen_knee", []),
    ("screen_leg", []),
    ("onset", "gradual"),
    ("how_long", []),
    ("screen_self_check", []),
)


@pytest.fixture(scope="session")
def engine() -> Engine:
    return default_engine()


def answered(engine: Engine, pairs: Iterable[tuple[str, object]], mode: str = "patient") -> State:
    state = start(engine, mode="clinician" if mode == "clinician" else "patient")
    for qid, value in pairs:
        state = answer(state, qid, value)
    return state
