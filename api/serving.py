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
from dataclasses import replace

import numpy as np
import pandas as pd
from feast import FeatureStore

from api.errors import NotReady, ReloadRefused, plain_reason
from api.scoring import ACTIONS, json_bytes, score_rows
from api.settings import Settings
from api.snapshot import ResultCache, Serving
from feature_repo.online_reader import OnlineReader
from feature_repo.store import open_store
from modeling.artifact import ArtifactError, LoadedModel, load_model
from modeling.dataset import feature_spec
from modeling.explain import explain
from modeling.fast_path import compile_or_none, library_path_warning, probe_rows

log = logging.getLogger("api.serving")


def build_serving(store: FeatureStore, settings: Settings) -> Serving:
    """The snapshot a reload swaps in, proven to answer first (ArtifactError if not).

    A fast path that compiles but fails the warm-up is dropped the same way: the library
    path is warmed up instead.
    """
    model = load_checked_model(store, settings)
    cache = ResultCache(settings.result_cache_size) if settings.result_cache_size else None
    online = OnlineReader(store, cache_size=settings.feature_cache_size)
    serving = Serving(store, model, compile_or_none(model), online, cache)
    if serving.fast is not None:
        try:
            warm_up(serving, settings)
            return serving
        except ArtifactError as exc:
            library_path_warning(model, exc.__cause__ or exc)
            serving = replace(serving, fast=None)
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
    model = serving.model
    rows = probe_rows(model)
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
                "fast" if serving.fast else "library",
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
