"""A condition a clinician would list is in the top five when its defining findings are present.

Each presentation names the clinical source of the expectation (the evidence brief's section,
and the guideline or paper it cites). The ages and sexes span the range the source gives, so a
prior that is right for one age and wrong for the next is caught. Presentations the knowledge
base does not yet rank well are listed as strict expected failures with the reason: they fail
today, and the suite says so the day they are fixed."""

from __future__ import annotations

import pytest

from kneesource.case import Case
from kneesource.engine import default_engine

ENGINE = default_engine()
Presentation = tuple[str, int, str, tuple[str, ...]]


def rank(condition: str, age: int, sex: str, present: tuple[str, ...]) -> int:
    a = ENGINE.assess(Case(age, sex, dict.fromkeys(present, True)))  # type: ignore[arg-type]
    return [c.id for c in a.conditions].index(condition) + 1


def _cases(condition: str, ages: range | list[int], present: tuple[str, ...]) -> list[Presentation]:
    return [(condition, age, sex, present) for age in ages for sex in ("female", "male")]


# NICE NG158 (evidence brief 1.17): one-sided calf pain and swelling is a suspected DVT at any
# adult age.
CLOT = _cases("dvt", [20, 30, 45, 60, 75], ("calf_pain", "calf_swelling"))
# Evidence brief 1.17 (ruptured Baker's cyst mimics a clot: 1.2% against 38.1% DVT among swollen
# legs referred to a vascular clinic): with a lump behind the knee both stay on the list.
CYST_OR_CLOT = [
    (c, age, "female", ("lump_behind_knee", "calf_pain", "calf_swelling"))
    for c in ("dvt", "bakers_cyst_rupture")
    for age in (45, 60, 75)
]
# Evidence brief 1.5 (Perry 2017, Matava 1999, Loder) and Peck 2017 (slips usually at 8-15): a
# child of 9-16 with knee pain and a limp has a slipped epiphysis until the hip is examined.
SLIP = _cases("slipped_capital_femoral_epiphysis", range(9, 17), ("pain_front_of_knee", "limp"))
# Loder 2011 (Perthes, ages 4-10) and NICE CKS limp in children: a limp with a painful, stiff hip.
PERTHES = _cases(
    "perthes_disease", range(4, 10), ("limp", "hip_internal_rotation_reduced_or_painful")
)
# Harrison 2014 and Feng 2024 (transient synovitis: mean age 5.4-6.0, three boys to one girl)
# and Queensland's limp guideline (the commonest cause of an acute limp): a young child with a
# limp and a hip that hurts when turned in has an irritable hip on the list.
IRRITABLE_HIP = _cases(
    "transient_synovitis_hip", range(3, 9), ("limp", "hip_internal_rotation_reduced_or_painful")
)
# Kocher 1999 (fever and not bearing weight, two of the four predictors) and Queensland's limp
# guideline (an orthopaedic emergency): a feverish child who will not stand on the leg.
INFECTED_HIP = _cases(
    "septic_arthritis_hip", [1, 3, 5, 7, 9], ("fever_or_unwell", "unable_to_bear_weight")
)
# Evidence brief 1.5 (Dibra 2017): groin pain and painful hip rotation in an older adult.
HIP_OA = _cases(
    "hip_osteoarthritis",
    [55, 65, 75, 85],
    ("groin_pain", "hip_internal_rotation_reduced_or_painful"),
)
# Evidence brief red flags: a fall, then unable to bear weight, in an older person.
HIP_FRACTURE = _cases(
    "hip_fracture", [70, 80, 90], ("injury_fall", "unable_to_bear_weight", "groin_pain")
)
# Evidence brief red flags (hot swollen joint: septic arthritis until shown otherwise).
SEPTIC = _cases("septic_arthritis", [8, 30, 60, 85], ("hot_swollen_knee", "fever_or_unwell"))
# Evidence brief 1.20: a pulsating lump behind the knee in an older man is a popliteal aneurysm.
ANEURYSM = [
    ("popliteal_artery_aneurysm", age, "male", ("pulsatile_lump_behind_knee",))
    for age in (55, 65, 75, 85)
] + [
    # The same brief and the triage's lump rule (a lump behind the knee from middle age is
    # examined for an aneurysm): a lump not said to pulse, in a man of 64, still lists it.
    ("popliteal_artery_aneurysm", 64, "male", ("lump_behind_knee",))
]
# Evidence brief 1.20 (Altinsoy 2018): exercise-induced calf pain in a young athlete.
ENTRAPMENT = [
    (
        "popliteal_artery_entrapment",
        age,
        "male",
        ("calf_pain_on_exertion_young_athlete", "calf_pain"),
    )
    for age in (18, 25)
]
# Evidence brief 1.1: L3/L4 root signs (front of thigh, numb inner knee, femoral stretch).
ROOT = _cases(
    "lumbar_disc_herniation",
    [30, 45, 60],
    ("back_pain", "pain_front_of_thigh", "numbness_inner_knee", "femoral_stretch_positive"),
)
# Evidence brief 1.3: leg pain on walking eased by sitting, with back pain, from 60.
STENOSIS = _cases(
    "lumbar_spinal_stenosis", [60, 70, 80], ("leg_pain_walking_eased_sitting", "back_pain")
)
# Evidence brief red flags (GIRFT cauda equina pathway): saddle numbness with bladder change.
CAUDA = _cases(
    "cauda_equina_syndrome",
    [30, 50, 70],
    ("back_pain", "saddle_numbness", "bladder_or_bowel_change"),
)

# NICE NG158 and the evidence brief's same-day tier: one swollen lower leg after a long journey
# is a suspected clot (Cannegieter 2006: travel doubles the risk), in women and men of any
# adult age.
SWOLLEN_LEG_AFTER_TRAVEL = _cases("dvt", [25, 45, 65], ("leg_swelling", "recent_long_travel"))
# Lesher 2008 (hip-joint pain felt in the buttock, thigh and groin) and the brief's hip section:
# an older person with hip pain after a fall has a broken hip until an X-ray says otherwise.
HIP_PAIN_AFTER_FALL = _cases("hip_fracture", [70, 80, 90], ("injury_fall", "hip_pain"))
# Evidence brief 1.20 (Altinsoy 2018): exercise-induced calf pain in a young athlete, said as
# claudication (walking brings on the pain, standing still eases it).
CLAUDICATION_YOUNG = [
    ("popliteal_artery_entrapment", age, "male", ("calf_claudication", "calf_pain"))
    for age in (18, 25)
]
# NICE QS52 and Selvin 2004 (prevalence from 2.5% at 50-59 to 14.5% from 70): a calf that aches
# after a set walking distance and eases on standing still (Nadeau 2013: calf pain relieved by
# standing, LR 20 for vascular over neurogenic claudication) in an older adult is narrowed leg
# arteries until the pulses and an ankle pressure test say otherwise.
CLAUDICATION_OLDER = _cases("arterial_claudication", [55, 65, 75, 85], ("calf_claudication",))

# Gaulrapp 1999 and Flecca 2007 (tennis leg: a sudden snap in the calf during sport, pain on
# pressing it, in adults of about 35-60): a torn calf muscle is on the list beside the clot.
CALF_TEAR = _cases(
    "calf_muscle_tear", [35, 47, 60], ("calf_pop_during_activity", "calf_pain", "calf_tenderness")
)
# The BMUS 2017 case series (a clot beside a torn gastrocnemius) and NICE NG158: with a swollen
# calf the clot stays on the list even when a snap in the calf explains the pain.
CALF_TEAR_OR_CLOT = [
    ("dvt", age, sex, ("calf_pop_during_activity", "calf_pain", "calf_swelling"))
    for age, sex in ((40, "female"), (40, "male"), (55, "female"), (55, "male"))
]

# Robertson and Wood 2017 (femoral neck stress fractures in sport): to be considered in every
# athlete with exercise-related hip or groin pain; commonest in runners (Clement 1993: 89%).
RUNNER_GROIN = ("activity_running", "groin_pain", "pain_worse_with_activity_better_rest")
HIP_STRESS_FRACTURE = [
    ("femoral_stress_fracture", age, sex, RUNNER_GROIN)
    for age, sex in (
        (16, "female"),
        (16, "male"),
        (22, "female"),
        (22, "male"),
        (30, "female"),
        (30, "male"),
    )
]

# Stambough 2019 (instability after a knee replacement: giving way, worst on stairs) and
# Beswick 2012 (about one in five has lasting pain after the operation): a replaced knee that
# gives way on the stairs is a problem of the implant until examined.
KNEE_REPLACEMENT = _cases(
    "knee_replacement_problem",
    [55, 65, 75, 85],
    ("prosthetic_knee", "giving_way", "pain_stairs_squatting"),
)
# Sekul (Medscape) and Parisi 2011: burning or numbness of the outer thigh is the presenting
# symptom of meralgia paraesthetica, from young adults to the mean age at diagnosis (50) and past
# it.
MERALGIA = _cases("meralgia_paraesthetica", [25, 45, 60], ("outer_thigh_burning_numbness",))
# Slipman 2000 (buttock 94%, low back 72% in injection-confirmed sacroiliac pain, ages 20-75)
# and Laslett 2005 (three of six provocation tests, sensitivity 94%): the joint is on the list.
SACROILIAC = _cases(
    "sacroiliac_joint_pain",
    [20, 40, 55, 70],
    ("buttock_pain", "back_pain", "sacroiliac_provocation_positive"),
)

# NHS (a dislocated kneecap often goes back by itself), Sillanpaa 2008 (a haemarthrosis in all)
# and Maenpaa 2002 (a twist on a planted foot in 82%): a kneecap that went out after a twist,
# from childhood to middle age (first dislocations peak at 14-18, Sanders 2018).
PATELLAR_DISLOCATION = _cases(
    "patellar_dislocation",
    [12, 16, 25, 40],
    ("injury_twist", "knee_or_kneecap_dislocated", "swelling_within_hours"),
)
# Boyce 2015 (knee dislocations often reduce before they are seen; the artery is checked in
# every one) and Treiman 1992 (an abnormal foot pulse in 25%): a knee that went out in a
# high-energy accident, with the foot pulses gone.
KNEE_DISLOCATION = _cases(
    "knee_dislocation",
    [20, 35, 55, 75],
    ("injury_high_energy", "knee_or_kneecap_dislocated", "absent_foot_pulses"),
)
# Creager 2012 (the six signs: sudden pain, pallor, pulselessness...): sudden severe pain with a
# cold, pale leg is acute limb ischaemia, at any adult age though mostly over 70 (Grip 2018).
LIMB_ISCHAEMIA = _cases(
    "acute_limb_ischaemia",
    [40, 60, 75, 90],
    ("sudden_severe_leg_pain", "cold_pale_leg", "absent_foot_pulses"),
)

# Schulz 2003 (a dashboard blow in 35%) and Rubinstein 1994 (the posterior drawer test, 90% and
# 99%): a blow to the front of the shin with a positive posterior drawer, at the ages of injury.
PCL = _cases("pcl_injury", [18, 27, 40, 55], ("injury_direct_blow", "posterior_drawer_positive"))
# Cornwall pathway (not able to lift the straight leg after an injury: the extensor mechanism)
# and Garner 2015 (tendon ruptures from 40 to 60): a fall, then the straight leg cannot be lifted.
EXTENSOR = [
    ("extensor_mechanism_rupture", age, "male", ("injury_fall", "unable_to_straight_leg_raise"))
    for age in (40, 55, 70)
]
# Segal 2007 (hip pain with a tender trochanter: 23.5% of women and 8.5% of men aged 50-79) and
# Brinks 2011 (highest at 40-60; worse lying on the affected side): an adult with pain at the side
# of the hip and a tender greater trochanter has it on the list.
TROCHANTER = _cases(
    "greater_trochanteric_pain", [40, 50, 60, 70, 80], ("hip_pain", "greater_trochanter_tenderness")
)

PRESENTATIONS = (
    CLOT
    + HIP_STRESS_FRACTURE
    + CALF_TEAR
    + CALF_TEAR_OR_CLOT
    + SWOLLEN_LEG_AFTER_TRAVEL
    + HIP_PAIN_AFTER_FALL
    + CLAUDICATION_YOUNG
    + CLAUDICATION_OLDER
    + CYST_OR_CLOT
    + SLIP
    + PERTHES
    + IRRITABLE_HIP
    + INFECTED_HIP
    + HIP_OA
    + HIP_FRACTURE
    + SEPTIC
    + ANEURYSM
    + ENTRAPMENT
    + ROOT
    + STENOSIS
    + CAUDA
    + KNEE_REPLACEMENT
    + MERALGIA
    + SACROILIAC
    + PATELLAR_DISLOCATION
    + KNEE_DISLOCATION
    + LIMB_ISCHAEMIA
    + PCL
    + EXTENSOR
    + TROCHANTER
)


@pytest.mark.parametrize(("condition", "age", "sex", "present"), PRESENTATIONS)
def test_listed_in_the_top_five(
    condition: str, age: int, sex: str, present: tuple[str, ...]
) -> None:
    assert rank(condition, age, sex, present) <= 5


def not_yet(
    condition: str, age: int, sex: str, present: tuple[str, ...], reason: str, name: str
) -> object:
    """A presentation the knowledge base does not rank in the top five yet, and why: a strict
    expected failure, so the suite says so the day it passes."""
    mark = pytest.mark.xfail(strict=True, reason=reason)
    return pytest.param(condition, age, sex, present, marks=mark, id=name)


NOT_YET = [
    *(
        not_yet(
            "extensor_mechanism_rupture",
            age,
            "female",
            ("injury_fall", "unable_to_straight_leg_raise"),
            "about nine in ten tendon ruptures are in men (Garner 2015), so a woman's odds are "
            "a fifth of the average; a broken kneecap explains the lost straight-leg raise and "
            "the causes every person with knee pain carries come next (7th at 40, 16th at 70)",
            f"extensor-female-{age}",
        )
        for age in (40, 55, 70)
    ),
    *(
        not_yet(
            "meralgia_paraesthetica",
            75,
            sex,
            ("outer_thigh_burning_numbness",),
            "at 75 knee and hip osteoarthritis, a meniscus tear, stenosis and cramp carry more "
            "prior than an outer-thigh symptom alone overcomes (sixth, 8.7%); with the pelvic "
            "compression test it is first",
            f"meralgia-{sex}-75",
        )
        for sex in ("female", "male")
    ),
    *(
        not_yet(
            "femoral_stress_fracture",
            age,
            sex,
            RUNNER_GROIN,
            "the knee causes every person with knee pain carries (a runner's patellofemoral "
            "pain, ITB syndrome, a meniscus) come first, then osteoarthritis at 40; the stress "
            "fracture's odds outside 10-34 are estimates "
            "from a series whose patients were mostly younger (mean age 21)",
            f"hip-stress-fracture-{sex}-{age}",
        )
        for age, sex in ((40, "female"), (40, "male"))
    ),
    *(
        not_yet(
            "slipped_capital_femoral_epiphysis",
            age,
            "female",
            ("pain_inner_knee", "limp"),
            "a limp lifts a slip only to about 5% at these ages; the inner knee is not linked "
            "to a slip, and linking it (0.25) alone still leaves it sixth",
            f"slip-inner-{age}",
        )
        for age in (11, 14)
    ),
    *(
        not_yet(
            "popliteal_artery_entrapment",
            age,
            sex,
            ("calf_pain_on_exertion_young_athlete", "calf_pain"),
            "the prior is raised only for ages 10-34 and has no sex modifier; exertional calf "
            "pain is also read as cramp, so it ranks below fifth",
            f"entrapment-{sex}-{age}",
        )
        for age, sex in ((25, "female"), (35, "male"))
    ),
    not_yet(
        "septic_arthritis",
        67,
        "female",
        ("knee_swelling", "knee_warmth"),
        "a swollen, warm knee without the words 'hot, swollen, too painful to move' ranks a "
        "joint infection seventh",
        "septic-warm-swollen-67",
    ),
]


@pytest.mark.parametrize(("condition", "age", "sex", "present"), NOT_YET)
def test_not_yet_in_the_top_five(
    condition: str, age: int, sex: str, present: tuple[str, ...]
) -> None:
    assert rank(condition, age, sex, present) <= 5
