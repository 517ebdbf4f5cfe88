"""What the interview needs from the rest of the engine: its questions and a triage level.

Both are cached per engine (an engine is immutable), so every call on the same engine sees the
same validated questions and the same rules.

A *red-flag finding* is one that on its own makes an urgent or emergency rule of
``redflags.yaml`` fire, for a person of some age; the questions are checked to ask every one of
them in the red-flag screen. Ages tried: the bounds of every age band.
"""

from __future__ import annotations

from collections.abc import Sequence

from kneesource.case import Case
from kneesource.engine import Engine
from kneesource.inference.exact import Posterior
from kneesource.interview.questions import QuestionBank, load_questions
from kneesource.interview.selection import LevelFn
from kneesource.kb.schema import AGE_BANDS
from kneesource.owned import once_per
from kneesource.triage import QuickLevel, level_rank, triage_levels
from kneesource.triage.decide import combination_work

URGENT = level_rank("urgent")


@once_per
def red_flag_findings(engine: Engine) -> frozenset[str]:
    rules = engine.rules
    urgent = [r for r in rules.rules if level_rank(r.level) >= URGENT]
    ages = sorted({age for _, lo, hi in AGE_BANDS for age in (lo, hi)})
    return frozenset(
        f.id
        for f in engine.kb.findings
        if any(
            rules.matches(rule.when, frozenset({f.id}), age) is not None
            for rule in urgent
            for age in ages
        )
    )


@once_per
def question_bank(engine: Engine) -> QuestionBank:
    return load_questions(engine.kb, red_flag_findings=red_flag_findings(engine))


def levels(engine: Engine, items: Sequence[tuple[Case, Posterior]]) -> list[int]:
    """The triage rank (0 self-care .. 3 emergency) of each case from its exact posterior, all
    in one batch (``triage_levels``)."""
    cases = [case for case, _ in items]
    return triage_levels(engine.rules, engine.model, cases, [post for _, post in items])


def level_function(engine: Engine) -> LevelFn:
    """``levels`` for one case at a time."""

    def level(case: Case, post: Posterior) -> int:
        return levels(engine, [(case, post)])[0]

    return level


def level_cost(engine: Engine, case: Case, post: Posterior) -> int:
    """Table entries the full triage level of this case costs (its combinations of warning
    signs, ``combination_work``), known before any of it runs; 0 when the level needs no
    inference beyond ``post``."""
    return combination_work(engine.rules, engine.model, case, post)


def interview_level_function(engine: Engine) -> LevelFn:
    """The level the interview reads while it chooses questions: the full level when it costs
    at most ``policy.work_budget`` table entries, else the quick level (the rules and
    the thresholds on all the answers together; it differs only where a warning sign explains
    a serious cause away). So no answer waits long for the next question; the result at the
    end is always the full triage of what was said (``assessment``)."""
    budget = question_bank(engine).policy.work_budget

    def level(case: Case, post: Posterior) -> int:
        return budgeted_level(engine, case, post, budget)

    return level


def budgeted_level(engine: Engine, case: Case, post: Posterior, budget: int) -> int:
    """The full level if it costs at most ``budget`` table entries (``level_cost``), else the
    quick level."""
    if level_cost(engine, case, post) > budget:
        return quick_level_function(engine)(case, post)
    return levels(engine, [(case, post)])[0]


@once_per
def quick_level_function(engine: Engine) -> LevelFn:
    """The triage rank without the combinations of warning signs (``triage.quick_level``): how
    the interview scores possible answers. One per engine, so its cache serves every question."""
    return QuickLevel(engine.rules, engine.model)
