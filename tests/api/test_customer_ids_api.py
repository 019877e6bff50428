"""The API takes ids by the project's one rule (ingest.customer_ids), wherever an id comes in.

The session's customers are all `C` + 7 digits, so ids of other shapes are shown to reach the
store intact by the 404 that names them exactly (not a 422, and not a route miss): the same
text staging would have stored. Before, the API upper-cased ids and refused anything but
letters, digits and `_.:@-`, so such customers could never be looked up.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from ingest.customer_ids import rule

# valid under the rule, none of them in the store
ODD_IDS = [
    "c0000001",  # case is kept: a different customer from C0000001
    "K 005",  # inner space
    "Ünïcødé-客户-42",
    "a/b",
    "100%",
    "who?",
    "x#y&z=1",
    "<script>alert(1)</script>",
    'O\'Brien, "Ltd"',
    "+44 20 7946 0018",
    "x" * 128,
]
PLACEHOLDERS = ["", "   ", "NULL", " n/a ", "NaN", "None", "#N/A", "-", "?", "\u00a0\u200b"]
INVALID = ["x" * 129, "C1\x00", "C1\nC2", "tab\there", "C1\x7f"]


def _detail(response) -> str:
    return str(response.json()["detail"])


@pytest.mark.parametrize("odd", ODD_IDS)
def test_any_text_is_an_id_by_post_and_by_url(client, odd):
    by_post = client.post("/predict", json={"customer_id": odd})
    assert by_post.status_code == 404, by_post.text
    assert f"customer {odd} is not" in _detail(by_post)
    by_get = client.get(f"/customers/{quote(odd, safe='')}/prediction")
    assert by_get.status_code == 404, by_get.text
    assert by_get.json() == by_post.json()


def test_known_customer_by_any_route_after_trimming(client, known_ids):
    known = known_ids[0]
    padded = f"\u3000 {known}\u00a0\u200b\t"  # ideographic, no-break, zero-width spaces
    expected = client.post("/predict", json={"customer_id": known}).json()
    assert expected["customer_id"] == known
    assert client.post("/predict", json={"customer_id": padded}).json() == expected
    assert client.get(f"/customers/{quote(padded, safe='')}/prediction").json() == expected
    lower = client.post("/predict", json={"customer_id": known.lower()})
    assert lower.status_code == 404  # case is kept


@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_placeholders_are_422_with_a_message(client, placeholder):
    response = client.post("/predict", json={"customer_id": placeholder})
    assert response.status_code == 422
    assert "placeholder for no id" in _detail(response)
    if placeholder.strip():
        by_get = client.get(f"/customers/{quote(placeholder, safe='')}/prediction")
        assert by_get.status_code == 422 and "placeholder" in _detail(by_get)


@pytest.mark.parametrize("bad", INVALID)
def test_too_long_or_control_characters_are_422(client, bad):
    response = client.post("/predict", json={"customer_id": bad})
    assert response.status_code == 422
    assert f"at most {rule().max_length} characters" in _detail(response)


def test_batch_answers_each_customer_once_in_order(client, known_ids):
    a, b = known_ids[0], known_ids[1]
    ids = [f" {b}", a, "NULL", b, f"{a}\u00a0", "nobody-1", "NULL", a.lower(), "x\x00"]
    response = client.post("/predict/batch", json={"customer_ids": ids})
    assert response.status_code == 200
    body = response.json()
    items = body["items"]
    assert [i["customer_id"] for i in items] == [f" {b}", a, "NULL", "nobody-1", a.lower(), "x\x00"]
    assert [i["status"] for i in items] == [
        "ok",
        "ok",
        "invalid",
        "not_found",
        "not_found",
        "invalid",
    ]
    assert items[0]["prediction"]["customer_id"] == b
    assert "placeholder" in items[2]["error"] and "control characters" in items[5]["error"]
    assert body["count"] == 6 and body["found"] == 2
