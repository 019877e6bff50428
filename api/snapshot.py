"""The serving snapshot: the store and the model that answer one request, as one value,
with the cache of answers that belongs to it.

Its own module so that api.scoring (which reads a snapshot) and api.serving (which builds
them and proves them through api.scoring) both import it without importing each other.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the snapshot is built in api.serving
    from feast import FeatureStore

    from feature_repo.online_reader import OnlineReader
    from modeling.artifact import LoadedModel
    from modeling.fast_path import FastModel


@dataclass(frozen=True)
class Serving:
    """A consistent snapshot: the store and the model that answer one request.

    fast: the model compiled to numpy (modeling.fast_path), proven against the libraries at
    load; None: the library path (pandas, scikit-learn, XGBoost's own contributions).
    online: the FeatureService's views resolved once (feature_repo.online_reader), None: Feast's
    get_online_features per request.
    """

    store: FeatureStore
    model: LoadedModel
    fast: FastModel | None = None
    online: OnlineReader | None = None
    cache: ResultCache | None = None


class ResultCache:
    """Scored answers by (customer id, features-as-of, feature values) for one snapshot (so
    one model version): the same inputs give the same answer. Bounded; the oldest entries
    go first. A reload builds a new snapshot, so a new model never answers from the cache."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: dict[tuple, dict] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple) -> dict | None:
        return self._entries.get(key)

    def put(self, key: tuple, value: dict) -> None:
        with self._lock:
            while len(self._entries) >= self.size:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = value
