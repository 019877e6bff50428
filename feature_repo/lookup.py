"""Look customers up in the online store by the ids people type: `python -m feature_repo.lookup`.

This is an edge: ids arrive as typed, so they are normalised here, once, by the project's one
rule (ingest.customer_ids), and read through the reader (online_reader.py: fast in Feast's
layout when it may, Feast's public `get_online_features` otherwise). A customer none of whose
views has a timestamp is not found; the oldest view timestamp is the "features as of" time.
"""

from __future__ import annotations

import argparse
import json
import weakref

from feast import FeatureStore

from feature_repo.contract import FEATURE_SERVICE
from feature_repo.online_reader import OnlineFeatures, OnlineReader, read_via_feast
from feature_repo.store import open_store
from ingest import customer_ids
from ingest.customer_ids import INVALID, InvalidCustomerId

__all__ = [
    "FEATURE_SERVICE",
    "InvalidCustomerId",
    "OnlineFeatures",
    "get_online_features",
    "get_online_features_via_feast",
    "normalize_customer_id",
    "reader_for",
]


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


_readers: weakref.WeakKeyDictionary[FeatureStore, OnlineReader] = weakref.WeakKeyDictionary()


def reader_for(store: FeatureStore) -> OnlineReader:
    """The store's reader, built once (views resolved from the registry once per store)."""
    reader = _readers.get(store)
    if reader is None:
        reader = _readers[store] = OnlineReader(store)
    return reader


def get_online_features(store: FeatureStore, ids: list[str]) -> list[OnlineFeatures]:
    """Normalised ids' online features, in request order; unknown ids not found, malformed
    ones refused (InvalidCustomerId). A `feast apply` that changes the service needs a new
    store."""
    return reader_for(store).read([normalize_customer_id(c) for c in ids])


def get_online_features_via_feast(store: FeatureStore, ids: list[str]) -> list[OnlineFeatures]:
    """The same lookup through Feast's public `get_online_features`: the reference the fast
    reader is tested against, and what any future Feast change is measured by."""
    return read_via_feast(store, [normalize_customer_id(c) for c in ids])


def main(argv: list[str] | None = None) -> None:
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
