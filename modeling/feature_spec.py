"""The model's inputs as a plain value: names and Feast types in FeatureService order.

Kept apart from modeling.dataset (which reads it from the Feast registry) so that loading a
model, in the API and in every batch-scoring process, does not import Feast: 8 of the 13 CPU
seconds a scoring process spent on imports.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FeatureSpec:
    """The model's inputs, in FeatureService order, split by kind."""

    service: str
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    types: dict[str, str]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.types)
