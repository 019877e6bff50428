"""Serving's hot path: a loaded artifact compiled to plain numpy, with the same answers.

`LoadedModel.predict_proba` and `modeling.explain.explain` go through pandas, the fitted
ColumnTransformer and scikit-learn's input validation: fine for training, ~100 ms per request
for serving. `FastModel.compile(model)` reads the fitted parameters once (passthrough columns,
imputer statistics and missing indicators, scaler means and scales, one-hot categories
including the infrequent bucket) and then scores raw feature rows (dicts as Feast returns
them) with a few numpy operations:

- XGBoost: `Booster.inplace_predict` for the probability (what `XGBClassifier.predict_proba`
  calls), modeling.treeshap for the reasons (XGBoost's `pred_contribs`, 4x cheaper).
- Logistic Regression: X @ coef + intercept, then the logistic function.
- Random Forest: all trees walked at once, level by level, on the float32 matrix exactly as
  scikit-learn's trees compare (NaN follows `missing_go_to_left`); the visited nodes give both
  the leaf probabilities and the tree-path (Saabas) contributions of modeling.explain.
- Isotonic calibration: the fitted thresholds with np.interp, after the same clipping.

Anything it does not recognise raises NotCompilable, and `compile` checks its own output
against the slow path on probe rows (blank, every known category, unseen values), so a
mismatch means "serve with the slow path", never a different answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from modeling.explain import (
    NOT_AVAILABLE,
    UNITS,
    Explanation,
    Reason,
    column_owners,
    explain,
    method_for,
)
from modeling.treeshap import xgboost_contributions

MISSING = "__missing__"  # what modeling.preprocess.as_model_input feeds for a missing category


class NotCompilable(RuntimeError):
    """The artifact uses something the fast path does not reproduce; use the slow path."""


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
    infrequent_enabled = getattr(encoder, "_infrequent_enabled", False)
    blocks = []
    for j in range(n_features):
        categories = [str(c) for c in encoder.categories_[j]]
        if any(not isinstance(c, str) for c in encoder.categories_[j]):
            raise NotCompilable("OneHotEncoder fitted on non-string categories")
        infrequent = encoder.infrequent_categories_[j] if infrequent_enabled else None
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


# ---- estimators: matrix → raw score (and per-column contributions) --------------------------


class _Xgboost:
    def __init__(self, estimator: Any) -> None:
        objective = estimator.get_params().get("objective") or "binary:logistic"
        if objective != "binary:logistic" or getattr(estimator, "n_classes_", 2) != 2:
            raise NotCompilable(f"XGBoost objective {objective}")
        self.estimator = estimator
        self.booster = estimator.get_booster()
        self.missing = estimator.missing
        self.iteration_range = estimator._get_iteration_range(None)  # best_iteration if any

    def raw(self, matrix: np.ndarray) -> np.ndarray:
        return self.booster.inplace_predict(
            matrix,
            iteration_range=self.iteration_range,
            predict_type="value",
            missing=self.missing,
            validate_features=False,
        )

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        return xgboost_contributions(self.estimator, matrix)  # as modeling.explain does


class _Linear:
    def __init__(self, estimator: Any) -> None:
        if len(estimator.classes_) != 2 or estimator.coef_.shape[0] != 1:
            raise NotCompilable("logistic regression that is not binary")
        self.coef = np.ascontiguousarray(estimator.coef_[0], dtype=np.float64)
        self.coef_t = np.ascontiguousarray(estimator.coef_.T)
        self.intercept = estimator.intercept_

    def raw(self, matrix: np.ndarray) -> np.ndarray:
        decision = (matrix @ self.coef_t + self.intercept).ravel()
        return 1.0 / (1.0 + np.exp(-decision))

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        return matrix * self.coef


class _Forest:
    """All trees of a forest as flat arrays; rows × trees walked together, level by level."""

    def __init__(self, forest: Any) -> None:
        if list(forest.classes_) != [0, 1] or forest.n_outputs_ != 1:
            raise NotCompilable("forest that is not a binary 0/1 classifier")
        trees = [e.tree_ for e in forest.estimators_]
        self.n_trees = len(trees)
        counts = np.array([t.node_count for t in trees])
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.roots = offsets.astype(np.intp)

        def stack(attribute: str, dtype: Any, shift: bool = False) -> np.ndarray:
            parts = []
            for tree, offset in zip(trees, offsets, strict=True):
                values = np.asarray(getattr(tree, attribute), dtype=dtype)
                if shift:
                    values = np.where(values >= 0, values + offset, -1)
                parts.append(values)
            return np.concatenate(parts)

        self.left = stack("children_left", np.intp, shift=True)
        self.right = stack("children_right", np.intp, shift=True)
        self.feature = stack("feature", np.intp)
        self.threshold = stack("threshold", np.float64)
        self.nan_left = stack("missing_go_to_left", bool)
        self.nan_right = (~self.nan_left).astype(np.intp)  # which copy of x a node reads
        self.is_leaf = self.left < 0
        self.children = np.stack([self.left, self.right], axis=1).ravel()  # 2·node + right
        shares = []
        for tree in trees:
            value = tree.value[:, 0, :]
            # DecisionTreeClassifier.predict_proba's normalisation (zero sums stay as is) …
            normalizer = value.sum(axis=1, keepdims=True)
            normalizer[normalizer == 0.0] = 1.0
            shares.append((value / normalizer)[:, 1])
        self.share = np.concatenate(shares)
        # … and modeling.explain's: the change in positive share from parent to node
        explain_shares = np.concatenate(
            [(t.value[:, 0, :] / t.value[:, 0, :].sum(axis=1, keepdims=True))[:, 1] for t in trees]
        )
        self.delta = np.zeros_like(explain_shares)
        for children in (self.left, self.right):
            parents = np.flatnonzero(children >= 0)
            self.delta[children[parents]] = (
                explain_shares[children[parents]] - explain_shares[parents]
            ) / self.n_trees

    def walk(self, matrix: np.ndarray, contributions: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Leaves (rows × trees) and, if asked, the tree-path contributions (rows × columns)."""
        n_rows, n_columns = matrix.shape
        x = np.ascontiguousarray(matrix, dtype=np.float32)  # trees compare in float32
        # NaN follows the node's missing_go_to_left: as -inf (≤ any threshold: left) in the
        # first copy, as NaN (never ≤, even an infinite threshold: right) in the second;
        # each node reads its copy.
        both = np.stack([np.where(np.isnan(x), -np.inf, x), x], axis=-1).ravel()
        nodes = np.tile(self.roots, n_rows)
        base = np.repeat(np.arange(n_rows, dtype=np.intp) * n_columns, self.n_trees)
        slots = np.arange(nodes.size)
        leaves = nodes.copy()
        keys: list[np.ndarray] = []
        pushes: list[np.ndarray] = []
        inner = ~self.is_leaf[nodes]
        if not inner.all():
            nodes, base, slots = nodes[inner], base[inner], slots[inner]
        while nodes.size:
            column = base + self.feature[nodes]
            left = both[2 * column + self.nan_right[nodes]] <= self.threshold[nodes]
            edge = 2 * nodes + 1 - left
            child = self.children[edge]
            if contributions:
                keys.append(column)
                pushes.append(self.delta[child])
            done = self.is_leaf[child]
            if not done.any():
                nodes = child
                continue
            leaves[slots[done]] = child[done]
            inner = ~done
            nodes, base, slots = child[inner], base[inner], slots[inner]
        if not contributions:
            return leaves.reshape(n_rows, self.n_trees), None
        summed = np.bincount(
            np.concatenate(keys) if keys else np.zeros(0, dtype=np.intp),
            weights=np.concatenate(pushes) if pushes else None,
            minlength=n_rows * n_columns,
        )
        return leaves.reshape(n_rows, self.n_trees), summed.reshape(n_rows, n_columns)

    def raw(self, matrix: np.ndarray) -> np.ndarray:
        leaves, _ = self.walk(matrix, contributions=False)
        return self.share[leaves].sum(axis=1) / self.n_trees


def _estimator(estimator: Any) -> Any:
    name = type(estimator).__name__
    if name == "XGBClassifier":
        return _Xgboost(estimator)
    if name == "LogisticRegression":
        return _Linear(estimator)
    if name == "RandomForestClassifier":
        return _Forest(estimator)
    raise NotCompilable(f"estimator {name}")


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


@dataclass
class Scored:
    """Calibrated probabilities and (if asked) explanations, one per input row."""

    probabilities: np.ndarray
    explanations: list[Explanation] | None


class FastModel:
    def __init__(self, model: Any) -> None:
        self.model = model
        self.names = tuple(model.spec.names)
        self.preprocessor = FastPreprocessor(
            model.preprocessor, model.spec.numeric, model.spec.categorical
        )
        self.estimator = _estimator(model.estimator)
        self.calibrator = _Isotonic(model.calibrator)
        self.method = method_for(model.estimator)
        self.unit = UNITS[self.method]
        owners = column_owners(model.preprocessor)
        if len(owners) != self.preprocessor.width:
            raise NotCompilable("column owners do not match the matrix width")
        # summing one-hot/indicator columns back to their feature: by_column @ owner_matrix
        self.owner_matrix = np.zeros((len(owners), len(self.names)), dtype=np.float64)
        position = {n: i for i, n in enumerate(self.names)}
        for column, owner in enumerate(owners):
            self.owner_matrix[column, position[owner]] = 1.0
        # a raw value per feature for the reasons, in `names` order
        kinds = {n: ("n", i) for i, n in enumerate(model.spec.numeric)}
        kinds |= {n: ("c", i) for i, n in enumerate(model.spec.categorical)}
        self._value_of = [kinds[n] for n in self.names]

    @classmethod
    def compile(cls, model: Any, probes: Sequence[Mapping[str, Any]] = ()) -> FastModel:
        """Compile and prove it on probe rows against the slow path; NotCompilable if not."""
        fast = cls(model)
        rows = list(probes) + fast.probe_rows()
        fast.check(rows)
        return fast

    def probe_rows(self) -> list[dict[str, Any]]:
        """A blank row, every known category (and an unseen one), a spread of numbers."""
        spec = self.model.spec
        rows: list[dict[str, Any]] = [dict.fromkeys(self.names)]
        known: dict[str, list[str]] = {}
        for _, transformer, columns in self.model.preprocessor.transformers_:
            if hasattr(transformer, "categories_"):
                for column, categories in zip(columns, transformer.categories_, strict=False):
                    known[column] = [str(c) for c in categories] + ["__never_seen__"]
        longest = max((len(v) for v in known.values()), default=1)
        for i in range(longest):
            row: dict[str, Any] = {}
            for j, name in enumerate(spec.numeric):
                row[name] = None if (i + j) % 7 == 0 else float((i * 37 + j * 11) % 500) / 3
            for name in spec.categorical:
                values = known.get(name, [MISSING])
                row[name] = values[i % len(values)]
            rows.append(row)
        return rows

    def check(self, rows: Sequence[Mapping[str, Any]], tolerance: float = 1e-9) -> None:
        frame = pd.DataFrame.from_records(list(rows), columns=list(self.names))
        expected_matrix = np.asarray(self.model.matrix(frame), dtype=np.float64)
        numbers, categories = self.preprocessor.inputs(rows)
        matrix = self.preprocessor.transform(numbers, categories)
        if expected_matrix.shape != matrix.shape or not np.allclose(
            expected_matrix, matrix, rtol=0, atol=1e-12, equal_nan=True
        ):
            raise NotCompilable("the numpy preprocessing differs from the ColumnTransformer")
        expected = self.model.predict_proba(frame)
        scored = self.score(rows, top=5)
        if not np.allclose(expected, scored.probabilities, rtol=0, atol=tolerance):
            raise NotCompilable("the fast probabilities differ from LoadedModel.predict_proba")
        slow = explain(self.model, frame, top=5)
        for a, b in zip(slow, scored.explanations or [], strict=True):
            if [r.feature for r in a.reasons] != [r.feature for r in b.reasons]:
                raise NotCompilable("the fast reasons differ from modeling.explain")

    def matrix(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self.preprocessor.transform(*self.preprocessor.inputs(rows))

    def score(self, rows: Sequence[Mapping[str, Any]], top: int = 5) -> Scored:
        """Probabilities and the `top` reasons for each raw feature row."""
        if not rows:
            return Scored(np.zeros(0), [])
        numbers, categories = self.preprocessor.inputs(rows)
        matrix = self.preprocessor.transform(numbers, categories)
        if isinstance(self.estimator, _Forest):
            leaves, by_column = self.estimator.walk(matrix, contributions=top > 0)
            raw = self.estimator.share[leaves].sum(axis=1) / self.estimator.n_trees
        else:
            raw = self.estimator.raw(matrix)
            by_column = self.estimator.contributions(matrix) if top > 0 else None
        probabilities = np.clip(self.calibrator(raw), 0.0, 1.0)
        if self.method == NOT_AVAILABLE or by_column is None:
            return Scored(probabilities, [Explanation(self.method, self.unit, [])] * len(rows))
        return Scored(probabilities, self._explain(by_column, numbers, categories, top))

    def _explain(
        self,
        by_column: np.ndarray,
        numbers: np.ndarray,
        categories: list[list[str]],
        top: int,
    ) -> list[Explanation]:
        dtype = by_column.dtype
        # modeling.explain sums the owner columns in the contributions' own dtype (float32
        # for XGBoost); summing in float64 and rounding once gives the same float32 numbers
        pushes = by_column.astype(np.float64) @ self.owner_matrix
        if dtype != np.float64:
            pushes = pushes.astype(dtype).astype(np.float64)
        order = np.argsort(-np.abs(pushes), axis=1, kind="stable")[:, :top]
        method, unit, value_of, names = self.method, self.unit, self._value_of, self.names
        explanations = []
        for row, columns in enumerate(order.tolist()):
            reasons = []
            for i in columns:
                push = float(pushes[row, i])
                if push == 0:
                    continue
                kind, index = value_of[i]
                raw = numbers[row, index] if kind == "n" else categories[index][row]
                reasons.append(
                    Reason(names[i], _plain(raw), push, "up" if push > 0 else "down", method, unit)
                )
            explanations.append(Explanation(method, unit, reasons))
        return explanations


def _plain(value: Any) -> Any:
    """modeling.explain._plain for the two kinds of value the fast path holds."""
    if isinstance(value, str):
        return None if value == MISSING else value
    number = float(value)
    if math.isnan(number):
        return None
    return int(number) if number.is_integer() else number
