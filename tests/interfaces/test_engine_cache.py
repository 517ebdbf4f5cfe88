"""A ready engine kept between runs is used only when it was built from the same knowledge files
and code, assesses exactly as a freshly built one, and a broken, foreign or unwritable cache never
stops the engine from loading."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path

import pytest

from kneesource import engine as engine_module
from kneesource import engine_cache
from kneesource.engine import Engine
from kneesource.kb.loader import default_knowledge_dir

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv("KNEESOURCE_CACHE_DIR", str(where))
    return where


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Path | None]:
    """The knowledge bases read from their files (not taken from the cache), in order."""
    read: list[Path | None] = []
    original = engine_module.load_knowledge_base

    def counting(directory: Path | None = None):  # type: ignore[no-untyped-def]
        read.append(directory)
        return original(directory)

    monkeypatch.setattr(engine_module, "load_knowledge_base", counting)
    return read


def _assessments(engine: Engine) -> list[dict[str, object]]:
    cases = [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*_*.json"))]
    return [engine.assess(engine.case(c)).to_dict() for c in cases if "findings" in c]


def test_the_second_engine_comes_from_the_cache_and_assesses_the_same(
    cache: Path, builds: list[Path | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Engine.from_directory()
    assert len(builds) == 1
    assert len(list(cache.glob("engine-*.pickle"))) == 1
    second = Engine.from_directory()
    assert len(builds) == 1, "the second engine was read from the files again"
    assert second is not first
    monkeypatch.setenv("KNEESOURCE_CACHE_DIR", "")  # turned off: built from the files
    fresh = Engine.from_directory()
    assert len(builds) == 2
    assert _assessments(second) == _assessments(fresh)
    assert second.kb.digest == fresh.kb.digest


def test_a_changed_knowledge_file_gives_a_new_engine(
    cache: Path, builds: list[Path | None], tmp_path: Path
) -> None:
    kb_dir = tmp_path / "knowledge"
    shutil.copytree(default_knowledge_dir(), kb_dir)
    before = Engine.from_directory(kb_dir)
    meta = kb_dir / "meta.yaml"
    text = meta.read_text()
    version = before.kb.meta.version
    assert version != "9.9.9"
    meta.write_text(text.replace(f"version: {version}", "version: 9.9.9", 1))
    after = Engine.from_directory(kb_dir)
    assert len(builds) == 2
    assert after.kb.meta.version == "9.9.9"
    assert Engine.from_directory(kb_dir).kb.meta.version == "9.9.9"
    assert len(builds) == 2


@pytest.mark.parametrize("damage", ["garbage", "truncated", "group_writable"])
def test_a_damaged_or_foreign_cache_file_is_not_trusted(
    cache: Path, builds: list[Path | None], damage: str
) -> None:
    Engine.from_directory()
    (stored,) = cache.glob("engine-*.pickle")
    if damage == "garbage":
        stored.write_bytes(b"not a pickle")
    elif damage == "truncated":
        stored.write_bytes(stored.read_bytes()[:1000])
    else:
        stored.chmod(0o664)
    engine = Engine.from_directory()
    assert len(builds) == 2, "the damaged file was used"
    assert engine.kb.conditions
    assert Engine.from_directory().kb.digest == engine.kb.digest
    assert len(builds) == 2, "the rebuilt engine was not stored again"


def test_a_cache_that_cannot_be_written_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, builds: list[Path | None]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("KNEESOURCE_CACHE_DIR", str(blocker / "cache"))
    assert Engine.from_directory().kb.conditions
    assert Engine.from_directory().kb.conditions
    assert len(builds) == 2
    assert blocker.read_text() == ""


def test_only_the_newest_engines_are_kept(cache: Path) -> None:
    digests = [hashlib.sha256(bytes([i])).hexdigest() for i in range(engine_cache.KEEP + 3)]
    for i, digest in enumerate(digests):
        engine_cache.store(digest, {"engine": i})
        # Clear ages, whatever the clock's resolution: the file stored last is the newest.
        second = (i + 1) * 1_000_000_000
        os.utime(cache / f"engine-{digest[:40]}.pickle", ns=(second, second))
    kept = sorted(p.name for p in cache.glob("engine-*.pickle"))
    assert len(kept) == engine_cache.KEEP
    assert engine_cache.load(digests[-1]) == {"engine": len(digests) - 1}
    assert engine_cache.load(digests[-engine_cache.KEEP]) == {"engine": len(digests) - 4}
    assert engine_cache.load(digests[-engine_cache.KEEP - 1]) is None
    assert not list(cache.glob(".engine-*")), "no temporary file is left behind"


def test_rules_are_stored_without_caches_keyed_by_object_ids() -> None:
    # The rule matcher caches by id() of each rule's expression; an id from another process
    # could name another expression, so an engine used before it is stored must not carry them.
    engine = Engine.from_directory()
    engine.assess(engine.case({"age": 70, "findings": {"injury_fall": True, "hip_pain": True}}))
    # (An assessment reads the rules through their index; the interview's follow-ups walk
    # single expressions, which fills the id-keyed caches.)
    engine.rules.matches(engine.rules.rules[0].when, frozenset({"hip_pain"}), 70)
    engine.rules.matches(engine.rules.rules[1].when, frozenset(), 70)
    assert engine.rules._names and engine.rules._bare and engine.rules._indexes
    copy = pickle.loads(pickle.dumps(engine))
    assert not copy.rules._names and not copy.rules._bare and not copy.rules._by_age
    assert not copy.rules._indexes
    case = copy.case({"age": 70, "findings": {"injury_fall": True, "hip_pain": True}})
    assert copy.assess(case).to_dict() == engine.assess(case).to_dict()
