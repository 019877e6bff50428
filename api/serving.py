"""What the API serves with: one Feast store and one model, swapped as a pair of references.

The store is opened once (Feast caches its registry), the model is loaded with the
FeatureService's feature list as the expected inputs, so a model trained on other features is
refused. A request takes `state.current()` once and uses that snapshot to the end, so a reload
that swaps the reference mid-request never mixes two models in one answer.

If nothing could be loaded at start-up (the pipeline has not run yet), the API still starts,
says "not ready" (503) and retries on later requests at most every `retry_load_seconds`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from feast import FeatureStore

from api.errors import NotReady, ReloadRefused, plain_reason
from api.settings import Settings
from feature_repo.online_reader import OnlineReader
from feature_repo.store import open_store
from modeling.artifact import ArtifactError, LoadedModel, load_model
from modeling.dataset import feature_spec
from modeling.explain import explain
from modeling.fast_path import FastModel, NotCompilable

log = logging.getLogger("api.serving")


@dataclass(frozen=True)
class Serving:
    """A consistent snapshot: the store and the model that answer one request.

    fast: the model compiled to numpy (modeling.fast_path), proven equal to the slow path at
    load; None if the artifact uses something it does not reproduce (then pandas/sklearn).
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


def compile_fast(model: LoadedModel) -> FastModel | None:
    """The compiled fast path, or None (slow path) if it does not reproduce this model."""
    try:
        return FastModel.compile(model)
    except NotCompilable as exc:
        log.warning("model %s served by the slow path: %s", model.version, exc)
        return None
    except Exception as exc:  # not "unsupported" but broken: the slow path could be too
        raise ArtifactError(f"model {model.version} cannot be compiled for serving") from exc


def build_serving(store: FeatureStore, settings: Settings) -> Serving:
    """The snapshot a reload swaps in, proven to answer first (ArtifactError if not)."""
    model = load_checked_model(store, settings)
    cache = ResultCache(settings.result_cache_size) if settings.result_cache_size else None
    online = OnlineReader(store, cache_size=settings.feature_cache_size)
    serving = Serving(store, model, compile_fast(model), online, cache)
    warm_up(serving, settings)
    return serving


def _refuse_constant(token: str) -> None:
    raise ValueError(f"bare {token}")


def warm_up(serving: Serving, settings: Settings) -> None:
    """Score probe rows through api.scoring.score_rows, the function every prediction request
    runs (fast path included), and check the answers are ones a client may be sent: strict
    JSON (no bare NaN), a probability in [0, 1], a threshold in (0, 1), this model's version.

    Loading checks the files and the metadata one by one; this proves the pair of them, as
    served, before the swap, so a model that would answer wrongly is refused (409) instead.
    """
    from api.scoring import ACTIONS, json_bytes, score_rows  # api.scoring imports this module

    model = serving.model
    rows: list[dict] = [dict.fromkeys(model.spec.names)]
    if serving.fast is not None:
        rows += serving.fast.probe_rows()
    try:
        answers = json.loads(
            json_bytes(score_rows(replace(serving, cache=None), rows, settings)),
            parse_constant=_refuse_constant,
        )
    except Exception as exc:
        raise ArtifactError(f"model {model.version} fails its warm-up prediction") from exc
    good = len(answers) == len(rows) and all(
        isinstance(a["probability"], (int, float))
        and 0.0 <= a["probability"] <= 1.0
        and isinstance(a["threshold"], (int, float))
        and 0.0 < a["threshold"] < 1.0
        and a["tier"] in ACTIONS
        and a["model_version"] == model.version
        for a in answers
    )
    if not good:
        raise ArtifactError(f"model {model.version} gives invalid answers in its warm-up")


def _single_threaded(model: LoadedModel) -> LoadedModel:
    """One thread per prediction: requests run concurrently already, and joblib's per-call
    start-up (n_jobs=2) costs more than a forest's single-row prediction."""
    estimator = model.estimator
    if "n_jobs" in estimator.get_params():
        estimator.set_params(n_jobs=1)
    return model


def load_checked_model(store: FeatureStore, settings: Settings) -> LoadedModel:
    """models/current, checked against the FeatureService and exercised once end to end.

    The warm-up scores and explains an all-missing row, so a model that loads but cannot
    predict is refused here, and the first real request does not pay for lazy set-up.
    Every failure is an ArtifactError with a plain message (it may reach a client); the
    chained cause has the details for the log.
    """
    directory = settings.model_dir.resolve()  # follow the symlink once: a stable version
    if not directory.is_dir():
        raise ArtifactError("no promoted model (models/current): has training run?")
    model = _single_threaded(load_model(directory, expected=feature_spec(store)))
    blank = pd.DataFrame([dict.fromkeys(model.spec.names)])
    try:
        probability = model.predict_proba(blank)
        explain(model, blank, top=settings.top_reasons)
    except Exception as exc:
        raise ArtifactError(f"model {model.version} cannot score a row") from exc
    if probability.shape != (1,) or not np.isfinite(probability).all():
        raise ArtifactError(f"model {model.version} does not produce a probability")
    return model


class ServingState:
    """This process's serving snapshot, loaded at start-up and swapped by `reload`.

    `reload` swaps the model in this process only. Under `python -m api` each worker has its
    own state; api/worker_sync.py makes every worker reload through this same method before
    POST /admin/reload answers 200.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._serving: Serving | None = None
        self._store: FeatureStore | None = None
        self._lock = threading.Lock()
        self._last_attempt = float("-inf")
        self.last_error: str | None = None

    def _open_store(self) -> FeatureStore:
        s = self.settings
        return open_store(data_dir=s.feast_data_dir, redis_url=s.redis_url, yaml_path=s.feast_yaml)

    def start(self) -> None:
        """Load at start-up; a failure is logged and reported by /health, not fatal."""
        self._try_load()

    def _try_load(self) -> None:
        with self._lock:
            if self._serving is not None:
                return
            self._last_attempt = time.monotonic()
            try:
                store = self._store or self._open_store()
                self._store = store
                serving = build_serving(store, self.settings)
            except Exception as exc:  # the pipeline may simply not have run yet
                # /health and the 503 tell clients the plain reason; paths and traces are
                # for the operator's log
                self.last_error = plain_reason(exc)
                log.error("model or feature store not loaded: %s: %s", type(exc).__name__, exc)
                return
            self._serving = serving
            self.last_error = None
            log.info(
                "serving model %s from %s (%s path)",
                serving.model.version,
                serving.model.directory,
                "fast" if serving.fast else "slow",
            )

    def current(self) -> Serving:
        serving = self._serving
        if serving is None:
            if time.monotonic() - self._last_attempt >= self.settings.retry_load_seconds:
                self._try_load()
            serving = self._serving
            if serving is None:
                raise NotReady(self.last_error or "model not loaded")
        return serving

    @property
    def loaded(self) -> Serving | None:
        return self._serving

    def reload(self) -> tuple[str | None, LoadedModel]:
        """Load models/current again; on any problem keep serving the old model."""
        with self._lock:
            previous = self._serving
            try:
                store = self._store or self._open_store()
                store.refresh_registry()  # a `feast apply` since start-up may change the list
                serving = build_serving(store, self.settings)
            except Exception as exc:
                raise ReloadRefused(f"{type(exc).__name__}: {exc}") from exc
            self._store = store
            self._serving = serving  # the swap: one reference assignment
            model = serving.model
            self.last_error = None
        log.info("reloaded: now serving model %s", model.version)
        return (previous.model.version if previous else None), model
