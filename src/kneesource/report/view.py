"""What a result shows, as data for the page and the printed report: the level and its reasons,
the ranked causes with what moved them, where the pain comes from (drawn), the advice for the
leading causes and the references behind the level and the leading causes."""

from __future__ import annotations

from typing import Any

from kneesource.assessment import Assessment
from kneesource.engine import Engine
from kneesource.kb.schema import Citation
from kneesource.render import SOURCE_LABELS, condition_advice, evidence_words, pct
from kneesource.web import bodymap

LEVEL_TITLES = {
    "emergency": "Emergency: get help now",
    "urgent": "Urgent: be seen today",
    "soon": "Soon: see a clinician within days",
    "self_care": "Self-care: look after it at home",
}


def result_view(engine: Engine, a: Assessment, clinician: bool = False) -> dict[str, Any]:
    """Everything the result page shows, in display order."""
    kb = engine.kb
    assert a.triage is not None
    t = a.triage
    causes = []
    for c in a.conditions[:8]:
        causes.append(
            {
                "name": c.name,
                "clinical_name": c.clinical_name,
                "serious": c.serious,
                "percent": pct(c.probability),
                "width": round(100 * min(c.probability, 1.0), 1),
                "before": pct(c.prior),
                "for": [
                    evidence_words(kb, e.finding, e.value, clinician) for e in c.supporting[:4]
                ],
                "against": [
                    evidence_words(kb, e.finding, e.value, clinician) for e in c.conflicting[:3]
                ],
            }
        )
    lead = a.leading_source
    root = max(a.nerve_roots, key=lambda r: a.nerve_roots[r]) if lead == "spine" else None
    sources = [
        {
            "label": SOURCE_LABELS[g],
            "percent": pct(p),
            "before": pct(a.source_before[g]),
            "width": round(100 * p, 1),
            "lead": g == lead,
        }
        for g, p in sorted(a.pain_source.items(), key=lambda kv: -kv[1])
    ]
    return {
        "level": t.level,
        "level_title": LEVEL_TITLES[t.level],
        "reasons": [r.message for r in t.reasons],
        "uncertain": [
            f"{kb.condition(u.dangerous).name} or {kb.condition(u.benign).name}: only {u.test} "
            "can tell them apart."
            for u in t.uncertainties
        ],
        "advice": [p.strip() for p in t.advice.split("\n\n") if p.strip()],
        "causes": causes,
        "explained": a.explained,
        "sources": sources,
        "lead": SOURCE_LABELS[lead],
        "lead_group": lead,
        "root": root,
        "roots": [(r, pct(p)) for r, p in a.nerve_roots.items()],
        "picture": bodymap.source_svg(lead, root),
        "condition_advice": [(c.name, " ".join(c.advice.split())) for c in condition_advice(a, kb)],
        "references": references(engine, a),
        "age": a.case.age,
        "sex": a.case.sex or "not given",
        "version": a.knowledge_base_version,
    }


def references(engine: Engine, a: Assessment) -> list[dict[str, str | None]]:
    """The published sources behind the three leading causes' starting chances and behind
    every reason for the level."""
    kb, rules = engine.kb, engine.rules
    cited: list[str] = []

    def add(source: object) -> None:
        if isinstance(source, Citation) and source.ref not in cited:
            cited.append(source.ref)

    assert a.triage is not None
    for reason in a.triage.reasons:
        origin = rules.origin(reason.rule, reason.level)
        if origin is not None:
            add(origin.source)
    for c in a.conditions[:3]:
        prior = kb.condition(c.id).prior
        add(prior.source)
        for m in prior.modifiers:
            add(m.source)
    out: list[dict[str, str | None]] = []
    for ref in cited:
        r = kb.references[ref]
        url = r.url or (f"https://doi.org/{r.doi}" if r.doi else None)
        out.append({"citation": r.citation, "url": url})
    return out
