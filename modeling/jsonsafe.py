"""Strict JSON for what the modeling code writes: a bare NaN is not JSON.

A light module (no model libraries), so the promotion history can be written and read by
commands that must start fast (`python -m modeling.rollback --help`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def strict_json(value: Any) -> Any:
    """A non-finite float becomes null: what is written stays strict JSON (a bare NaN is not)."""
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return None
    return value
