"""Bulk writes into Feast's online store that store exactly the bytes Feast itself stores.

Feast's `online_write_batch` (SQLite, Redis) does all its work per row and per feature in
Python: a ValueProto per value, `serialize_entity_key` per row and per view, one
`sqlite3.execute` per feature value, one `mmh3` hash per feature per row for Redis, plus a
read of every key's timestamp first. At 1M customers × 36 features that is 36M of each.
Here the same records are produced column by column:

- values: a column is factorized and only its distinct values go through Feast's own
  `python_values_to_proto_values` (+ `SerializeToString`, and `extract_text_and_num` for
  SQLite's `value_text`); DOUBLE columns, nearly all distinct, are encoded with numpy as the
  protobuf wire format of `Value(double_val=x)` (tag 0x29 + 8 bytes little-endian; NaN = null =
  empty message). Every run checks the vectorized encoding against Feast's function on a sample
  of each column (`EncodingDrift` if they ever disagree), and the entity keys too;
- entity keys: `serialize_entity_key` v3 layout for a single string join key, built once per
  customer and shared by all views (checked against Feast's function on a sample);
- SQLite: Feast's table (`compute_table_id`) and Feast's own upsert statement, through
  `executemany`, rows in primary-key order, one transaction per chunk; event_ts with Feast's
  own sqlite adapter (`adapt_datetime_epoch(to_naive_utc(ts))`);
- Redis: Feast's layout (key = entity key + project, field = `_mmh3("view:feature")`,
  `_ts:view` = a protobuf Timestamp), all views of a customer in ONE HSET, pre-packed RESP
  sent as one pipeline per chunk through redis-py's connection (`send_packed_command`);
  `key_ttl_seconds` is honoured with EXPIRE.

Anything else (another online store type, vector or value_num columns, Redis cluster or
sentinel) goes through Feast's public `write_to_online_store` in chunks: slower, always right.

Unlike Feast's Redis writer, rows are not compared with the stored event timestamp first:
the caller decides what to write (materialize.py writes what changed since its last run),
so a corrected row with the same as-of date is written instead of being silently skipped.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from feast import FeatureStore, FeatureView
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.infra.online_stores.helpers import _mmh3, compute_table_id, compute_versioned_name
from feast.protos.feast.types.EntityKey_pb2 import EntityKey as EntityKeyProto
from feast.protos.feast.types.Value_pb2 import Value as ValueProto
from feast.type_map import python_values_to_proto_values
from feast.value_type import ValueType

CHUNK_CUSTOMERS = 20_000  # customers per transaction / pipeline: bounded memory, live progress
_DOUBLE_TAG = 0x29  # field 5 (double_val), wire type 1 (64-bit)
_SAMPLE = 64  # values per column checked against Feast's own encoder on every run


class EncodingDrift(RuntimeError):
    """The vectorized encoding no longer matches what this Feast version writes."""


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
    buf[:, 0] = _DOUBLE_TAG
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
    """Serialized ValueProto per row (object array of bytes), and value_text if asked.

    `array` is what Feast itself converts: `pyarrow_column.to_numpy(zero_copy_only=False)`.
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


# ---------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------
@dataclass
class _Encoded:
    """One chunk of one view: customers × features, in the view's feature order."""

    view: FeatureView
    names: list[str]
    blobs: np.ndarray  # (customers, features) object: serialized ValueProto
    texts: np.ndarray | None  # (customers, features) object: value_text (SQLite only)
    timestamps: np.ndarray  # (customers,) datetime64[ns] event timestamps (UTC, naive)


def _encode_view(view: FeatureView, table: pa.Table, *, text: bool, check: bool) -> _Encoded:
    names = [f.name for f in view.features]
    n = table.num_rows
    blobs = np.empty((n, len(names)), dtype=object)
    texts = np.empty((n, len(names)), dtype=object) if text else None
    for j, feature in enumerate(view.features):
        array = table.column(feature.name).to_numpy(zero_copy_only=False)
        b, t = encode_column(array, feature.dtype.to_value_type(), text=text, check=check)
        blobs[:, j] = b
        if texts is not None:
            texts[:, j] = t
    stamps = table.column(view.batch_source.timestamp_field)
    stamps = pd.to_datetime(stamps.to_numpy(zero_copy_only=False))
    return _Encoded(view, names, blobs, texts, stamps)


def _per_unique(stamps: pd.DatetimeIndex, convert: Callable[[datetime], Any]) -> np.ndarray:
    """convert(timestamp) for every row, calling convert once per distinct timestamp."""
    codes, uniques = pd.factorize(stamps)
    lookup = np.empty(len(uniques), dtype=object)
    lookup[:] = [convert(ts.to_pydatetime()) for ts in uniques]
    return lookup[codes]


class _SqliteWriter:
    def __init__(self, store: FeatureStore) -> None:
        from feast.infra.online_stores.sqlite import SqliteOnlineStore

        config = store.config
        self.config = config
        self.path = SqliteOnlineStore._get_db_path(config)
        self.conn = sqlite3.connect(self.path)
        self.versioning = config.registry.enable_online_feature_view_versioning

    def write(self, encoded: list[_Encoded], keys: np.ndarray) -> None:
        from feast.infra.online_stores.sqlite import adapt_datetime_epoch
        from feast.utils import to_naive_utc

        order = np.argsort(keys, kind="stable")  # rows in primary-key order: B-tree appends
        with self.conn:
            for enc in encoded:
                table = compute_table_id(self.config.project, enc.view, self.versioning)
                by_name = np.argsort(enc.names)
                names = np.asarray(enc.names, dtype=object)[by_name]
                f = len(names)
                ts = _per_unique(enc.timestamps, lambda t: adapt_datetime_epoch(to_naive_utc(t)))
                rows = zip(
                    np.repeat(keys[order], f).tolist(),
                    np.tile(names, len(keys)).tolist(),
                    enc.blobs[order][:, by_name].ravel().tolist(),
                    enc.texts[order][:, by_name].ravel().tolist(),
                    np.repeat(ts[order], f).tolist(),
                    repeat(None),
                    strict=False,  # repeat(None) is endless; the others have equal lengths
                )
                self.conn.executemany(_upsert_sql(table), rows)

    def close(self) -> None:
        self.conn.close()


def _upsert_sql(table: str) -> str:
    """Feast 0.67's SqliteOnlineStore.online_write_batch statement (no value_num, no vector)."""
    quoted = '"' + table.replace('"', '""') + '"'
    return (
        f"INSERT INTO {quoted} (entity_key, feature_name, value, value_text, event_ts, "
        "created_ts) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(entity_key, feature_name) DO UPDATE "
        "SET value = excluded.value, value_text = excluded.value_text, "
        "event_ts = excluded.event_ts, created_ts = excluded.created_ts;"
    )


def _resp_bulk(blobs: np.ndarray) -> np.ndarray:
    """RESP bulk strings ($len\\r\\n…\\r\\n) for an object array of bytes."""
    out = np.empty(blobs.shape, dtype=object)
    flat = out.reshape(-1)
    flat[:] = [b"$%d\r\n%s\r\n" % (len(b), b) for b in blobs.reshape(-1).tolist()]
    return out


class _RedisWriter:
    def __init__(self, store: FeatureStore) -> None:
        config = store.config
        self.config = config
        self.online = config.online_store
        self.client = store._get_provider().online_store._get_client(self.online)
        self.project = config.project.encode()
        self.versioning = config.registry.enable_online_feature_view_versioning

    def write(self, encoded: list[_Encoded], keys: np.ndarray) -> None:
        from feast.utils import make_tzaware
        from google.protobuf.timestamp_pb2 import Timestamp

        def ts_bytes(t: datetime) -> bytes:
            stamp = Timestamp()
            stamp.FromDatetime(make_tzaware(t))
            return stamp.SerializeToString()

        n = len(keys)
        parts: list[np.ndarray] = []  # (n, k) object arrays of RESP field/value pairs
        fields = 0
        for enc in encoded:
            view_name = compute_versioned_name(enc.view, self.versioning)
            field_keys = [_mmh3(f"{view_name}:{name}") for name in enc.names]
            heads = np.array([b"$%d\r\n%s\r\n" % (len(k), k) for k in field_keys], dtype=object)
            values = _resp_bulk(enc.blobs)
            pairs = np.empty((n, 2 * len(field_keys)), dtype=object)
            pairs[:, 0::2] = heads
            pairs[:, 1::2] = values
            ts_key = f"_ts:{view_name}".encode()
            stamps = _resp_bulk(_per_unique(enc.timestamps, ts_bytes))
            ts_pairs = np.empty((n, 2), dtype=object)
            ts_pairs[:, 0] = b"$%d\r\n%s\r\n" % (len(ts_key), ts_key)
            ts_pairs[:, 1] = stamps
            parts += [ts_pairs, pairs]
            fields += len(field_keys) + 1
        redis_keys = [k + self.project for k in keys.tolist()]
        heads = np.empty((n, 1), dtype=object)
        heads[:, 0] = [
            b"*%d\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n" % (2 + 2 * fields, len(k), k) for k in redis_keys
        ]
        commands = [heads, *parts]
        replies = n
        ttl = self.online.key_ttl_seconds
        if ttl:
            expire = np.empty((n, 1), dtype=object)
            seconds = str(int(ttl)).encode()
            expire[:, 0] = [
                b"*3\r\n$6\r\nEXPIRE\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                % (len(k), k, len(seconds), seconds)
                for k in redis_keys
            ]
            commands.append(expire)
            replies *= 2
        payload = b"".join(np.concatenate(commands, axis=1).ravel().tolist())
        pool = self.client.connection_pool
        conn = pool.get_connection()
        try:
            conn.send_packed_command([payload])
            for _ in range(replies):
                reply = conn.read_response()
                if isinstance(reply, Exception):
                    raise reply
        except BaseException:
            conn.disconnect()  # unread replies must never reach the next user of the connection
            raise
        finally:
            pool.release(conn)

    def close(self) -> None:
        pass


def bulk_writer_kind(store: FeatureStore) -> str:
    """Which writer `write_rows` uses for this store: "sqlite", "redis" or "feast"."""
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
    return "feast"


def write_rows(
    store: FeatureStore,
    views: Sequence[FeatureView],
    table: pa.Table,
    *,
    join_key: str = "customer_id",
    chunk: int = CHUNK_CUSTOMERS,
    progress: Callable[[int], Any] | None = None,
) -> int:
    """Write every row of `table` (one per entity) for every view; returns rows written.

    `table` holds the join key, each view's timestamp field and every view's features.
    """
    kind = bulk_writer_kind(store)
    if kind == "feast":
        for start in range(0, table.num_rows, chunk):
            part = table.slice(start, chunk).to_pandas()
            for view in views:
                columns = [join_key, view.batch_source.timestamp_field]
                columns += [f.name for f in view.features]
                store.write_to_online_store(view.name, part[columns])
            if progress:
                progress(min(chunk, table.num_rows - start))
        return table.num_rows

    writer = _SqliteWriter(store) if kind == "sqlite" else _RedisWriter(store)
    version = store.config.entity_key_serialization_version
    try:
        for i, start in enumerate(range(0, table.num_rows, chunk)):
            part = table.slice(start, chunk).combine_chunks()  # one batch, as Feast reads it
            keys = EntityKeys(join_key, version).many(part.column(join_key).to_pylist())
            encoded = [
                _encode_view(view, part, text=kind == "sqlite", check=i == 0) for view in views
            ]
            writer.write(encoded, keys)
            if progress:
                progress(part.num_rows)
    finally:
        writer.close()
    return table.num_rows
