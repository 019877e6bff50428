"""A model knows the FeatureService fields it was trained on: after `feast apply` with a
changed mart, loading it (serving) and checking it (apply time) say what changed and to
retrain, instead of a bare "does not match"; a model without the fingerprint is refused."""

from __future__ import annotations

import json
import shutil

import pytest
from feast import FeatureService, FeatureView, Field
from feast.types import Float64, Int64

from feature_repo.contract import FEATURE_SERVICE
from feature_repo.definitions import build
from feature_repo.fingerprint import (
    METADATA_KEY,
    RETRAIN,
    check_current_model,
    describe_change,
    fingerprint,
    service_fields,
)
from feature_repo.store import open_store
from modeling.artifact import ArtifactError, load_model
from modeling.dataset import feature_spec


def test_the_fingerprint_follows_names_types_and_order():
    fields = [("a", "Int64"), ("b", "String")]
    assert fingerprint(fields) == fingerprint(list(fields))
    assert fingerprint(fields) != fingerprint([("a", "Float64"), ("b", "String")])
    assert fingerprint(fields) != fingerprint(fields[::-1])
    assert describe_change(fields, fields[::-1]) == "the same features in another order"
    assert describe_change(fields, [("a", "Float64"), ("c", "Bool")]) == (
        "added c (Bool); removed b (String); retyped a Int64 → Float64"
    )


def test_training_stores_the_fingerprint_of_the_service(trained_models, feature_store):
    meta = json.loads((trained_models / "current" / "metadata.json").read_text())
    assert meta[METADATA_KEY] == fingerprint(service_fields(feature_store))
    assert check_current_model(feature_store, trained_models) is None


@pytest.fixture()
def changed_store(warehouse, tmp_path):
    """A Feast store whose FeatureService lost one feature, gained one and retyped one, as
    `feast apply` would register it after such a change to the mart."""
    store = open_store(data_dir=tmp_path / "feast")
    definitions = build(warehouse.features_dir)
    behaviour, *others = definitions.views
    fields = list(behaviour.features)
    dropped = fields.pop(0)
    retyped = next(i for i, f in enumerate(fields) if f.dtype == Int64)
    fields[retyped] = Field(name=fields[retyped].name, dtype=Float64)
    fields.append(Field(name="loyalty_score", dtype=Float64))
    changed = FeatureView(
        name=behaviour.name,
        entities=[definitions.customer],
        ttl=behaviour.ttl,
        schema=fields,
        source=definitions.source,
        online=True,
    )
    service = FeatureService(name=FEATURE_SERVICE, features=[changed, *others])
    store.apply([definitions.customer, definitions.source, changed, *others, service])
    return store, dropped.name, fields[retyped].name


def test_a_changed_service_is_named_at_apply_and_refused_at_load(trained_models, changed_store):
    store, dropped, retyped = changed_store
    message = check_current_model(store, trained_models)
    assert message is not None
    assert "added loyalty_score (Float64)" in message
    assert f"removed {dropped} (" in message
    assert f"retyped {retyped} Int64 → Float64" in message
    assert message.endswith(RETRAIN) and RETRAIN == "retrain: python -m modeling.train"
    with pytest.raises(ArtifactError) as refused:
        load_model(trained_models / "current", expected=feature_spec(store))
    assert str(refused.value) == message


def test_a_model_without_a_fingerprint_is_refused_with_the_retrain_message(
    trained_models, feature_store, tmp_path
):
    models = tmp_path / "models"
    shutil.copytree((trained_models / "current").resolve(), models / "old")
    (models / "current").symlink_to("old")
    meta = json.loads((models / "old" / "metadata.json").read_text())
    del meta[METADATA_KEY]
    (models / "old" / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match=f"{METADATA_KEY}.*{RETRAIN}"):
        load_model(models / "current", expected=feature_spec(feature_store))
    assert RETRAIN in check_current_model(feature_store, models)
