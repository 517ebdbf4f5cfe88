"""The safety suite: every presentation in ``safety_cases.yaml`` must reach at least its minimum
level. Presentations and minimum levels come from the cited clinical descriptions (evidence brief
sections 1.5, 1.13, 1.17-1.21, 3.F, 3.G and 5), not from the engine's output."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from kneesource.engine import default_engine
from kneesource.triage import LEVELS, level_rank

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "safety_cases.yaml").read_text(encoding="utf-8")
)["cases"]
GROUPS = {
    "cauda_equina_syndrome",
    "septic_arthritis",
    "fracture",
    "acute_limb_ischaemia",
    "popliteal_artery_aneurysm",
    "dvt",
    "bakers_cyst_rupture",
    "slipped_capital_femoral_epiphysis",
    "locked_knee",
    "bone_tumour",
}


def test_every_red_flag_condition_has_at_least_five_presentations() -> None:
    counts = Counter(c["group"] for c in CASES)
    assert set(counts) == GROUPS
    assert min(counts.values()) >= 5, counts
    assert len({c["id"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("spec", CASES, ids=[c["id"] for c in CASES])
def test_presentation_reaches_its_minimum_level(spec: dict[str, Any]) -> None:
    engine = default_engine()
    assert spec["min_level"] in LEVELS
    case = engine.case({"age": spec["age"], "sex": spec["sex"], "findings": spec["findings"]})
    result = engine.assess(case).triage
    assert result is not None
    assert level_rank(result.level) >= level_rank(spec["min_level"]), [
        r.to_dict() for r in result.reasons
    ]
    # The level is explained: some reason carries it.
    assert max(level_rank(r.level) for r in result.reasons) == level_rank(result.level)
