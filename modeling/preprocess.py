"""Turn Feast's feature columns into a model matrix.

Numbers pass through (missing stays NaN for the trees; imputed and scaled for the linear
model); booleans become 0/1; categories are one-hot encoded with unknown values ignored, so a
category first seen in serving cannot break a prediction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from modeling.feature_spec import FeatureSpec


def as_model_input(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """The feature columns in spec order with stable dtypes (floats and strings)."""
    out = pd.DataFrame(index=frame.index)
    for name in spec.numeric:
        out[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    for name in spec.categorical:
        values = frame[name].astype("object")
        out[name] = values.where(values.notna(), "__missing__").astype(str)
    return out[list(spec.numeric) + list(spec.categorical)]


def build_preprocessor(spec: FeatureSpec, *, scale: bool) -> ColumnTransformer:
    """Encoders for one model. scale=True imputes and standardises numbers (linear models)."""
    if scale:
        numeric = Pipeline(
            [
                (
                    "impute",
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                ),
                ("scale", StandardScaler()),
            ]
        )
    else:
        # numbers as they are (NaN kept for the trees). Not "passthrough": fitted, that is a
        # FunctionTransformer, a type modeling.artifact refuses to load (it calls any function)
        numeric = StandardScaler(with_mean=False, with_std=False)
    categorical = OneHotEncoder(
        handle_unknown="ignore", min_frequency=20, sparse_output=False, dtype=np.float64
    )
    return ColumnTransformer(
        [
            ("numeric", numeric, list(spec.numeric)),
            ("categorical", categorical, list(spec.categorical)),
        ],
        verbose_feature_names_out=False,
    )
