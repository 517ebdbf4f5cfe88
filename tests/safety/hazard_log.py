"""Generate docs/hazard-log.md from docs/hazards.yaml and the probe cases.

Run ``python -m tests.safety.hazard_log`` to rewrite the document; a test fails when the file
differs from what this prints, so the log cannot drift from its data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "docs" / "hazards.yaml"
DOC = ROOT / "docs" / "hazard-log.md"


def hazards() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = yaml.safe_load(DATA.read_text(encoding="utf-8"))["hazards"]
    return data


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render(items: Sequence[Mapping[str, Any]], probes: Sequence[Mapping[str, Any]]) -> str:
    by_hazard: dict[str, list[str]] = {}
    for probe in probes:
        for h in probe.get("hazards", []):
            by_hazard.setdefault(h, []).append(str(probe["id"]))
    counts: dict[str, int] = {}
    for h in items:
        counts[h["outcome"]] = counts.get(h["outcome"], 0) + 1
    lines = [
        "# Hazard log",
        "",
        "A clinical safety case for what kneesource tells people, in the shape DCB0129 asks",
        "of health IT: each hazard with its cause, effect, severity, likelihood before the",
        "control, the control, the residual risk and the tests that prove the control. The",
        "hazards are those of a clinical-safety review of kneesource at commit 421ae64 (41: 9",
        "high, 18 medium, 14 low) and one found since on published case reports (S); the",
        "guidance they cite is in the knowledge base as reference entries",
        "(`references_triage.yaml`) named in each rule, net, tip and painkiller note.",
        "",
        "This file is generated from `docs/hazards.yaml` and `tests/safety/probes.yaml` by",
        "`python -m tests.safety.hazard_log`; `tests/safety/test_hazards.py` fails when it",
        "differs, when a high or medium hazard has neither a control nor a check, when a probe",
        "fails, and when removing any one listed control leaves every probe of its hazard passing.",
        "",
        "Outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ".",
        "",
        "| id | severity | hazard | likelihood | control | residual risk | outcome | proven by |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for h in items:
        proof = [f"`{c}`" for c in h.get("controls", [])]
        proof += [f"probe {p}" for p in by_hazard.get(h["id"], [])]
        proof += [f"`{c.split('::')[-1]}`" for c in h.get("checks", [])]
        lines.append(
            "| "
            + " | ".join(
                [
                    h["id"],
                    h["severity"],
                    _cell(f"**{h['title']}.** Cause: {h['cause']} Effect: {h['effect']}"),
                    h["likelihood"],
                    _cell(h["control"]),
                    _cell(h["residual"]),
                    h["outcome"],
                    _cell(", ".join(proof) or "none"),
                ]
            )
            + " |"
        )
    lines += [
        "",
        "## Probe cases",
        "",
        "Each probe is a person as the review (or a control added since) describes them, with the",
        "guidance it follows; `tests/safety/test_hazards.py` checks every one.",
        "",
        "| probe | hazards | person | guidance | must |",
        "|---|---|---|---|---|",
    ]
    for p in probes:
        person = f"{p['age']} {p['sex']}: " + ", ".join(p["findings"])
        if p.get("absent"):
            person += "; no " + ", no ".join(p["absent"])
        must = []
        if p.get("min_level"):
            must.append(f"at least {p['min_level']}")
        if p.get("max_level"):
            must.append(f"at most {p['max_level']}")
        for key, word in (
            ("rules", "rule"),
            ("nets", "net"),
            ("tips", "tip"),
            ("tips_absent", "no tip"),
            ("no_uncertainty", "no pair about"),
            ("says", "says"),
            ("says_not", "never says"),
        ):
            must += [f"{word} {v}" for v in p.get(key, [])]
        if p.get("medicine"):
            must.append(f"painkiller note {p['medicine']}")
        lines.append(
            f"| {p['id']} | {', '.join(p.get('hazards', [])) or '-'} | {_cell(person)} | "
            f"{_cell(p['guidance'])} | {_cell('; '.join(must))} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    from tests.safety.probes import PROBES

    DOC.write_text(render(hazards(), PROBES), encoding="utf-8")


if __name__ == "__main__":
    main()
