"""The online lookup of feature_repo.lookup, minus Feast's per-call registry work.

`FeatureStore.get_online_features` rebuilds the FeatureService's views from registry protos
(with typeguard checks) on every call: ~3-8 ms for one customer, most of the request. Here the
FeatureService and its FeatureViews are resolved once, when the serving snapshot is built, and
each request calls Feast's own `Provider.online_read` per view (what get_online_features calls
underneath), converting values with Feast's own `feast_value_type_to_python_type`. The answer
is the same `OnlineFeatures` list as `feature_repo.lookup.get_online_features`, which
tests/api/test_fast_path.py checks row for row (found, as-of time, every value).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from feast import FeatureStore
from feast.infra.provider import get_provider
from feast.protos.feast.types.EntityKey_pb2 import EntityKey as EntityKeyProto
from feast.protos.feast.types.Value_pb2 import Value as ValueProto
from feast.type_map import feast_value_type_to_python_type
from google.protobuf.timestamp_pb2 import Timestamp

from feature_repo.lookup import FEATURE_SERVICE, OnlineFeatures, normalize_customer_id


class OnlineReader:
    """Reads the FeatureService's features for customer ids, views resolved once."""

    def __init__(self, store: FeatureStore) -> None:
        self.config = store.config
        self.provider = get_provider(store.config)
        service = store.get_feature_service(FEATURE_SERVICE)
        self.views: list[tuple[Any, list[str], str]] = []
        self.names: list[str] = []
        for projection in service.feature_view_projections:
            view = store.get_feature_view(projection.name)
            (join_key,) = [c.name for c in view.entity_columns]
            features = [f.name for f in projection.features]
            self.views.append((view, features, join_key))
            self.names.extend(features)

    def read(self, customer_ids: list[str]) -> list[OnlineFeatures]:
        """One online read per feature view for all ids; results in request order."""
        ids = [normalize_customer_id(c) for c in customer_ids]
        if not ids:
            return []
        unique = list(dict.fromkeys(ids))
        features: list[dict[str, Any]] = [{} for _ in unique]
        stamps: list[int | None] = [None] * len(unique)
        for view, names, join_key in self.views:
            keys = [
                EntityKeyProto(join_keys=[join_key], entity_values=[ValueProto(string_val=c)])
                for c in unique
            ]
            rows = self.provider.online_read(self.config, view, keys, names)
            for i, (stamp, values) in enumerate(rows):
                row = features[i]
                if values is None:
                    row.update(dict.fromkeys(names))
                    continue
                for name in names:
                    value = values.get(name)
                    row[name] = None if value is None else feast_value_type_to_python_type(value)
                if stamp is not None:
                    seconds = _seconds(stamp)
                    # Feast stamps a missing row with None or the epoch: those do not count
                    if seconds and (stamps[i] is None or seconds < stamps[i]):
                        stamps[i] = seconds
        by_id = {}
        for customer_id, row, seconds in zip(unique, features, stamps, strict=True):
            if seconds is None:
                by_id[customer_id] = OnlineFeatures(customer_id, found=False)
            else:
                as_of = datetime.fromtimestamp(seconds, tz=UTC)
                by_id[customer_id] = OnlineFeatures(
                    customer_id, True, {n: row.get(n) for n in self.names}, as_of
                )
        return [by_id[c] for c in ids]


def _seconds(stamp: datetime) -> int:
    """Whole seconds, as Feast's response proto (and so get_online_features) gives them."""
    proto = Timestamp()
    proto.FromDatetime(stamp)
    return proto.seconds
