"""Simulated-patient benchmark of the adaptive interview (seeded; prints a table).

Patients answer every question truthfully ("don't know" for what their case leaves out):

* model patients: drawn from the compiled model itself (person, with each sport as common as the
  sports question's prevalence for the age; conditions from their priors, roots and every
  finding by the noisy-OR links; findings no question asks this person, such as pregnancy in a
  man, are left out); they know every finding a patient can answer.
  Draws with more than ``--max-present`` (default ``MAX_PRESENT``) present findings are redrawn.
  The exact full-information posterior no longer costs 2^(present findings) (a finding only spans
  its first to last cause), but measured on 300 draws (seed 7) it still takes about 10 ms up to
  16 present findings, 30-140 ms at 17-18, seconds at 20-22, and runs out of memory beyond about
  23; and the leak noise of the model makes most draws report many findings (69% of draws have
  more than 12 present, 34% more than 16). The cap keeps the benchmark minutes long; it makes the
  population easier than the model's own, so ``--max-present 16`` is worth running too.
  With ``--dont-know F`` each of them does not know each finding with chance F (drawn apart, so
  the same seed gives the same people) and answers "don't know" to it; full information is then
  what they know;
* vignettes: the project's written cases (``kneesource.evaluation``), when that package exists;
  their people answer "don't know" to what a vignette leaves out, and, as a second group, "no".

Strategies, all on the same questions (patient mode) and the same stopping rule:
``adaptive`` (the interview), ``fixed order`` (next question = first askable in file order) and
``full information`` (every finding a patient could answer, no questions). Reported: median and
90th percentile of questions asked, top-3 hit rate (a present condition among the top three),
top-1 and triage agreement with full information, missed red flags (an urgent or emergency
warning-sign rule of ``redflags.yaml`` fires on full information, and no rule of its condition
at its level or above fires on the interview's answers), how often the interview ends less
urgent than full information when that is urgent or emergency (a red flag missed, or a serious
cause's probability that only the unasked answers together lift over its threshold),
milliseconds per question (choosing each question once the opening and the screen are done:
those cost nothing) and milliseconds to decide to stop (the last step, which also checks every
likely answer with the full triage level, before the full assessment is shown).
"Findings settled" counts what the answers told (a checklist settles up to four findings in one
question, the red-flag screen many), so a short interview cannot hide a long form.

Run: ``.venv/bin/python bench/interview_bench.py [--model-patients N] [--seed S [S ...]]
[--max-present K] [--dont-know F] [--no-vignettes] [--strategies adaptive fixed]``. With several
seeds, N patients are drawn with each and reported together (the sample error of a top-3 rate
is about 2 points on 100 patients, so differences of a point or two need several hundred).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from rich.console import Console

from kneesource.case import Case
from kneesource.commands.evaluate import progress_bar
from kneesource.engine import Engine, default_engine
from kneesource.inference.exact import posterior
from kneesource.interview import answer, start
from kneesource.interview.flow import askable, plan
from kneesource.interview.simulate import simulated_answer
from kneesource.interview.state import State, case_of
from kneesource.interview.triage_link import level_function, question_bank
from kneesource.triage import level_rank

URGENT = level_rank("urgent")
MAX_PRESENT = 12


@dataclass(frozen=True)
class Patient:
    case: Case
    present: frozenset[str]


@dataclass(frozen=True)
class Run:
    questions: int
    top3_hit: bool
    top1_agrees: bool
    triage_agrees: bool
    missed_red_flag: bool  # a rule fires on full information, none of its condition and level here
    below_full_urgency: bool  # full information urgent or emergency, the interview less urgent
    ms_per_question: list[float]  # choosing each adaptive question
    findings_settled: int = 0
    ms_to_stop: float | None = None  # deciding to stop


def answerable(engine: Engine, age: int, sex: str | None) -> frozenset[str]:
    """The findings some patient-mode question can ask this person: full information is what
    the person could tell."""
    return question_bank(engine).findings_for("patient", age, sex)


def model_patients(
    engine: Engine, n: int, seed: int, max_present: int = MAX_PRESENT, dont_know: float = 0.0
) -> list[Patient]:
    """People drawn from the network; at least one condition present (rejection sampling).
    Each finding is unknown to them with chance ``dont_know`` (their sports are always known)."""
    model = engine.model
    rng = np.random.default_rng(seed)
    forget = np.random.default_rng([seed, 1])
    prevalence = {
        str(o.finding): o.prevalence_at
        for q in question_bank(engine).questions
        if q.sets_context()
        for o in q.options
    }
    implied = engine.rules.implied  # what each finding implies, worked out once at load
    out: list[Patient] = []
    while len(out) < n:
        age = int(rng.integers(8, 90))
        sex = "female" if rng.random() < 0.5 else "male"
        acts = {c: bool(rng.random() < share(age)) for c, share in prevalence.items()}
        person = Case(age, sex, acts).person(model)
        cond = rng.random(model.n_conditions) < model.priors(person)
        if not cond.any():
            continue
        off_root = (1 - model.root_leak) * np.prod(
            np.where(cond[:, None], 1 - model.condition_root, 1.0), axis=0
        )
        roots = rng.random(len(model.root_ids)) >= off_root
        off = (
            (1 - model.finding_leak)
            * np.prod(np.where(cond[:, None], 1 - model.condition_finding, 1.0), axis=0)
            * np.prod(np.where(roots[:, None], 1 - model.root_finding, 1.0), axis=0)
        )
        present = rng.random(len(model.finding_ids)) >= off
        can_tell = answerable(engine, age, sex)
        findings = {
            f: bool(v) for f, v in zip(model.finding_ids, present, strict=True) if f in can_tell
        }
        # The network draws each finding on its own, so a draw can hold a finding without one it
        # implies (swelling the next day, but no swollen knee); a person would say both.
        for f in [f for f, v in findings.items() if v]:
            findings.update({g: True for g in implied[f] if g in findings})
        if sum(findings.values()) > max_present:
            continue  # see the module docstring
        if dont_know > 0.0:
            findings = {f: v for f, v in findings.items() if forget.random() >= dont_know}
        findings.update(acts)
        ids = frozenset(c for c, v in zip(model.condition_ids, cond, strict=True) if v)
        out.append(Patient(Case(age, sex, findings, f"model-{len(out)}"), ids))
    return out


def vignette_patients(engine: Engine, unlisted_absent: bool = False) -> list[Patient]:
    """The written cases, without their exam findings. A vignette lists some findings and leaves
    the rest out: its person answers "don't know" to those, or, with ``unlisted_absent``, "no"
    (as someone who can answer every question would, if the vignette lists all they have)."""
    if importlib.util.find_spec("kneesource.evaluation") is None:
        return []
    from kneesource.evaluation.vignettes import load_vignettes

    out = []
    for v in load_vignettes(engine.kb).vignettes:
        case = v.case()
        can_tell = answerable(engine, case.age, case.sex)
        findings = {f: x for f, x in case.findings.items() if f in can_tell}
        if unlisted_absent:
            findings = {f: findings.get(f, False) for f in can_tell}
        out.append(Patient(Case(case.age, case.sex, findings, v.id), frozenset(v.present)))
    return out


Chooser = Callable[[State], str | None]


def adaptive(state: State) -> str | None:
    q = plan(state).question
    return None if q is None else q.id


def fixed_order(state: State) -> str | None:
    p = plan(state)
    if p.question is None:
        return None
    if p.question.phase != "adaptive":
        return p.question.id
    bank = question_bank(default_engine())
    return next(q.id for q in askable(bank, state) if q.phase == "adaptive")


# command-line name: (label in the table, chooser)
STRATEGIES: dict[str, tuple[str, Chooser]] = {
    "adaptive": ("adaptive", adaptive),
    "fixed": ("fixed order", fixed_order),
}


def interview(engine: Engine, patient: Patient, choose: Chooser) -> Run:
    bank = question_bank(engine)
    state = start(engine)
    times: list[float] = []
    stop: float | None = None
    while True:
        t0 = time.perf_counter()
        qid = choose(state)
        elapsed = 1000 * (time.perf_counter() - t0)
        if qid is None:
            stop = elapsed
            break
        if plan(state).baseline is not None:  # timed where inference runs, not the fixed part
            times.append(elapsed)
        state = answer(state, qid, simulated_answer(bank.get(qid), patient.case))
    asked = case_of(bank, state)
    got = outcome(engine, asked)
    run = _score(patient, got, outcome(engine, patient.case), len(state.answers), times)
    return replace(run, findings_settled=len(asked.findings), ms_to_stop=stop)


@dataclass(frozen=True)
class Outcome:
    ranked: list[str]  # conditions ranked as ``assess`` ranks them
    level: int  # the triage rank
    # The urgent and emergency warning-sign rules that fire: (their condition, or their id if
    # they name none; their level's rank).
    red_flags: frozenset[tuple[str, int]]


def outcome(engine: Engine, case: Case) -> Outcome:
    """From the exact posterior (the leave-one-out evidence lists of a full assessment are not
    needed here)."""
    post = posterior(engine.model, case.person(engine.model), case.evidence(engine.model))
    order = np.argsort(-post.conditions, kind="stable")
    rules = engine.rules
    present = frozenset(f for f, v in case.findings.items() if v)
    fired = frozenset(
        (r.condition or r.id, level_rank(r.level))
        for r in rules.rules
        if level_rank(r.level) >= URGENT and rules.matches(r.when, present, case.age) is not None
    )
    ranked = [engine.model.condition_ids[i] for i in order]
    return Outcome(ranked, level_function(engine)(case, post), fired)


def _score(patient: Patient, got: Outcome, full: Outcome, asked: int, times: list[float]) -> Run:
    return Run(
        questions=asked,
        top3_hit=bool(set(got.ranked[:3]) & patient.present),
        top1_agrees=got.ranked[0] == full.ranked[0],
        triage_agrees=full.level == got.level,
        missed_red_flag=any(
            not any(k == key and rank >= level for k, rank in got.red_flags)
            for key, level in full.red_flags
        ),
        below_full_urgency=full.level >= URGENT and got.level < full.level,
        ms_per_question=times,
    )


def full_information(engine: Engine, patient: Patient) -> Run:
    full = outcome(engine, patient.case)
    return _score(patient, full, full, 0, [])


def summary(name: str, runs: Sequence[Run]) -> list[str]:
    qs = [r.questions for r in runs]
    ms = [t for r in runs for t in r.ms_per_question]
    stops = [r.ms_to_stop for r in runs if r.ms_to_stop is not None]
    pct = lambda xs: f"{100 * sum(xs) / len(xs):.1f}%"  # noqa: E731
    settled = [r.findings_settled for r in runs]
    return [
        name,
        f"{statistics.median(qs):.0f}" if any(qs) else "-",
        f"{np.percentile(qs, 90):.0f}" if any(qs) else "-",
        f"{statistics.median(settled):.0f}" if any(settled) else "all",
        pct([r.top3_hit for r in runs]),
        pct([r.top1_agrees for r in runs]),
        pct([r.triage_agrees for r in runs]),
        str(sum(r.missed_red_flag for r in runs)),
        str(sum(r.below_full_urgency for r in runs)),
        f"{statistics.median(ms):.0f} / {np.percentile(ms, 90):.0f}" if ms else "-",
        f"{statistics.median(stops):.0f} / {np.percentile(stops, 90):.0f}" if stops else "-",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-patients", type=int, default=60, help="per seed")
    parser.add_argument("--seed", type=int, nargs="+", default=[20240611])
    parser.add_argument("--max-present", type=int, default=MAX_PRESENT)
    parser.add_argument(
        "--dont-know",
        type=float,
        default=0.0,
        metavar="F",
        help="model patients do not know each finding with this chance (0 to 1)",
    )
    parser.add_argument("--no-vignettes", action="store_true", help="model patients only")
    parser.add_argument(
        "--strategies", nargs="+", choices=STRATEGIES, default=list(STRATEGIES), metavar="NAME"
    )
    args = parser.parse_args()
    if not 0.0 <= args.dont_know < 1.0:
        parser.error(f"--dont-know must be at least 0 and below 1, got {args.dont_know}")
    engine = default_engine()
    # One interview first, unmeasured: the compiled kernels load on first use.
    interview(engine, model_patients(engine, 1, args.seed[0] + 1)[0], adaptive)
    drawn = [
        p
        for seed in args.seed
        for p in model_patients(engine, args.model_patients, seed, args.max_present, args.dont_know)
    ]
    seeds = " ".join(map(str, args.seed))
    unsure = f", each finding unknown with chance {args.dont_know}" if args.dont_know else ""
    groups = {f"model patients (n={len(drawn)}, seed {seeds}{unsure})": drawn}
    vignettes = [] if args.no_vignettes else vignette_patients(engine)
    if vignettes:
        groups[f"vignettes (n={len(vignettes)})"] = vignettes
        groups[f"vignettes, unlisted findings absent (n={len(vignettes)})"] = vignette_patients(
            engine, unlisted_absent=True
        )
    head = [
        "strategy",
        "median q",
        "p90 q",
        "findings settled (median)",
        "top-3 hit",
        "top-1 = full",
        "triage = full",
        "missed red flags",
        "below full urgency",
        "ms per question median / p90",
        "ms to stop median / p90",
    ]
    console = Console(stderr=True)
    for title, patients in groups.items():
        rows = []
        for name in args.strategies:
            label, choose = STRATEGIES[name]
            runs = []
            with progress_bar(console, len(patients), f"{title}: {label}") as advance:
                for p in patients:
                    runs.append(interview(engine, p, choose))
                    advance(1)
            rows.append(summary(label, runs))
        rows.append(summary("full information", [full_information(engine, p) for p in patients]))
        print(f"\n### {title}\n")
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for row in rows:
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
