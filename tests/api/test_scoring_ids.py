"""A request's ids are normalised once, in api.scoring.predict_customers, and the online read
(api.scoring.lookup, which /health uses too) gets each customer once, already normalised."""

from __future__ import annotations

import api.scoring as scoring


def test_each_id_is_normalised_once_and_each_customer_read_once(
    client, api_settings, known_ids, monkeypatch
):
    serving = client.app.state.serving.current()
    normalised, read = [], []
    real_normalise, reader = scoring.normalize_customer_id, serving.online
    real_read = reader.read
    monkeypatch.setattr(
        scoring, "normalize_customer_id", lambda raw: normalised.append(raw) or real_normalise(raw)
    )
    monkeypatch.setattr(reader, "read", lambda ids: read.append(list(ids)) or real_read(ids))

    known = known_ids[0]
    sent = [f" {known}", known, "NULL", "NULL", "NOBODY1"]
    items = scoring.predict_customers(serving, sent, api_settings)

    assert [(i["customer_id"], i["status"]) for i in items] == [
        (f" {known}", "ok"),  # the first id of the customer, echoed as sent
        ("NULL", "invalid"),
        ("NOBODY1", "not_found"),
    ]
    assert normalised == sent  # once per id sent
    assert read == [[known, "NOBODY1"]]  # once per customer, normalised


def test_health_reads_through_the_same_lookup(client, monkeypatch):
    """/health probes the store with the predictions' own read: a failure there is its 503."""
    serving = client.app.state.serving.current()

    def broken(ids):
        raise ConnectionError("store down")

    monkeypatch.setattr(serving.online, "read", broken)
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["online_store"] == "unreachable"
    assert response.json()["detail"] == "online store: ConnectionError"
