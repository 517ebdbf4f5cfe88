"""The adaptive interview: the fewest plain questions to a confident, safe assessment.

``start()`` gives an empty :class:`State`; ``next_question(state)`` the question to ask now (with
``why``), or ``None`` when the stopping rule holds; ``answer(state, id, value)`` a new state;
``assessment(state)`` the full assessment. All are pure: the same state gives the same result.
A checklist's answer is a tuple of the options ticked, or a :class:`PartChecklist` when some
options are "not sure" (``answer`` also takes ``{"ticked": [...], "not_sure": [...]}``).
"""

from kneesource.interview.flow import (
    STOP_REASONS,
    Option,
    Question,
    StopReason,
    answer,
    assessment,
    back,
    next_question,
    start,
    stop_reason,
)
from kneesource.interview.questions import QuestionBank, QuestionSpec, load_questions
from kneesource.interview.state import (
    DONT_KNOW,
    Answer,
    InvalidAnswerError,
    PartChecklist,
    State,
)
from kneesource.interview.why import Shift, Why

__all__ = [
    "DONT_KNOW",
    "STOP_REASONS",
    "Answer",
    "InvalidAnswerError",
    "Option",
    "PartChecklist",
    "Question",
    "QuestionBank",
    "QuestionSpec",
    "Shift",
    "State",
    "StopReason",
    "Why",
    "answer",
    "assessment",
    "back",
    "load_questions",
    "next_question",
    "start",
    "stop_reason",
]
