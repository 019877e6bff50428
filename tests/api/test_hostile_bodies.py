"""Hostile requests against the real server, all on ONE keep-alive connection.

Each request must get a 4xx whose body is strict JSON with a message, and the same socket
must then serve /health: before api.validation, NaN / Infinity / 1e400 in a what-if body and a
lone surrogate anywhere were 500s (the 422 handler could not encode its own echo), after which
the server dropped the connection. http.client with auto_open off raises instead of quietly
reconnecting, so a dropped connection fails the test.
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.slow

JSON = "application/json"
DEEP = 100_000  # brackets: deeper than Python's recursion limit, within the body limit

# (method, path, body bytes, content type or None)
HOSTILE = [
    *[("POST", "/predict/features", b'{"recency_days": %s}' % v, JSON)
      for v in (b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e400", b"1e39")],
    ("POST", "/predict/features", b'{"favourite_category": "\\ud800"}', JSON),
    ("POST", "/predict/features", b'{"recency_days": 1, "recency_days": 2}', JSON),
    ("POST", "/predict/features", b'{"\\udfff": 1}', JSON),
    ("POST", "/predict/features", b"[" * DEEP + b"]" * DEEP, JSON),
    ("POST", "/predict/features", b'{"a":' * 40 + b"1" + b"}" * 40, JSON),
    ("POST", "/predict", b'{"customer_id": "\\ud800"}', JSON),
    ("POST", "/predict", b'{"customer_id": "C1\\udc00x"}', JSON),
    ("POST", "/predict", b'{"customer_id": 1e400}', JSON),
    ("POST", "/predict", b'{"customer_id": 123456789012345678901234567890}', JSON),
    ("POST", "/predict", b'{"customer_id": ' + b"9" * 5000 + b"}", JSON),
    ("POST", "/predict", b'{"customer_id": "A", "customer_id": "B"}', JSON),
    ("POST", "/predict", b'[{"customer_id": "C0000001"}]', JSON),
    ("POST", "/predict", b'"C0000001"', JSON),
    ("POST", "/predict", b"null", JSON),
    ("POST", "/predict", b"", JSON),
    ("POST", "/predict", b'{"customer_id": ', JSON),
    ("POST", "/predict", b'{"customer_id": "\xff\xfe\xc3"}', JSON),  # not UTF-8
    ("POST", "/predict", b'{"customer_id": "\xff\xfe"}', "text/plain"),
    ("POST", "/predict", b'{"customer_id": "C0000001"}', "text/plain"),
    ("POST", "/predict", b"customer_id=C0000001", "application/x-www-form-urlencoded"),
    ("POST", "/predict", b'{"customer_id": "C0000001"}', None),
    ("POST", "/predict", b'{"customer_id": "NULL"}', JSON),
    ("POST", "/predict", b'{"customer_id": "C1\\u0000"}', JSON),
    ("POST", "/predict", b'{"customer_id": "' + b"x" * 5000 + b'"}', JSON),
    ("POST", "/predict/batch", b'{"customer_ids": ["C0000001", "\\ud800"]}', JSON),
    ("POST", "/predict/batch", b'{"customer_ids": "C0000001"}', JSON),
    ("POST", "/predict/batch", b'{"customer_ids": [1e400]}', JSON),
    ("POST", "/predict/batch", b'{"customer_ids": []}', JSON),
    ("POST", "/predict/batch", b'{"customer_ids": [[[["C0000001"]]]]}', JSON),
    ("POST", "/predict/batch", b'{"customer_ids": {"C0000001": 1}}', JSON),
    ("GET", "/customers/%00/prediction", None, None),
    ("GET", "/customers/%FF%FE/prediction", None, None),  # undecodable: U+FFFD, unknown
    ("GET", "/customers/%ED%A0%80/prediction", None, None),  # an encoded lone surrogate
    ("GET", "/customers/NULL/prediction", None, None),
    ("GET", "/customers/%20%09/prediction", None, None),
    ("GET", "/customers/" + "y" * 300 + "/prediction", None, None),
    ("GET", "/customers/x/prediction?customer_id=%FF%00", None, None),
    ("GET", "/model/%FF", None, None),
]  # fmt: skip


def _strict_json(raw: bytes):
    def refuse(name):
        raise ValueError(f"{name} in an answer")

    return json.loads(raw.decode("utf-8"), parse_constant=refuse)


def _request(conn: http.client.HTTPConnection, method, path, body, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response, response.read()


def test_hostile_requests_get_a_4xx_message_and_the_connection_lives(live_server):
    base_url, log_path = live_server
    logged_before = log_path.stat().st_size
    address = urlsplit(base_url)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    conn.auto_open = 0  # a closed connection is an error, never a silent new one
    conn.connect()
    socket_at_start = conn.sock
    failures = []
    try:
        for _ in range(2):  # the second round proves nothing was left broken by the first
            for method, path, body, content_type in HOSTILE:
                label = f"{method} {path} {(body or b'')[:60]!r} ({content_type})"
                response, raw = _request(conn, method, path, body, content_type)
                if not 400 <= response.status < 500:
                    failures.append(f"{label}: {response.status} {raw[:200]!r}")
                    continue
                detail = _strict_json(raw)["detail"]
                assert detail, label
                assert response.getheader("content-type") == JSON, label
                assert not response.will_close, f"{label}: the server closes the connection"
                health, _ = _request(conn, "GET", "/health", None, None)
                assert health.status == 200, label
                assert conn.sock is socket_at_start, label
    finally:
        conn.close()
    assert not failures, "\n".join(failures)
    log = log_path.read_bytes()[logged_before:].decode("utf-8", "replace")
    assert "Traceback" not in log and '"status": 500' not in log, log[-3000:]


def test_strict_json_messages_say_what_is_wrong(client):
    """The 422 names the problem (in ctx.error, FastAPI's place for a JSON decode error)."""
    cases = {
        b'{"recency_days": NaN}': "NaN is not a JSON number",
        b'{"recency_days": 1e400}': "too large",
        b'{"recency_days": 1, "recency_days": 2}': "duplicate key 'recency_days'",
        b"[" * 50 + b"]" * 50: "nested deeper than 32",
        b'{"favourite_category": "\\ud800"}': "lone surrogate",
    }
    for body, words in cases.items():
        response = client.post("/predict/features", content=body, headers={"Content-Type": JSON})
        assert response.status_code == 422, body
        (error,) = response.json()["detail"]
        assert error["type"] == "json_invalid" and words in error["ctx"]["error"], error


def test_a_422_echoes_undecodable_input_as_text(client):
    """A non-JSON content type reaches validation as bytes; the echo is escaped, not a 500."""
    response = client.post(
        "/predict", content=b'{"customer_id": "\xff"}', headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["input"] == '{"customer_id": "\\xff"}'
