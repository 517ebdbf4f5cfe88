"""Pictures of the leg and lower back, as SVG drawn from shapes (no images, no scripts inside).

``svg(regions)``: the body map of a question, front and back views of the right leg with the
places a question's options name; each is tied to its option's checkbox (``data-option``), which
stays the control a keyboard or screen reader uses. ``source_svg(group, root)``: where the pain
comes from, shaded on the same outline: the knee, the hip, the blood vessels behind the knee, or
the lower back with the skin area (dermatome) of the most likely nerve root.
"""

from __future__ import annotations

from html import escape

# Finding id -> region of the map.
REGIONS: dict[str, str] = {
    "pain_front_of_knee": "kneecap",
    "pain_below_kneecap": "below_kneecap",
    "pain_inner_knee": "inner_knee",
    "pain_outer_knee": "outer_knee",
    "pain_back_of_knee": "back_of_knee",
    "pain_front_of_thigh": "front_thigh",
    "pain_inner_thigh": "inner_thigh",
    "pain_back_of_thigh": "back_thigh",
    "calf_pain": "calf",
    "groin_pain": "groin",
    "buttock_pain": "buttock",
    "back_pain": "lower_back",
    "pain_spreads_below_knee": "lower_leg",
    "pain_inner_shin_ankle": "inner_shin",
    "pain_outer_leg_top_of_foot": "outer_leg",
    "pain_sole_or_heel": "sole",
}

# Front view at x 0-200, back view at x 220-420 (a right leg: the inner side is on the left of
# the front view and on the right of the back view).
_SHAPES: dict[str, str] = {
    "groin": '<ellipse cx="78" cy="58" rx="16" ry="10"/>',
    "front_thigh": '<path d="M92 62 L132 62 L124 176 L96 176 Z"/>',
    "inner_thigh": '<path d="M64 70 L90 64 L94 176 L74 178 Z"/>',
    "kneecap": '<circle cx="102" cy="200" r="13"/>',
    "inner_knee": '<path d="M72 186 L88 188 L88 214 L74 216 Z"/>',
    "outer_knee": '<path d="M116 188 L132 186 L130 216 L116 214 Z"/>',
    "below_kneecap": '<ellipse cx="102" cy="226" rx="12" ry="8"/>',
    "lower_leg": '<path d="M80 238 L124 238 L118 360 L88 360 Z"/>',
    "inner_shin": '<path d="M78 240 L94 240 L94 372 L84 372 Z"/>',
    "outer_leg": (
        '<path d="M112 240 L126 240 L120 372 L110 372 Z M104 376 L134 382 L132 392 L104 390 Z"/>'
    ),
    "lower_back": '<rect x="262" y="6" width="116" height="30" rx="8"/>',
    "buttock": '<ellipse cx="336" cy="60" rx="38" ry="22"/>',
    "back_thigh": '<path d="M300 84 L352 84 L344 180 L308 180 Z"/>',
    "back_of_knee": '<ellipse cx="326" cy="204" rx="17" ry="12"/>',
    "calf": '<ellipse cx="326" cy="268" rx="21" ry="40"/>',
    "sole": '<ellipse cx="326" cy="392" rx="16" ry="8"/>',
}
_LABELS: dict[str, str] = {
    "groin": "groin",
    "front_thigh": "front of thigh",
    "inner_thigh": "inner thigh",
    "kneecap": "kneecap",
    "inner_knee": "inner knee",
    "outer_knee": "outer knee",
    "below_kneecap": "below kneecap",
    "lower_leg": "lower leg",
    "inner_shin": "inner shin",
    "outer_leg": "outer leg and foot",
    "lower_back": "lower back",
    "buttock": "buttock",
    "back_thigh": "back of thigh",
    "back_of_knee": "back of knee",
    "calf": "calf",
    "sole": "sole and heel",
}
_OUTLINE = (
    # front: hip, thigh, knee, lower leg, foot
    '<path class="outline" fill="#f4f1ee" stroke="#7a6f66" '
    'd="M60 40 Q100 24 140 40 L132 180 Q136 200 130 226 L120 370 L136 384 '
    'L134 396 L100 394 L96 372 L84 370 L70 226 Q64 200 72 180 Z"/>'
    # back: lower back, pelvis, thigh, knee, calf, heel
    '<path class="outline" fill="#f4f1ee" stroke="#7a6f66" '
    'd="M258 4 L382 4 L384 40 Q378 82 356 86 L346 184 Q354 204 348 226 '
    'L340 370 L344 396 L308 396 L312 370 L304 226 Q298 204 306 184 L296 86 Q274 82 256 40 Z"/>'
    '<text x="100" y="16" class="view" fill="#4a5360" font-size="14" text-anchor="middle">front'
    '</text><text x="320" y="416" class="view" fill="#4a5360" font-size="14" '
    'text-anchor="middle">back</text>'
)
# Skin areas of the nerve roots on the same outline (approximate, after the ISNCSCI key points).
_DERMATOMES: dict[str, str] = {
    "L2": '<path d="M66 62 L134 62 L130 120 L70 122 Z"/>',
    "L3": '<path d="M70 122 L130 120 L126 176 L118 214 L74 216 L74 178 Z"/>',
    "L4": '<path d="M74 216 L102 220 L96 374 L82 372 Z"/>',
    "L5": '<path d="M104 220 L130 216 L120 372 L104 374 Z M98 376 L136 384 L134 396 L100 394 Z"/>',
    "S1": '<path d="M306 232 L346 232 L340 368 L312 368 Z M308 384 L344 384 L344 398 L308 398 Z"/>',
}
_SOURCE_SHAPES: dict[str, list[str]] = {
    "knee": ["kneecap", "inner_knee", "outer_knee", "below_kneecap", "back_of_knee"],
    "hip": ["groin", "buttock"],
    "vascular": ["back_of_knee", "calf"],
    "spine": ["lower_back"],
    "other": ["calf"],
}


def region_of(finding: str | None) -> str | None:
    return REGIONS.get(finding) if finding else None


def svg(regions: dict[str, str]) -> str:
    """The body map for a question: ``regions`` maps a region to the option that names it."""
    parts = [_head("Body map: the places this question asks about, front and back of the leg")]
    parts.append(_OUTLINE)
    for region, shape in _SHAPES.items():
        option = regions.get(region)
        if option is None:
            parts.append(f'<g class="region idle" fill="none">{shape}</g>')
            continue
        label = escape(_LABELS[region])
        parts.append(
            f'<g class="region active" fill="#d7e6f7" stroke="#0b5cad" '
            f'data-option="{escape(option)}"><title>{label}</title>'
            f"{shape}</g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def source_svg(group: str, root: str | None = None) -> str:
    """Where the pain comes from, shaded: the source group's places, and for the spine the
    most likely root's skin area."""
    what = {
        "knee": "the knee itself",
        "hip": "the hip, felt at the knee",
        "vascular": "the blood vessels behind the knee and in the calf",
        "spine": f"the lower back{f', nerve root {root}' if root else ''}, felt along the leg",
        "other": "muscle, nerve or bone of the leg",
    }[group]
    parts = [_head(f"Where the answers point: {what}"), _OUTLINE]
    for region in _SOURCE_SHAPES.get(group, []):
        parts.append(
            f'<g class="source" fill="#d1495b" fill-opacity="0.8" stroke="#7d1222">'
            f"{_SHAPES[region]}</g>"
        )
    if group == "spine" and root in _DERMATOMES:
        parts.append(
            f'<g class="dermatome" fill="#9b5fc0" fill-opacity="0.55" stroke="#6b2c91">'
            f"{_DERMATOMES[root]}</g>"
        )
        parts.append(
            f'<text x="200" y="300" class="root" fill="#6b2c91" font-size="22" '
            f'font-weight="bold" text-anchor="middle">{escape(root)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _head(title: str) -> str:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 420 420" class="bodymap" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )
