"""Feast's online-store storage layout (SQLite and Redis): the one module that knows it.

The fast writer (fast_write.py) and the fast reader (online_reader.py) skip Feast's per-value
Python loops and write and read Feast's own tables and hashes directly. Everything they must
agree with Feast on is defined here, once: how a value is serialized (ValueProto bytes; a
DOUBLE is the tag byte 0x29 + 8 little-endian bytes), how an entity key is laid out
(`serialize_entity_key` v3 for one string join key), SQLite's table names, columns, upsert and
event_ts encoding, Redis's keys (entity key + project), fields (`_mmh3("view:feature")`,
`_ts:view` = a protobuf Timestamp) and RESP framing. Feast's private helpers (`_mmh3`,
`SqliteOnlineStore._get_db_path`, the Redis store's `_get_client`, the provider's
`update_infra`) are used here and nowhere else.

That layout is Feast's implementation, not its API, so it is trusted only on the Feast version
it was verified against (VERIFIED_FEAST_VERSION; tests/feature_store compares the raw storage
and every read with Feast's own). On any other installed version `layout_kind` answers None,
with one warning line, and both sides use Feast's public API instead: `write_to_online_store`
and `get_online_features`. Slower, always right. Upgrading Feast: run tests/feature_store on
the new version, then move VERIFIED_FEAST_VERSION.

Even on the verified version every write checks the vectorized encodings against Feast's own
functions on a sample (`EncodingDrift` if they ever disagree).
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import version
from typing import Any, Literal

import numpy as np
import pandas as pd
from feast import FeatureStore, FeatureView
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.protos.feast.types.EntityKey_pb2 import EntityKey as EntityKeyProto
from feast.protos.feast.types.Value_pb2 import Value as ValueProto
from feast.type_map import feast_value_type_to_python_type, python_values_to_proto_values
from feast.value_type import ValueType
from google.protobuf.timestamp_pb2 import Timestamp

log = logging.getLogger("feature_repo.online_layout")

# The Feast release whose storage this module reproduces byte for byte (tests/feature_store).
VERIFIED_FEAST_VERSION = "0.67.0"

DOUBLE_TAG = 0x29  # ValueProto field 5 (double_val), wire type 1 (64-bit): tag byte + 8 bytes
unpack_double = struct.Struct("<d").unpack_from  # (blob, 1)[0]: the double after the tag byte
_SAMPLE = 64  # values per column checked against Feast's own encoder on every write

Layout = Literal["sqlite", "redis"]


class EncodingDrift(RuntimeError):
    """The vectorized encoding no longer matches what this Feast version writes."""


# ---------------------------------------------------------------------------------------------
# The gate
# ---------------------------------------------------------------------------------------------
def installed_feast_version() -> str:
    return version("feast")


@cache
def _verified(installed: str, verified: str) -> bool:
    """Whether the installed Feast is the verified one; says so once per pair if not."""
    if installed == verified:
        return True
    log.warning(
        "Feast %s is installed; the fast online write/read was verified against Feast %s: "
        "using Feast's public write_to_online_store and get_online_features instead",
        installed,
        verified,
    )
    return False


def layout_kind(store: FeatureStore) -> Layout | None:
    """Which of Feast's layouts this store's online data is in, when this module may write
    and read it directly; None = go through Feast's public API (another Feast version,
    another online store type, vectors or value_num columns, Redis Cluster or Sentinel)."""
    if not _verified(installed_feast_version(), VERIFIED_FEAST_VERSION):
        return None
    online = store.config.online_store
    kind = getattr(online, "type", "")
    if (
        kind == "sqlite"
        and not getattr(online, "vector_enabled", False)
        and not getattr(online, "enable_openai_compatible_store", False)
    ):
        return "sqlite"
    if kind == "redis" and getattr(online, "redis_type", "redis") == "redis":
        return "redis"
    return None


def ensure_online_tables(store: FeatureStore, views: Sequence[FeatureView]) -> None:
    """Create the views' online tables if they are missing (an online database deleted or
    never created since `feast apply`): idempotent. Feast's own infra update on the verified
    version; otherwise a public `store.apply` of the same objects, which runs the same update."""
    entities = [
        store.get_entity(name, allow_registry_cache=True)
        for name in sorted({e for v in views for e in v.entities})
    ]
    if layout_kind(store) is None:
        store.apply([*entities, *views])
        return
    store._get_provider().update_infra(
        project=store.project,
        tables_to_delete=[],
        tables_to_keep=list(views),
        entities_to_delete=[],
        entities_to_keep=entities,
        partial=True,
    )


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------
def _feast_bytes(values: Sequence[Any], value_type: ValueType) -> list[bytes]:
    return [p.SerializeToString() for p in python_values_to_proto_values(values, value_type)]


def _feast_text(blobs: Sequence[bytes]) -> list[str | None]:
    from feast.infra.online_stores.helpers import extract_text_and_num

    out = []
    for blob in blobs:
        proto = ValueProto()
        proto.ParseFromString(blob)
        out.append(extract_text_and_num(proto, False)[0])
    return out


def _double_bytes(array: np.ndarray) -> np.ndarray:
    """`Value(double_val=x).SerializeToString()` for every x, empty bytes for NaN (null)."""
    values = np.ascontiguousarray(array, dtype="<f8")
    n = len(values)
    buf = np.empty((n, 9), dtype=np.uint8)
    buf[:, 0] = DOUBLE_TAG
    buf[:, 1:] = values.view(np.uint8).reshape(n, 8)
    raw = buf.tobytes()
    out = np.empty(n, dtype=object)
    out[:] = [raw[i : i + 9] for i in range(0, 9 * n, 9)]
    out[np.isnan(values)] = b""
    return out


def _double_text(array: np.ndarray) -> np.ndarray:
    """SQLite's value_text for doubles: str(x), None for null."""
    out = np.empty(len(array), dtype=object)
    out[:] = [None if x != x else str(x) for x in array.tolist()]
    return out


def encode_column(
    array: np.ndarray, value_type: ValueType, *, text: bool = False, check: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Serialized ValueProto per row (object array of bytes), and SQLite's value_text if asked.

    `array` is what Feast itself converts: `pyarrow_column.to_numpy(zero_copy_only=False)`.
    DOUBLE columns (nearly all distinct) are packed with numpy; any other column is factorized
    and only its distinct values go through Feast's own `python_values_to_proto_values`.
    """
    if value_type == ValueType.DOUBLE and array.dtype == np.float64:
        blobs = _double_bytes(array)
        texts = _double_text(array) if text else None
        if check:
            _check_sample(array, value_type, blobs, texts)
        return blobs, texts
    codes, uniques = pd.factorize(array, use_na_sentinel=True)
    uniques = np.asarray(uniques)
    null_rows = np.flatnonzero(codes < 0)
    # code -1 (null) picks the last lookup entry: the encoding of the column's own null value
    to_encode = list(uniques) + ([array[null_rows[0]]] if len(null_rows) else [None])
    if len(uniques):
        lookup_list = _feast_bytes(np.asarray(to_encode[:-1], dtype=array.dtype), value_type)
    else:
        lookup_list = []
    lookup_list += _feast_bytes(to_encode[-1:], value_type) if len(null_rows) else [b""]
    lookup = np.empty(len(lookup_list), dtype=object)
    lookup[:] = lookup_list
    blobs = lookup[codes]
    texts = None
    if text:
        text_lookup = np.empty(len(lookup_list), dtype=object)
        text_lookup[:] = _feast_text(lookup_list)
        texts = text_lookup[codes]
    return blobs, texts


def _check_sample(
    array: np.ndarray, value_type: ValueType, blobs: np.ndarray, texts: np.ndarray | None
) -> None:
    """Compare the vectorized encoding with Feast's own on a sample (plus edge values)."""
    rows = np.unique(
        np.r_[np.arange(min(len(array), _SAMPLE)), np.flatnonzero(np.isnan(array))[:1]]
    )
    sample = array[rows]
    edges = np.array([0.0, -0.0, 1.5, -1e308, np.nan], dtype=np.float64)
    expected = _feast_bytes(np.r_[sample, edges], value_type)
    got_edges, got_edge_texts = _double_bytes(edges), _double_text(edges)
    got = list(blobs[rows]) + list(got_edges)
    if got != expected:
        raise EncodingDrift(f"{value_type.name} values encode differently from Feast's")
    if texts is not None and list(texts[rows]) + list(got_edge_texts) != _feast_text(expected):
        raise EncodingDrift(f"{value_type.name} value_text differs from Feast's")


def decode_value(blob: bytes) -> Any:
    """A stored value as Feast's reader returns it: a DOUBLE unpacked directly, anything else
    through Feast's own ProtoValue parsing and `feast_value_type_to_python_type`."""
    if len(blob) == 9 and blob[0] == DOUBLE_TAG:
        return unpack_double(blob, 1)[0]
    proto = ValueProto()
    proto.ParseFromString(blob)
    return feast_value_type_to_python_type(proto)


# ---------------------------------------------------------------------------------------------
# Entity keys
# ---------------------------------------------------------------------------------------------
class EntityKeys:
    """serialize_entity_key(EntityKey([join_key], [string_val=id])) without building protos.

    The layout is checked against Feast's own function when built, and again on a few of the
    ids of every batch, so a Feast that lays keys out differently fails loudly
    (`EncodingDrift`) instead of writing or reading keys nobody else can find.
    """

    def __init__(self, join_key: str, version: int) -> None:
        self.join_key, self.version = join_key, version
        name = join_key.encode()
        string = struct.pack("<I", ValueType.STRING.value)
        self._prefix = struct.pack("<I", 1) + string + struct.pack("<I", len(name)) + name + string
        self._check(["C0000001"])

    def __call__(self, entity_id: str) -> bytes:
        encoded = entity_id.encode("utf8")
        return self._prefix + struct.pack("<I", len(encoded)) + encoded

    def many(self, ids: Sequence[str]) -> np.ndarray:
        out = np.empty(len(ids), dtype=object)
        out[:] = [self(i) for i in ids]
        self._check(ids[:8])
        return out

    def _check(self, ids: Sequence[str]) -> None:
        for entity_id in ids:
            proto = EntityKeyProto(
                join_keys=[self.join_key], entity_values=[ValueProto(string_val=entity_id)]
            )
            if serialize_entity_key(proto, entity_key_serialization_version=self.version) != self(
                entity_id
            ):
                raise EncodingDrift(
                    f"entity keys (serialization v{self.version}) serialize differently from "
                    "Feast's"
                )


def entity_keys(store: FeatureStore, join_key: str) -> EntityKeys:
    return EntityKeys(join_key, store.config.entity_key_serialization_version)


# ---------------------------------------------------------------------------------------------
# SQLite: one table per view, one row per entity key and feature
# ---------------------------------------------------------------------------------------------
def sqlite_path(store: FeatureStore) -> str:
    from feast.infra.online_stores.sqlite import SqliteOnlineStore

    return SqliteOnlineStore._get_db_path(store.config)


def sqlite_table(store: FeatureStore, view: FeatureView) -> str:
    """The view's table, quoted for SQL."""
    from feast.infra.online_stores.helpers import compute_table_id

    config = store.config
    table = compute_table_id(
        config.project, view, config.registry.enable_online_feature_view_versioning
    )
    return '"' + table.replace('"', '""') + '"'


def sqlite_upsert(store: FeatureStore, view: FeatureView, rows: int) -> str:
    """Feast's SqliteOnlineStore.online_write_batch statement (no value_num, no vector) for
    `rows` rows at once, each bound as (entity_key, feature_name, value, value_text,
    event_ts); created_ts is NULL, as the materialization writes it."""
    values = ", ".join(["(?, ?, ?, ?, ?, NULL)"] * rows)
    return (
        f"INSERT INTO {sqlite_table(store, view)} (entity_key, feature_name, value, value_text, "
        f"event_ts, created_ts) VALUES {values} ON CONFLICT(entity_key, feature_name) "
        "DO UPDATE SET value = excluded.value, value_text = excluded.value_text, "
        "event_ts = excluded.event_ts, created_ts = excluded.created_ts;"
    )


def sqlite_select(store: FeatureStore, view: FeatureView, position: int) -> str:
    """The view's rows for the entity keys bound to `{marks}`, tagged with `position`:
    (position, entity_key, feature_name, value, event_ts)."""
    return (
        f"SELECT {position}, entity_key, feature_name, value, event_ts "
        f"FROM {sqlite_table(store, view)} WHERE entity_key IN ({{marks}})"
    )


def sqlite_event_ts(stamp: datetime) -> int:
    """event_ts as Feast stores it (its registered adapter, on naive UTC)."""
    from feast.infra.online_stores.sqlite import adapt_datetime_epoch
    from feast.utils import to_naive_utc

    return adapt_datetime_epoch(to_naive_utc(stamp))


def sqlite_seconds(stamp: Any) -> int:
    """A stored event_ts as epoch seconds: an int as written, or ISO text; NULL is 0."""
    if type(stamp) is int:
        return stamp
    if stamp is None:
        return 0
    if isinstance(stamp, (int, float)):
        return int(stamp)
    parsed = datetime.fromisoformat(stamp.decode() if isinstance(stamp, bytes) else stamp)
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())


# ---------------------------------------------------------------------------------------------
# Redis: one hash per entity, every view's fields in it
# ---------------------------------------------------------------------------------------------
def redis_key(entity_key: bytes, project: str) -> bytes:
    return entity_key + project.encode()


def redis_fields(store: FeatureStore, view: FeatureView, names: Sequence[str]) -> list[bytes]:
    """The hash fields of the view's features `names`, in order."""
    from feast.infra.online_stores.helpers import _mmh3

    view_name = _view_name(store, view)
    return [_mmh3(f"{view_name}:{name}") for name in names]


def redis_stamp_field(store: FeatureStore, view: FeatureView) -> bytes:
    """The hash field holding the view's event timestamp (a serialized protobuf Timestamp)."""
    return f"_ts:{_view_name(store, view)}".encode()


def _view_name(store: FeatureStore, view: FeatureView) -> str:
    from feast.infra.online_stores.helpers import compute_versioned_name

    return compute_versioned_name(view, store.config.registry.enable_online_feature_view_versioning)


def timestamp_bytes(stamp: datetime) -> bytes:
    """An event timestamp as Feast's Redis writer stores it."""
    from feast.utils import make_tzaware

    proto = Timestamp()
    proto.FromDatetime(make_tzaware(stamp))
    return proto.SerializeToString()


def timestamp_seconds(blob: bytes) -> float:
    """A stored protobuf Timestamp as epoch seconds, the way Feast's Redis reader reads it."""
    proto = Timestamp()
    proto.ParseFromString(blob)
    return proto.seconds + proto.nanos / 1_000_000_000.0


_BULK = b"$%d\r\n%s\r\n"  # a RESP bulk string: length, CRLF, the bytes, CRLF


def resp_string(blob: bytes) -> bytes:
    return _BULK % (len(blob), blob)


def resp_strings(blobs: np.ndarray) -> np.ndarray:
    """resp_string of every element of an object array of bytes, same shape."""
    out = np.empty(blobs.shape, dtype=object)
    out.reshape(-1)[:] = [_BULK % (len(b), b) for b in blobs.reshape(-1).tolist()]
    return out


def resp_command(name: bytes, *arguments: bytes) -> bytes:
    """One RESP command (array of bulk strings)."""
    head = b"*%d\r\n" % (1 + len(arguments)) + resp_string(name)
    return head + b"".join(resp_string(a) for a in arguments)


def redis_client(store: FeatureStore) -> Any:
    """Feast's own Redis client for this store (its connection settings), or None when this
    Feast keeps it elsewhere (then Feast's reads keep their own retry policy)."""
    provider = getattr(store, "_get_provider", None)
    online_store = getattr(provider(), "online_store", None) if provider else None
    if not hasattr(online_store, "_get_client"):
        return None
    return online_store._get_client(store.config.online_store)


def send_pipelined(client: Any, payload: bytes, replies: int) -> list[Any]:
    """Send pre-packed commands on one connection of the client's pool; their replies."""
    pool = client.connection_pool
    conn = pool.get_connection()
    try:
        conn.send_packed_command([payload])
        answers = [conn.read_response() for _ in range(replies)]
    except BaseException:
        conn.disconnect()  # unread replies must never reach the next user of the connection
        raise
    finally:
        pool.release(conn)
    for answer in answers:
        if isinstance(answer, Exception):
            raise answer
    return answers
