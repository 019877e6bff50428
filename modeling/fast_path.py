"""Serving's hot path: a loaded artifact's preprocessing compiled to numpy, proven at load.

`LoadedModel.predict_proba` and `modeling.explain.explain` go through pandas, the fitted
ColumnTransformer and scikit-learn's input validation: ~3 ms for one row, too dear for
serving. `FastModel(model)` reads the fitted parameters once (imputer statistics and missing
indicators, scaler means and scales, one-hot categories including the infrequent bucket) and
then turns raw feature rows (dicts as Feast returns them) into the model matrix with a few
numpy operations (35 µs a row). The rest is the libraries' own or shared:

- the raw score: XGBoost's `Booster.inplace_predict` (what `XGBClassifier.predict_proba`
  calls, without its per-call validation), a forest's modeling.forest_paths (the walk its
  explanations use), else the estimator's `predict_proba`;
- the calibrator: the isotonic thresholds with np.interp (what IsotonicRegression.predict
  does through scipy's interp1d, ten times dearer per call);
- the reasons: modeling.explain.Explainer, the one implementation per model kind, with
  XGBoost's TreeSHAP values computed by modeling.treeshap (4x cheaper than `pred_contribs`).

`FastModel.compile` checks all of it against the libraries, not against itself, on probe rows
(blank, every known category and an unseen one, a spread of numbers): the matrix against the
ColumnTransformer, the probabilities against `LoadedModel.predict_proba` (calibrator
included), and the contributions against XGBoost's `pred_contribs`, or for scikit-learn models
their sum against `decision_function` (logistic) or `predict_proba` (forest). Anything it does
not recognise or any difference raises NotCompilable; api.serving then serves the model
through the library path (and logs one warning), never a different answer.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from modeling import treeshap
from modeling.explain import (
    CONTRIBUTIONS,
    FOREST_TREE_PATHS,
    LINEAR_COEFFICIENTS,
    MISSING,
    XGBOOST_SHAP,
    Explainer,
    Explanation,
    iteration_range,
    method_for,
)
from modeling.forest_paths import forest_paths

# how close the fast path must come to the libraries on the probe rows
PROBABILITY_TOLERANCE = 1e-9
CONTRIBUTION_TOLERANCE = 1e-4  # TreeSHAP sums hundreds of float32 leaf values


class NotCompilable(RuntimeError):
    """The artifact uses something the fast path does not reproduce; use the library path."""


# ---- inputs: raw values → numbers and category strings, as as_model_input does -------------


def _as_number(value: Any) -> float:
    """pd.to_numeric(errors="coerce") for one value: None/unparseable → NaN, bool → 0/1."""
    if value is None:
        return math.nan
    if isinstance(value, (int, float)):  # bool is an int
        return float(value)
    number = pd.to_numeric(pd.Series([value], dtype=object), errors="coerce").iloc[0]
    return float(number)


def _as_category(value: Any) -> str:
    """Missing (None, NaN) → "__missing__", anything else its str(), as as_model_input does."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return value if isinstance(value, str) else str(value)


# ---- the ColumnTransformer ------------------------------------------------------------------

Block = Callable[[np.ndarray, list[list[str]], np.ndarray], None]


def _numeric_step(step: Any) -> Callable[[np.ndarray], np.ndarray]:
    name = type(step).__name__
    if name == "SimpleImputer":
        missing = step.missing_values
        if not (isinstance(missing, float) and math.isnan(missing)):
            raise NotCompilable("SimpleImputer with missing_values other than NaN")
        if step.strategy not in ("mean", "median", "most_frequent", "constant"):
            raise NotCompilable(f"SimpleImputer strategy {step.strategy}")
        statistics = np.asarray(step.statistics_, dtype=np.float64)
        keep = np.ones(statistics.shape[0], dtype=bool)
        if not step.keep_empty_features:
            keep = ~np.isnan(statistics)
        statistics = statistics[keep]
        indicator = getattr(step, "indicator_", None) if step.add_indicator else None
        flagged = None if indicator is None else np.asarray(indicator.features_, dtype=np.intp)

        def impute(x: np.ndarray) -> np.ndarray:
            mask = np.isnan(x)
            filled = np.where(mask[:, keep], statistics, x[:, keep])
            if flagged is None:
                return filled
            return np.hstack([filled, mask[:, flagged].astype(np.float64)])

        return impute
    if name == "StandardScaler":
        mean = None if step.mean_ is None or not step.with_mean else step.mean_
        scale = None if step.scale_ is None or not step.with_std else step.scale_

        def standardise(x: np.ndarray) -> np.ndarray:
            x = x.copy()
            if mean is not None:
                x -= mean
            if scale is not None:
                x /= scale
            return x

        return standardise
    if name == "FunctionTransformer" and step.func is None:  # how a fitted passthrough looks
        return lambda x: x
    raise NotCompilable(f"numeric step {name}")


def _one_hot(encoder: Any, n_features: int) -> list[tuple[dict[str, int], int]]:
    """Per input feature: {category: column offset}, and the width of its output block."""
    if type(encoder).__name__ != "OneHotEncoder":
        raise NotCompilable(f"categorical transformer {type(encoder).__name__}")
    if getattr(encoder, "drop_idx_", None) is not None:
        raise NotCompilable("OneHotEncoder with drop")
    if encoder.handle_unknown not in ("ignore", "infrequent_if_exist"):
        raise NotCompilable(f"OneHotEncoder handle_unknown={encoder.handle_unknown}")
    # the public attribute: an AttributeError (so None here) when no infrequent bucket is fitted
    infrequent_all = getattr(encoder, "infrequent_categories_", None)
    blocks = []
    for j in range(n_features):
        categories = [str(c) for c in encoder.categories_[j]]
        if any(not isinstance(c, str) for c in encoder.categories_[j]):
            raise NotCompilable("OneHotEncoder fitted on non-string categories")
        infrequent = None if infrequent_all is None else infrequent_all[j]
        rare = set() if infrequent is None else {str(c) for c in infrequent}
        frequent = [c for c in categories if c not in rare]
        mapping = {c: i for i, c in enumerate(frequent)}
        width = len(frequent)
        if infrequent is not None:
            for c in rare:
                mapping[c] = width  # every infrequent category lights the one bucket
            width += 1
            if encoder.handle_unknown == "infrequent_if_exist":
                mapping = _DefaultDict(mapping, width - 1)
        blocks.append((mapping, width))
    return blocks


class _DefaultDict(dict):
    """Unknown categories go to the infrequent bucket (handle_unknown='infrequent_if_exist')."""

    def __init__(self, mapping: dict[str, int], default: int) -> None:
        super().__init__(mapping)
        self.default = default

    def get(self, key: str, default: int | None = None) -> int | None:  # type: ignore[override]
        return super().get(key, self.default)


class FastPreprocessor:
    """The fitted ColumnTransformer as numpy: raw rows → the model matrix."""

    def __init__(self, preprocessor: Any, numeric: Sequence[str], categorical: Sequence[str]):
        if type(preprocessor).__name__ != "ColumnTransformer":
            raise NotCompilable(f"preprocessor {type(preprocessor).__name__}")
        self.numeric = tuple(numeric)
        self.categorical = tuple(categorical)
        num_index = {n: i for i, n in enumerate(self.numeric)}
        cat_index = {n: i for i, n in enumerate(self.categorical)}
        self.width = sum(s.stop - s.start for s in preprocessor.output_indices_.values())
        self._blocks: list[Block] = []
        for name, transformer, columns in preprocessor.transformers_:
            span = preprocessor.output_indices_[name]
            if transformer == "drop" or span.stop == span.start:
                continue
            if not isinstance(columns, (list, tuple)) or not all(
                isinstance(c, str) for c in columns
            ):
                raise NotCompilable(f"transformer {name} selects columns by position")
            if all(c in num_index for c in columns):
                self._blocks.append(
                    self._numeric_block(transformer, [num_index[c] for c in columns], span)
                )
            elif all(c in cat_index for c in columns):
                self._blocks.append(
                    self._categorical_block(transformer, [cat_index[c] for c in columns], span)
                )
            else:
                raise NotCompilable(f"transformer {name} mixes numbers and categories")

    @staticmethod
    def _numeric_block(transformer: Any, index: list[int], span: slice) -> Block:
        if transformer == "passthrough":
            steps: list[Callable[[np.ndarray], np.ndarray]] = []
        elif type(transformer).__name__ == "Pipeline":
            steps = [_numeric_step(step) for _, step in transformer.steps if step != "passthrough"]
        else:
            steps = [_numeric_step(transformer)]
        columns = np.asarray(index, dtype=np.intp)

        def block(numbers: np.ndarray, categories: list[list[str]], out: np.ndarray) -> None:
            x = numbers[:, columns]
            for step in steps:
                x = step(x)
            if x.shape[1] != span.stop - span.start:
                raise NotCompilable("numeric block width differs from the fitted transformer")
            out[:, span] = x

        return block

    @staticmethod
    def _categorical_block(transformer: Any, index: list[int], span: slice) -> Block:
        encoders = _one_hot(transformer, len(index))
        starts, start = [], span.start
        for _, width in encoders:
            starts.append(start)
            start += width
        if start != span.stop:
            raise NotCompilable("one-hot width differs from the fitted transformer")
        plan = [
            (feature, mapping, begin)
            for feature, (mapping, _), begin in zip(index, encoders, starts, strict=True)
        ]

        def block(numbers: np.ndarray, categories: list[list[str]], out: np.ndarray) -> None:
            for feature, mapping, begin in plan:
                for row, value in enumerate(categories[feature]):
                    offset = mapping.get(value)
                    if offset is not None:
                        out[row, begin + offset] = 1.0

        return block

    def inputs(self, rows: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, list[list[str]]]:
        """Numbers (n × numeric, NaN for missing) and category strings per feature."""
        numbers = np.array(
            [[_as_number(row.get(name)) for name in self.numeric] for row in rows],
            dtype=np.float64,
        ).reshape(len(rows), len(self.numeric))
        categories = [[_as_category(row.get(name)) for row in rows] for name in self.categorical]
        return numbers, categories

    def transform(self, numbers: np.ndarray, categories: list[list[str]]) -> np.ndarray:
        out = np.zeros((numbers.shape[0], self.width), dtype=np.float64)
        for block in self._blocks:
            block(numbers, categories, out)
        return out


class _Isotonic:
    def __init__(self, calibrator: Any) -> None:
        if type(calibrator).__name__ != "IsotonicRegression":
            raise NotCompilable(f"calibrator {type(calibrator).__name__}")
        if calibrator.out_of_bounds not in ("clip", "nan"):
            raise NotCompilable(f"isotonic out_of_bounds={calibrator.out_of_bounds}")
        self.clip = calibrator.out_of_bounds == "clip"
        self.x = np.asarray(calibrator.X_thresholds_)
        self.y = np.asarray(calibrator.y_thresholds_)
        self.low, self.high = calibrator.X_min_, calibrator.X_max_

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        t = np.asarray(raw, dtype=self.x.dtype).reshape(-1)
        if self.clip:
            t = np.clip(t, self.low, self.high)
        if self.x.shape[0] == 1:
            res = np.repeat(self.y, t.shape[0])
        else:
            res = np.interp(t, self.x, self.y)
            if not self.clip:
                res[(t < self.x[0]) | (t > self.x[-1])] = np.nan
        return res.astype(t.dtype)


# ---- the whole model ------------------------------------------------------------------------


def _raw_score(estimator: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The estimator's own uncalibrated probability of the positive class."""
    if list(getattr(estimator, "classes_", [])) != [0, 1]:
        raise NotCompilable(f"{type(estimator).__name__} is not a binary 0/1 classifier")
    if type(estimator).__name__ == "XGBClassifier":
        booster, missing, trees = (
            estimator.get_booster(),
            estimator.missing,
            iteration_range(estimator),
        )

        def xgboost(matrix: np.ndarray) -> np.ndarray:
            return booster.inplace_predict(
                matrix, iteration_range=trees, missing=missing, validate_features=False
            )

        return xgboost
    if type(estimator).__name__ == "RandomForestClassifier":
        return forest_paths(estimator).probability  # 200x cheaper than predict_proba a row
    return lambda matrix: estimator.predict_proba(matrix)[:, 1]


@dataclass
class Scored:
    """Calibrated probabilities and explanations, one per input row."""

    probabilities: np.ndarray
    explanations: list[Explanation]


class FastModel:
    def __init__(self, model: Any) -> None:
        self.model = model
        self.names = tuple(model.spec.names)
        self.preprocessor = FastPreprocessor(
            model.preprocessor, model.spec.numeric, model.spec.categorical
        )
        self.raw_score = _raw_score(model.estimator)
        self.calibrator = _Isotonic(model.calibrator)
        by_column = None
        if method_for(model.estimator) == XGBOOST_SHAP:
            try:
                shap = treeshap.for_estimator(model.estimator)
                by_column = lambda _, matrix: shap(matrix)  # noqa: E731
            except treeshap.Unsupported:
                pass  # XGBoost's own pred_contribs, through the Explainer
        self.explainer = Explainer(model, by_column)
        if self.explainer.by_column and len(self.explainer.owner_matrix) != self.preprocessor.width:
            raise NotCompilable("column owners do not match the matrix width")
        # where each feature's raw value sits in (numbers, categories), in `names` order
        kinds = {n: ("n", i) for i, n in enumerate(model.spec.numeric)}
        kinds |= {n: ("c", i) for i, n in enumerate(model.spec.categorical)}
        self._value_of = [kinds[n] for n in self.names]

    @classmethod
    def compile(cls, model: Any, probes: Sequence[Mapping[str, Any]] = ()) -> FastModel:
        """Compile and prove it on probe rows against the libraries; NotCompilable if not."""
        fast = cls(model)
        fast.check([*probes, *probe_rows(model)])
        return fast

    def check(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """The fast answers for `rows` against the libraries' (NotCompilable on a difference)."""
        frame = pd.DataFrame.from_records(list(rows), columns=list(self.names))
        expected_matrix = np.asarray(self.model.matrix(frame), dtype=np.float64)
        matrix = self.matrix(rows)
        if expected_matrix.shape != matrix.shape or not np.allclose(
            expected_matrix, matrix, rtol=0, atol=1e-12, equal_nan=True
        ):
            raise NotCompilable("the numpy preprocessing differs from the ColumnTransformer")
        expected = self.model.predict_proba(frame)
        got = self.score(rows, top=0).probabilities
        if not np.allclose(expected, got, rtol=0, atol=PROBABILITY_TOLERANCE):
            raise NotCompilable("the fast probabilities differ from LoadedModel.predict_proba")
        if self.explainer.by_column is not None:
            _check_contributions(self.model.estimator, self.explainer.columns(matrix), matrix)

    def matrix(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self.preprocessor.transform(*self.preprocessor.inputs(rows))

    def score(self, rows: Sequence[Mapping[str, Any]], top: int = 5) -> Scored:
        """Probabilities and the `top` reasons for each raw feature row."""
        if not rows:
            return Scored(np.zeros(0), [])
        numbers, categories = self.preprocessor.inputs(rows)
        matrix = self.preprocessor.transform(numbers, categories)
        probabilities = np.clip(self.calibrator(self.raw_score(matrix)), 0.0, 1.0)
        values = _RawValues(numbers, categories, self._value_of)
        return Scored(probabilities, self.explainer.explain(matrix, values, top))


class _RawValues:
    """values[row, feature] read from (numbers, categories) only for the reasons shown."""

    def __init__(self, numbers: np.ndarray, categories: list[list[str]], value_of: list) -> None:
        self.numbers, self.categories, self.value_of = numbers, categories, value_of

    def __getitem__(self, key: tuple[int, int]) -> Any:
        row, feature = key
        kind, index = self.value_of[feature]
        return self.numbers[row, index] if kind == "n" else self.categories[index][row]


def _check_contributions(estimator: Any, by_column: np.ndarray, matrix: np.ndarray) -> None:
    """Contributions per matrix column against the library's own numbers for this estimator."""
    method = method_for(estimator)
    if method == XGBOOST_SHAP:  # XGBoost's own TreeSHAP, column by column
        reference = CONTRIBUTIONS[XGBOOST_SHAP](estimator, matrix)
        what = "XGBoost's pred_contribs"
        got = by_column
    elif method == LINEAR_COEFFICIENTS:  # they sum to the linear score minus the intercept
        reference = estimator.decision_function(matrix) - estimator.intercept_[0]
        what = "decision_function"
        got = by_column.sum(axis=1)
    elif method == FOREST_TREE_PATHS:  # they sum to the probability minus the base rate
        positive = list(estimator.classes_).index(1)
        roots = [tree.tree_.value[0, 0] for tree in estimator.estimators_]
        base = np.mean([root[positive] / root.sum() for root in roots])
        reference = estimator.predict_proba(matrix)[:, 1] - base
        what = "the forest's predict_proba"
        got = by_column.sum(axis=1)
    else:
        return
    if got.shape != reference.shape or not np.allclose(
        got, reference, rtol=CONTRIBUTION_TOLERANCE, atol=CONTRIBUTION_TOLERANCE
    ):
        raise NotCompilable(f"the contributions differ from {what}")


def probe_rows(model: Any) -> list[dict[str, Any]]:
    """A blank row, every known category (and an unseen one), a spread of numbers."""
    spec = model.spec
    rows: list[dict[str, Any]] = [dict.fromkeys(spec.names)]
    known: dict[str, list[str]] = {}
    for _, transformer, columns in getattr(model.preprocessor, "transformers_", ()):
        if hasattr(transformer, "categories_"):
            for column, categories in zip(columns, transformer.categories_, strict=False):
                known[column] = [str(c) for c in categories] + ["__never_seen__"]
    longest = max((len(v) for v in known.values()), default=1)
    for i in range(max(longest, 24)):
        row: dict[str, Any] = {}
        for j, name in enumerate(spec.numeric):
            row[name] = None if (i + j) % 7 == 0 else float((i * 37 + j * 11) % 500) / 3
        for name in spec.categorical:
            values = known.get(name, [MISSING])
            row[name] = values[i % len(values)]
        rows.append(row)
    return rows


def compile_or_none(model: Any, purpose: str = "served") -> FastModel | None:
    """The fast path, proven against the libraries on probe rows; None: the library path.

    Any exception counts, not only NotCompilable: an XGBoost or scikit-learn upgrade that
    renames an attribute or a JSON key the compiler reads must cost speed, never readiness
    (and never a different answer). One warning line says so.
    """
    try:
        return FastModel.compile(model)
    except Exception as exc:
        library_path_warning(model, exc, purpose)
        return None


def library_path_warning(model: Any, exc: BaseException, purpose: str = "served") -> None:
    """The one warning line a model served (or scored) by the library path leaves in the log."""
    logging.getLogger("modeling.fast_path").warning(
        "model %s %s by the library path (fast path refused: %s: %s)",
        model.version,
        purpose,
        type(exc).__name__,
        exc,
    )
