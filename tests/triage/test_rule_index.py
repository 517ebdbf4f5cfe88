"""The rules, thresholds and advice gates that hold, worked out through the index of findings
they name, are those that each expression's own walk (``RuleSet.matches``) finds.

Expected values: ``matches`` on every rule and threshold one at a time, for random sets of
present findings (mostly warning signs, which the index is about) at every age."""

from __future__ import annotations

import numpy as np

from kneesource.engine import default_engine


def test_what_holds_matches_each_expression_walked_alone() -> None:
    engine = default_engine()
    rules = engine.rules
    warning = sorted(rules.warning_findings_at(40) | rules.warning_findings_at(10))
    others = [f for f in engine.model.finding_ids if f not in warning]
    rng = np.random.default_rng(2026)
    fired_somewhere = set()
    for _ in range(3000):
        picked = rng.choice(len(warning), size=int(rng.integers(0, 7)), replace=False)
        extra = rng.choice(len(others), size=int(rng.integers(0, 4)), replace=False)
        present = frozenset([warning[i] for i in picked] + [others[i] for i in extra])
        age = int(rng.integers(0, 101))
        expected = [
            (r, hit)
            for r in rules.rules
            if (hit := rules.matches(r.when, present, age)) is not None
        ]
        assert rules.fired_rules(present, age) == expected, (sorted(present), age)
        assert rules.open_thresholds(present, age) == tuple(
            t
            for t in rules.thresholds
            if t.requires is None or rules.matches(t.requires, present, age) is not None
        )
        advice = rules.advice
        for kind, exprs, none_holds in (
            ("tips", [t.avoid_when for t in advice.tips], False),
            ("safety_nets", [n.when for n in advice.safety_nets], False),
            ("medicines", [m.when for m in advice.medicines], True),
        ):
            assert rules.holding_advice(kind, present, age) == {
                i
                for i, e in enumerate(exprs)
                if (none_holds if e is None else rules.matches(e, present, age) is not None)
            }, (kind, sorted(present), age)
        fired_somewhere |= {r.id for r, _ in expected}
    assert len(fired_somewhere) >= 40  # the sweep reached most rules
