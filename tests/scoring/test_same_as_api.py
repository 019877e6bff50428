"""The batch scorer answers as the API does: the same probability (to the last digit the API
sends), tier, verdict, action and reasons in words, through the fast path and through the
library path alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pandas as pd
import pyarrow.parquet as pq
import pytest

from api.scoring import score_rows
from api.serving import build_serving
from api.settings import Settings
from feature_repo.store import open_store
from scoring.chunks import TOP_REASONS, ChunkScorer
from scoring.decisions import Decider
from scoring.schema import SCORES_FILE
from scoring.score_all import latest_as_of, load_scorer

SAMPLE = 60


@pytest.fixture(scope="module")
def settings(trained_models, feature_store) -> Settings:
    return Settings(
        models_dir=trained_models,
        feast_data_dir=feature_store.feast_data_dir,
        top_reasons=TOP_REASONS,
        _env_file=None,
    )


@pytest.fixture(scope="module")
def serving(settings):
    return build_serving(open_store(data_dir=settings.feast_data_dir), settings)


@pytest.fixture(scope="module")
def sample(warehouse) -> pd.DataFrame:
    path = warehouse.features_dir / "customer_features.parquet"
    frame = pq.read_table(path).to_pandas()
    latest = frame[frame["as_of_date"] == latest_as_of(path)]
    return latest.sample(SAMPLE, random_state=3).reset_index(drop=True)


def _api_answers(serving, settings, sample) -> list[dict]:
    names = list(serving.model.spec.names)
    rows = [{n: row[n] for n in names} for row in pq_rows(sample)]
    return score_rows(serving, rows, settings)


def pq_rows(frame: pd.DataFrame) -> list[dict]:
    """Rows as Feast hands them over: Python ints, floats, bools, str, None."""
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False).to_pylist()


def _expected(answers: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "probability": [a["probability"] for a in answers],
            "tier": [a["tier"] for a in answers],
            "will_repeat": [a["will_repeat"] for a in answers],
            "action": [a["action"] for a in answers],
            **{
                f"reason_{k + 1}": [
                    a["reasons"][k]["text"] if len(a["reasons"]) > k else None for a in answers
                ]
                for k in range(TOP_REASONS)
            },
        }
    )


COLUMNS = ["probability", "tier", "will_repeat", "action", "reason_1", "reason_2", "reason_3"]


def test_the_written_scores_equal_the_apis_answers(scores_dir, serving, settings, sample):
    assert serving.fast is not None, "the sample's XGBoost model compiles to the fast path"
    written = pd.read_parquet(scores_dir / SCORES_FILE).set_index("customer_id")
    got = written.loc[sample["customer_id"], COLUMNS].reset_index(drop=True)
    expected = _expected(_api_answers(serving, settings, sample))
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_the_library_path_equals_the_apis_library_path(trained_models, serving, settings, sample):
    model = load_scorer(trained_models / "current").model
    library = ChunkScorer(model, None, Decider.for_model(model, settings))
    got = library.score(sample, datetime.now(UTC))[COLUMNS]
    expected = _expected(_api_answers(replace(serving, fast=None), settings, sample))
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)
