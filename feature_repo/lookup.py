"""Read customers' online features, knowing when they are from and whether they exist.

Feast answers an unknown id with a row of nulls that looks like a customer. Here every feature
view's event timestamp comes back too: a customer none of whose views has a timestamp (Feast
says None or the epoch) is not in the store, and the oldest view timestamp is the "features
as of" time shown to users.
"""

from __future__ import annotations

import argparse
import json
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from feast import FeatureStore

from feature_repo.contract import FEATURE_SERVICE
from ingest import customer_ids
from ingest.customer_ids import INVALID, InvalidCustomerId


@dataclass
class OnlineFeatures:
    customer_id: str
    found: bool
    features: dict[str, Any] = field(default_factory=dict)
    as_of: datetime | None = None

    def is_stale(self, max_age: timedelta, now: datetime | None = None) -> bool:
        """Whether the features are older than max_age (unknown age counts as stale)."""
        if self.as_of is None:
            return True
        now = now or datetime.now(UTC)
        return now - self.as_of > max_age


def normalize_customer_id(raw: str) -> str:
    """The id as staging stores it (the project's one rule, ingest.customer_ids: trimmed, case
    kept), or InvalidCustomerId with a reason and a message.

    One more refusal than staging needs: text that is not valid Unicode (a lone surrogate, which
    JSON's "\\ud800" escape can carry). Staging reads UTF-8 files, so no customer has such an
    id, and neither SQLite nor Redis can take it as a key, nor JSON echo it back.
    """
    normalized = customer_ids.normalize_customer_id(raw)
    try:
        normalized.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidCustomerId(
            INVALID, "customer_id is not valid Unicode text (it holds a lone surrogate)"
        ) from None
    return normalized


# Feast rebuilds the FeatureService from the registry proto on every get_feature_service call
# (~10 ms here), which is most of a lookup; the service only changes with `feast apply`.
_services: weakref.WeakKeyDictionary[FeatureStore, Any] = weakref.WeakKeyDictionary()


def feature_service(store: FeatureStore, *, refresh: bool = False):
    """The store's FeatureService, read from the registry once (refresh=True re-reads it)."""
    if refresh or store not in _services:
        _services[store] = store.get_feature_service(FEATURE_SERVICE, allow_cache=True)
    return _services[store]


_readers: weakref.WeakKeyDictionary[FeatureStore, Any] = weakref.WeakKeyDictionary()


def get_online_features(store: FeatureStore, customer_ids: list[str]) -> list[OnlineFeatures]:
    """One online lookup for all ids; results in the same order, unknown ids not found.

    Reads through `feature_repo.online_reader.OnlineReader` (views resolved once per store,
    SQLite read directly in Feast's layout): the same answer as `get_online_features_via_feast`
    in a fraction of the time. A `feast apply` that changes the service needs a new store.
    """
    from feature_repo.online_reader import OnlineReader  # it imports this module's types

    reader = _readers.get(store)
    if reader is None:
        reader = _readers[store] = OnlineReader(store)
    return reader.read(customer_ids)


def get_online_features_via_feast(
    store: FeatureStore, customer_ids: list[str]
) -> list[OnlineFeatures]:
    """The same lookup through Feast's public `get_online_features`: the reference the fast
    reader is tested against, and what any future Feast change is measured by."""
    ids = [normalize_customer_id(c) for c in customer_ids]
    if not ids:
        return []
    service = feature_service(store)
    response = store.get_online_features(
        features=service, entity_rows=[{"customer_id": c} for c in ids]
    ).to_dict(include_event_timestamps=True)
    feature_columns = [k for k in response if k != "customer_id" and not k.endswith("__ts")]
    stamp_columns = [f"{k}__ts" for k in feature_columns]
    results = []
    for i, customer_id in enumerate(ids):
        # Feast stamps a missing row with None or the epoch (0), depending on the store
        stamps = [response[k][i] for k in stamp_columns if response[k][i]]
        if not stamps:
            results.append(OnlineFeatures(customer_id, found=False))
            continue
        as_of = min(_as_utc(s) for s in stamps)
        features = {k: response[k][i] for k in feature_columns}
        results.append(OnlineFeatures(customer_id, True, features, as_of))
    return results


def _as_utc(stamp: Any) -> datetime:
    if isinstance(stamp, (int, float)):
        return datetime.fromtimestamp(stamp, tz=UTC)
    if isinstance(stamp, datetime):
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    return datetime.fromtimestamp(stamp.seconds, tz=UTC)


def main(argv: list[str] | None = None) -> None:
    from feature_repo.store import open_store

    parser = argparse.ArgumentParser(
        prog="python -m feature_repo.lookup",
        description="Print a customer's online features (the ones the API scores) as JSON.",
    )
    parser.add_argument("customer_ids", nargs="+", help="one or more customer ids")
    args = parser.parse_args(argv)
    store = open_store()
    for row in get_online_features(store, args.customer_ids):
        print(
            json.dumps(
                {
                    "customer_id": row.customer_id,
                    "found": row.found,
                    "features_as_of": row.as_of.isoformat() if row.as_of else None,
                    "features": row.features,
                },
                default=str,
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
