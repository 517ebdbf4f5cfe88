"""Load the knowledge files and validate them across files (the second validation level).

``load_knowledge_base()`` reads the YAML files shipped in ``kneesource/knowledge`` (or a
directory given for testing), validates each with the pydantic models in ``schema``, then
checks the rules that span files. Every problem is collected before one
:class:`KnowledgeBaseError` lists them all.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from kneesource.errors import KnowledgeBaseError
from kneesource.kb import yamlio
from kneesource.kb.schema import (
    ROOT_IDS,
    ActivityModifier,
    Citation,
    Condition,
    Finding,
    HistoryModifier,
    Link,
    Meta,
    Nerve,
    Reference,
    Root,
    Source,
)
from kneesource.kb.strength import StrengthError, link_weight

# Each kind may be split across files named ``<kind>.yaml`` or ``<kind>_<part>.yaml``; their
# top-level lists are concatenated in file-name order. meta and anatomy are single files.
SINGLE_FILES: tuple[str, ...] = ("meta", "anatomy")
LIST_KINDS: dict[str, str] = {
    "references": "references",
    "conditions": "conditions",
    "findings": "findings",
    "links": "links",
}

_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True)
class KnowledgeBase:
    """The validated knowledge base: plain immutable records, in file order."""

    meta: Meta
    references: dict[str, Reference]
    conditions: tuple[Condition, ...]
    findings: tuple[Finding, ...]
    roots: tuple[Root, ...]
    nerves: tuple[Nerve, ...]
    links: tuple[Link, ...]
    digest: str
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def version(self) -> str:
        """Semantic version of the content plus a short digest of the exact files."""
        return f"{self.meta.version}+{self.digest[:10]}"

    @functools.cached_property
    def _by_id(self) -> tuple[dict[str, Condition], dict[str, Finding]]:
        return {c.id: c for c in self.conditions}, {f.id: f for f in self.findings}

    def condition(self, condition_id: str) -> Condition:
        return self._by_id[0][condition_id]

    def finding(self, finding_id: str) -> Finding:
        return self._by_id[1][finding_id]


def default_knowledge_dir() -> Path:
    """Directory of the knowledge files shipped inside the package."""
    return Path(str(resources.files("kneesource") / "knowledge"))


def load_knowledge_base(directory: Path | None = None) -> KnowledgeBase:
    """Read, validate and return the knowledge base; raise listing every problem found."""
    directory = directory or default_knowledge_dir()
    problems: list[str] = []
    raw: dict[str, Any] = {}
    digest = hashlib.sha256()
    for stem in SINGLE_FILES:
        raw[stem] = _read_yaml(directory / f"{stem}.yaml", digest, problems)
    for kind, key in LIST_KINDS.items():
        paths = sorted(directory.glob(f"{kind}.yaml")) + sorted(directory.glob(f"{kind}_*.yaml"))
        if not paths:
            problems.append(f"{kind}.yaml: no file for {kind} in {directory}")
        merged: list[Any] = []
        for path in paths:
            data = _read_yaml(path, digest, problems)
            if isinstance(data, dict) and isinstance(data.get(key), list):
                merged.extend(data[key])
            elif data is not None:
                problems.append(f"{path.name}: must hold a top-level list {key!r}")
        raw[kind] = {key: merged}
    if problems:
        raise KnowledgeBaseError(problems)

    meta = _parse(Meta, raw["meta"], "meta.yaml", problems)
    # Items are validated one by one so that one bad item does not hide the problems of the
    # others, and the cross-file rules still run over every valid item.
    references = _parse_items(Reference, raw["references"], "references", "references", problems)
    conditions = _parse_items(Condition, raw["conditions"], "conditions", "conditions", problems)
    findings = _parse_items(Finding, raw["findings"], "findings", "findings", problems)
    roots = _parse_items(Root, raw["anatomy"], "roots", "anatomy.yaml", problems)
    nerves = _parse_items(Nerve, raw["anatomy"], "nerves", "anatomy.yaml", problems)
    links = _parse_items(Link, raw["links"], "links", "links", problems)
    invalid = {
        str(item.get("id"))
        for kind in ("conditions", "findings")
        for item in raw[kind].get(kind, [])
        if isinstance(item, dict) and item.get("id") not in _ids(conditions, findings)
    }
    if meta is None:
        raise KnowledgeBaseError(problems)

    kb = KnowledgeBase(
        meta=meta,
        references={r.id: r for r in references},
        conditions=tuple(conditions),
        findings=tuple(findings),
        roots=tuple(roots),
        nerves=tuple(nerves),
        links=tuple(links),
        digest=digest.hexdigest(),
    )
    problems.extend(
        p
        for p in _cross_file_problems(kb, references)
        if not any(f"{bad!r}" in p or f" {bad}:" in p for bad in invalid)
    )
    if problems:
        raise KnowledgeBaseError(problems)
    return kb


def read_yaml(path: Path) -> Any:
    """One YAML file's content; raise :class:`KnowledgeBaseError` naming the file if it cannot be
    read or parsed (the same messages as for the knowledge files themselves)."""
    problems: list[str] = []
    data = _read_yaml(path, None, problems)
    if problems:
        raise KnowledgeBaseError(problems)
    return data


def _read_yaml(path: Path, digest: Any | None, problems: list[str]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(f"{path.name}: cannot be read ({exc.strerror or exc})")
        return None
    if digest is not None:
        digest.update(path.name.encode() + b"\0" + text.encode())
    try:
        return yamlio.load(text)
    except yamlio.YAMLError as exc:
        problems.append(f"{path.name}: not valid YAML ({exc})")
        return None


def _ids(*groups: Sequence[Condition] | Sequence[Finding]) -> set[str]:
    return {item.id for group in groups for item in group}


def _parse_items(
    model: type[_M], data: object, key: str, name: str, problems: list[str]
) -> list[_M]:
    """Validate each item of the list ``data[key]``; report the bad ones, keep the good ones."""
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        problems.append(f"{name}: must hold a top-level list {key!r}")
        return []
    good: list[_M] = []
    for index, item in enumerate(items):
        try:
            good.append(model.model_validate(item))
        except ValidationError as exc:
            label = f"{key}[{index}]"
            if isinstance(item, dict):
                ident = item.get("id") or (
                    f"{item.get('parent')}->{item.get('child')}" if "parent" in item else None
                )
                label += f" ({ident})" if ident else ""
            for err in exc.errors():
                where = describe_location(item, err["loc"])
                problems.append(f"{name}: {label}.{where}: {err['msg']}")
    return good


def _parse(model: type[_M], data: object, name: str, problems: list[str]) -> _M | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            where = describe_location(data, err["loc"])
            problems.append(f"{name}: {where}: {err['msg']}")
        return None


def describe_location(data: object, loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic location into ``conditions[3] (id=gout).prior.base``."""
    parts: list[str] = []
    node: object = data
    for step in loc:
        if isinstance(step, int) and isinstance(node, list) and 0 <= step < len(node):
            node = node[step]
            label = f"[{step}]"
            if isinstance(node, dict):
                ident = node.get("id") or (
                    f"{node.get('parent')}->{node.get('child')}" if "parent" in node else None
                )
                if ident:
                    label += f" ({ident})"
            parts.append(label)
        else:
            node = node.get(step) if isinstance(node, dict) else None
            parts.append(f".{step}" if parts else str(step))
    return "".join(parts) or "top level"


def _sources(kb: KnowledgeBase) -> Iterator[tuple[str, Source]]:
    yield "meta complaint rate", kb.meta.complaint.rate_source
    yield "meta complaint other causes", kb.meta.complaint.other_causes_source
    for c in kb.conditions:
        yield f"condition {c.id} prior", c.prior.source
        for m in c.prior.modifiers:
            yield f"condition {c.id} {m.factor} modifier", m.source
    for f in kb.findings:
        if f.leak_source is not None:
            yield f"finding {f.id} leak", f.leak_source
    for r in kb.roots:
        yield f"root {r.id}", r.source
        yield f"root {r.id} leak", r.leak_source
    for n in kb.nerves:
        yield f"nerve {n.id}", n.source
    for link in kb.links:
        yield f"link {link.parent}->{link.child}", link.source


def _duplicates(ids: Iterable[str]) -> list[str]:
    return sorted(i for i, n in Counter(ids).items() if n > 1)


def _cross_file_problems(kb: KnowledgeBase, references: list[Reference]) -> list[str]:
    problems: list[str] = []
    condition_ids = {c.id for c in kb.conditions}
    finding_ids = {f.id for f in kb.findings}
    context_ids = {f.id for f in kb.findings if f.kind == "context"}
    root_ids = {r.id for r in kb.roots}
    nerve_ids = {n.id for n in kb.nerves}

    for what, ids in (
        ("reference", [r.id for r in references]),
        ("condition", [c.id for c in kb.conditions]),
        ("finding", [f.id for f in kb.findings]),
        ("root", [r.id for r in kb.roots]),
        ("nerve", [n.id for n in kb.nerves]),
        ("any", [*condition_ids, *finding_ids, *root_ids]),
    ):
        for dup in _duplicates(ids):
            problems.append(f"{what} id {dup!r} is defined more than once")
    if root_ids != set(ROOT_IDS):
        problems.append(f"anatomy.yaml must define exactly the roots {list(ROOT_IDS)}")

    for what, source in _sources(kb):
        if isinstance(source, Citation) and source.ref not in kb.references:
            problems.append(f"{what}: cites unknown reference {source.ref!r}")

    for root in kb.roots:
        for nerve in root.nerves:
            if nerve not in nerve_ids:
                problems.append(f"root {root.id}: unknown nerve {nerve!r}")
    for nerve_rec in kb.nerves:
        for rid in nerve_rec.roots:
            root_rec = next((r for r in kb.roots if r.id == rid), None)
            if root_rec is not None and nerve_rec.id not in root_rec.nerves:
                problems.append(f"nerve {nerve_rec.id} lists root {rid}, which does not list it")

    for c in kb.conditions:
        for key in c.prior.requires:
            if key not in context_ids:
                problems.append(
                    f"condition {c.id}: requires {key!r}, which is not a context finding"
                )
        for m in c.prior.modifiers:
            if isinstance(m, ActivityModifier | HistoryModifier):
                for key in m.odds:
                    if key not in context_ids:
                        problems.append(
                            f"condition {c.id}: {m.factor} modifier {key!r} is not a context "
                            "finding"
                        )

    leaks = {f.id: f.leak for f in kb.findings} | {r.id: r.leak for r in kb.roots}
    seen: set[tuple[str, str]] = set()
    for link in kb.links:
        name = f"link {link.parent}->{link.child}"
        if (link.parent, link.child) in seen:
            problems.append(f"{name}: defined more than once")
        seen.add((link.parent, link.child))
        if link.parent in condition_ids:
            if link.child not in finding_ids and link.child not in root_ids:
                problems.append(f"{name}: unknown child {link.child!r}")
                continue
            if link.child in root_ids and link.form != "probability":
                problems.append(f"{name}: a condition->root link takes a probability")
        elif link.parent in root_ids:
            if link.child not in finding_ids:
                problems.append(f"{name}: a root's child must be a finding")
                continue
        else:
            problems.append(f"{name}: unknown parent {link.parent!r} (a condition or root id)")
            continue
        if link.child in context_ids:
            problems.append(f"{name}: context findings set priors and cannot be linked")
            continue
        leak = leaks.get(link.child)
        if leak is None:
            continue
        try:
            link_weight(link, leak)
        except StrengthError as exc:
            problems.append(f"{name}: {exc}")

    for f in kb.findings:
        for implied in f.implies:
            if implied == f.id:
                problems.append(f"finding {f.id}: implies itself")
            elif implied not in finding_ids:
                problems.append(f"finding {f.id}: implies unknown finding {implied!r}")
    problems += [
        f"finding {f}: implies itself through other findings"
        for f, implied in implications(kb).items()
        if f in implied
    ]
    parents_of = Counter(link.child for link in kb.links)
    children_of = Counter(link.parent for link in kb.links)
    for f in kb.findings:
        if f.triage_only and parents_of[f.id]:
            problems.append(f"finding {f.id}: triage_only, so no condition or root links to it")
        elif f.kind != "context" and not f.triage_only and parents_of[f.id] == 0:
            problems.append(f"finding {f.id}: no condition or root links to it")
    for c in kb.conditions:
        if children_of[c.id] == 0:
            problems.append(f"condition {c.id}: links to no finding or root")
    for r in kb.roots:
        if children_of[r.id] == 0:
            problems.append(f"root {r.id}: links to no finding")
    return problems


def implications(kb: KnowledgeBase) -> dict[str, frozenset[str]]:
    """For each finding, every finding it implies (``implies``, followed through). A finding
    that implies itself through others holds its own id (the load check refuses it)."""
    direct = {f.id: f.implies for f in kb.findings}
    out: dict[str, frozenset[str]] = {}
    for start, first in direct.items():
        seen: set[str] = set()
        stack = list(first)
        while stack:
            f = stack.pop()
            if f not in seen:
                seen.add(f)
                stack.extend(direct.get(f, ()))
        out[start] = frozenset(seen)
    return out
