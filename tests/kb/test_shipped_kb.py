"""The knowledge base shipped in the package: complete, coded and consistent."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from kneesource.engine import default_engine
from kneesource.kb.schema import Citation

with warnings.catch_warnings():
    # simple-icd-10-cm 1.5 loads its code list through the deprecated importlib.resources API.
    warnings.simplefilter("ignore", DeprecationWarning)
    import simple_icd_10_cm as icd

KB = default_engine().kb

REQUIRED_CONDITIONS = {
    "lumbar_disc_herniation",
    "lumbar_spinal_stenosis",
    "spondylolisthesis",
    "cauda_equina_syndrome",
    "hip_osteoarthritis",
    "slipped_capital_femoral_epiphysis",
    "knee_osteoarthritis",
    "patellofemoral_pain",
    "meniscus_tear",
    "acl_injury",
    "mcl_injury",
    "patellar_tendinopathy",
    "hamstring_tendinopathy",
    "bakers_cyst",
    "bakers_cyst_rupture",
    "itb_syndrome",
    "muscle_cramp",
    "gout",
    "inflammatory_arthritis",
    "septic_arthritis",
    "fracture",
    "dvt",
    "popliteal_artery_aneurysm",
}

# What the two founding articles describe, as finding ids that must exist.
SEED_FINDINGS = {
    # spine-referred knee pain
    "pain_front_of_knee", "pain_inner_knee", "pain_front_of_thigh", "pain_dull_diffuse_ache",
    "knee_swelling", "knee_redness", "knee_warmth", "injury_twist", "injury_direct_blow",
    "pain_worse_bending_back", "pain_worse_trunk_twist", "pain_on_knee_movement",
    "numbness_inner_knee", "pins_and_needles_leg", "quadriceps_weakness", "patellar_reflex_reduced",
    "back_pain",
    # pain behind the knee
    "pain_back_of_knee", "pain_start_of_run_eases", "activity_running",
    "sudden_cramp_seconds_to_minutes", "pregnancy", "dehydration", "pain_tight_throbbing",
    "pain_below_kneecap", "pain_after_jumping", "activity_jumping_sport", "lump_behind_knee",
    "locking", "catching_clicking", "injury_landing_from_jump", "swelling_within_hours",
    "felt_pop", "giving_way",
}  # fmt: skip


def test_required_conditions_exist() -> None:
    assert {c.id for c in KB.conditions} >= REQUIRED_CONDITIONS


def test_seed_article_findings_are_expressible() -> None:
    assert {f.id for f in KB.findings} >= SEED_FINDINGS


def test_icd10cm_codes_exist_and_are_billable() -> None:
    bad = [
        (c.id, code)
        for c in KB.conditions
        for code in c.codes.icd10cm
        if not icd.is_valid_item(code) or not icd.is_leaf(code)
    ]
    assert bad == []


def test_every_source_group_and_root_is_used() -> None:
    assert {c.source_group for c in KB.conditions} == {"knee", "spine", "hip", "vascular", "other"}
    assert {link.parent for link in KB.links} >= {"L2", "L3", "L4", "L5", "S1"}


def test_citations_carry_the_brief_evidence_tags() -> None:
    tags = [link.source.tag for link in KB.links if isinstance(link.source, Citation)]
    assert tags, "links should cite evidence"
    assert set(tags) <= {"V", "S", "M"}


def _citing_text() -> str:
    """Everything that can cite a reference: the knowledge base's files without the reference
    lists themselves, the vignettes and published cases, the code and the documentation."""
    root = Path(__file__).parents[2]
    package = root / "src" / "kneesource"
    paths = [p for p in (package / "knowledge").glob("*.yaml") if "references" not in p.name]
    paths += [*(package / "evaluation").rglob("*.yaml"), *package.rglob("*.py")]
    paths += [*(root / "docs").glob("*.md")]
    return "\n".join(p.read_text(encoding="utf-8") for p in paths)


def _named(citation: str, text: str) -> bool:
    """Whether ``text`` names the source the way the sources' details do: its first author's
    surname (the citation's first word) followed within a few words by its year."""
    first = re.match(r"[^\s,.]+", citation.strip())
    year = re.search(r"\b(19|20)\d\d\b", citation)
    if first is None or year is None:
        return False
    pattern = re.escape(first.group(0)) + r"\b.{0,40}?\b" + year.group(0) + r"\b"
    return re.search(pattern, text, re.DOTALL) is not None


def test_every_reference_is_cited() -> None:
    # Expected: every entry of the reference lists is cited somewhere, by its id (a citation's
    # ref, or the id in an estimate's reasoning) or by its first author and year, so the lists
    # hold no source that no number, rule or page rests on.
    text = _citing_text()
    uncited = sorted(
        ref
        for ref, entry in KB.references.items()
        if not re.search(rf"\b{re.escape(ref)}\b", text) and not _named(entry.citation, text)
    )
    assert not uncited, f"references cited nowhere: {uncited}"


def test_the_model_doc_counts_the_links_that_rest_on_published_numbers() -> None:
    # Expected: counted here from the loaded knowledge base; docs/model.md states the figures
    # a reader relies on, so a link whose source changes must change them too.
    cited = [link for link in KB.links if isinstance(link.source, Citation)]
    checked = [link for link in cited if link.source.tag == "V"]
    estimated = len(KB.links) - len(cited)
    doc = " ".join((Path(__file__).parents[2] / "docs" / "model.md").read_text().split())
    assert (
        f"of the {len(KB.links)} links, {len(cited)} take their number from a cited source "
        f"({len(checked)} of them checked against the source's text, tag V) and {estimated} "
        "are clinical estimates" in doc
    )
