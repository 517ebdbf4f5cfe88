"""Reading YAML: LibYAML's C parser where PyYAML was built with it (about ten times faster on the
knowledge files), the pure-Python parser otherwise; both are the safe loader."""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAMLError = yaml.YAMLError


def load(text: str) -> Any:
    """The document in ``text``, with the tags of YAML's safe schema only."""
    return yaml.load(text, Loader=SafeLoader)
