"""Markdown tables of the red-flag rules and thresholds, for ``docs/triage.md``.

The documentation embeds this text between markers, and a test checks that it matches the data,
so the published tables cannot drift from the rules that run.
"""

from __future__ import annotations

from kneesource.kb.schema import Citation, Source
from kneesource.triage.rules import RuleSet
from kneesource.triage.schema import AgeTest, AllOf, AnyOf, AtLeast, Expr, SignRef

BEGIN = "<!-- BEGIN GENERATED TABLES (kneesource.triage.tables) -->"
END = "<!-- END GENERATED TABLES -->"


def describe(expr: Expr) -> str:
    """An expression in compact words: ``all of (a, any of (b, c))``."""
    if isinstance(expr, str):
        return f"`{expr}`"
    if isinstance(expr, AgeTest):
        lo, hi = expr.age.min, expr.age.max
        if lo is not None and hi is not None:
            return f"age {lo}-{hi}"
        return f"age >= {lo}" if lo is not None else f"age <= {hi}"
    if isinstance(expr, SignRef):
        return f"*{expr.sign}*"
    if isinstance(expr, AllOf):
        return "all of (" + ", ".join(describe(e) for e in expr.all_of) + ")"
    if isinstance(expr, AnyOf):
        return "any of (" + ", ".join(describe(e) for e in expr.any_of) + ")"
    assert isinstance(expr, AtLeast)
    return f"at least {expr.at_least} of (" + ", ".join(describe(e) for e in expr.of) + ")"


def _source(source: Source) -> str:
    if isinstance(source, Citation):
        return f"{source.ref} [{source.tag}]"
    return "assumption"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def markdown(rules: RuleSet) -> str:
    lines = [BEGIN, "", "### Signs (named groups used by the rules)", ""]
    lines += ["| sign | holds when |", "|---|---|"]
    lines += [f"| *{s.id}* | {describe(s.when)} |" for s in rules.signs.values()]
    lines += ["", "### Warning-sign rules", ""]
    lines += ["| rule | level | condition | fires when | source |", "|---|---|---|---|---|"]
    for r in rules.rules:
        cond = r.condition or "-"
        lines.append(f"| {r.id} | {r.level} | {cond} | {describe(r.when)} | {_source(r.source)} |")
    lines += ["", "### Probability thresholds", ""]
    lines += [
        "| condition | probability | level | only when | reasoning |",
        "|---|---|---|---|---|",
    ]
    for t in rules.thresholds:
        gate = describe(t.requires) if t.requires is not None else "-"
        why = t.source.detail if isinstance(t.source, Citation) else t.source.assumption
        lines.append(
            f"| {t.condition} | {t.probability:g} | {t.level} | {gate} | "
            f"{_source(t.source)}: {_cell(why)} |"
        )
    lines += ["", "### Causes that cannot be told apart without a test", ""]
    lines += ["| dangerous | less dangerous | test | shown when |", "|---|---|---|---|"]
    for u in rules.uncertainties:
        rule_list = ", ".join(u.rules) or "-"
        lines.append(
            f"| {u.dangerous} | {u.benign} | {u.test} | rule {rule_list}; or {u.dangerous} "
            f"flagged and {u.benign} >= {u.benign_min:g} |"
        )
    lines += ["", END]
    return "\n".join(lines)
