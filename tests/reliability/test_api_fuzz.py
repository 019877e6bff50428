"""Schemathesis against the app's own OpenAPI schema: generated requests to every documented
operation (admin included), through the real app with the session's trained model and its
SQLite online store. No answer may be a 5xx, and every answer must match what /openapi.json
promises (status code, content type, headers, body schema), for valid requests (positive
mode) and invalid ones (negative mode) alike. Generated ids are almost never real customers,
so the same checks also run on requests for known customers and an authorised reload.

Bugs this found, fixed in api/: a huge what-if number (> float32) was a 500 from XGBoost;
an invalid id in the path answered a 422 body that was not the documented
HTTPValidationError; an undecodable body's 400 was undocumented.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, checks
from schemathesis.specs.openapi import checks as openapi_checks

from api.main import create_app
from tests.api.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.slow

CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]
# Not negative_data_rejection: the what-if body is deliberately lax (pydantic strict=False,
# api/feature_inputs.py), so `false` for an integer feature is read as 0, not refused.
EXAMPLES_PER_OPERATION = 100  # per mode: ~15 s for all operations on a 2-core box
OPERATIONS = {
    "POST /predict", "GET /customers/{customer_id}/prediction", "POST /predict/batch",
    "POST /predict/features", "GET /model", "GET /health", "POST /admin/reload",
}  # fmt: skip
NO_INPUT = {
    "GET /model", "GET /health", "GET /health/serve-log", "GET /monitoring",
    "GET /monitoring/report",
}  # fmt: skip
# nothing negative mode can make invalid (hypothesis says Unsatisfiable): no input, or only
# the optional X-Admin-Token header, which any string satisfies
NOTHING_INVALID = {*NO_INPUT, "POST /admin/reload"}


def _record(failures: dict, label: str, case, exc: BaseException) -> None:
    message = f"{type(exc).__name__}: {str(exc)[:1500]}"
    failures.setdefault(label, (message, case.as_curl_command()))


def fuzz(app, mode: GenerationMode, max_examples: int = EXAMPLES_PER_OPERATION) -> dict:
    """Every operation of the app's schema, up to `max_examples` generated cases each;
    returns {operation label: (the first failure, the request as curl)}."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= OPERATIONS
    failures: dict[str, tuple[str, str]] = {}
    calls: dict[str, int] = {}
    for operation in operations:
        if mode == GenerationMode.NEGATIVE and operation.label in NOTHING_INVALID:
            continue

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=max_examples,
            deadline=None,
            derandomize=True,  # the same requests every run: a failure reproduces
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            calls[case.operation.label] = calls.get(case.operation.label, 0) + 1
            try:
                response = case.call()
                case.validate_response(response, checks=CHECKS)
            except (Exception, BaseExceptionGroup) as exc:  # a check failed, or the app raised
                _record(failures, case.operation.label, case, exc)
                raise

        try:
            run()
        except (Exception, BaseExceptionGroup):
            if operation.label not in failures:
                raise  # not a finding: the fuzz itself is broken
            # recorded; the other operations still get fuzzed
    # every operation with something to generate was really exercised
    exercised = {label for label, n in calls.items() if n >= min(5, max_examples)} | set(failures)
    positive = mode == GenerationMode.POSITIVE
    assert exercised >= OPERATIONS - (NO_INPUT if positive else NOTHING_INVALID), calls
    if positive:
        assert all(calls.get(label) for label in NO_INPUT), calls
    return failures


def known_cases(app, known_ids: list[str]) -> dict:
    """The requests fuzzing rarely makes: real customers, and the admin token."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    op = schema.find_operation_by_label
    cases = [
        (op("POST /predict").Case(body={"customer_id": known_ids[0]}), 200),
        (op("GET /customers/{customer_id}/prediction").Case(
            path_parameters={"customer_id": f" {known_ids[1]} "}), 200),
        (op("POST /predict/batch").Case(
            body={"customer_ids": [*known_ids[:5], "NOBODY123", "NULL"]}), 200),
        (op("POST /predict").Case(body={"customer_id": "NOBODY123"}), 404),
        (op("POST /predict/features").Case(body={"recency_days": 4, "orders_count": 9}), 200),
        (op("POST /admin/reload").Case(headers={"X-Admin-Token": ADMIN_TOKEN}), 200),
        (op("POST /admin/reload").Case(), 401),
        (op("POST /admin/reload").Case(headers={"X-Admin-Token": "x" * 30}), 403),
    ]  # fmt: skip
    failures: dict[str, tuple[str, str]] = {}
    for case, status in cases:
        label = f"{case.operation.label} expecting {status}"
        try:
            response = case.call()
            assert response.status_code == status, (response.status_code, response.text[:500])
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:
            _record(failures, label, case, exc)
    return failures


@pytest.fixture(scope="module")
def fuzzed_app(api_settings, warehouse, scores_file, monitor_file):
    """An app of its own (the fuzz calls /admin/reload), on the session's real state,
    started (lifespan) so it serves the trained model from the first request, with the
    score file (`python -m scoring`), the segment mart and the monitoring report that
    /audiences, /insights and /monitoring read: without them those answer 503 by design,
    which says nothing about hostile input."""
    settings = api_settings.model_copy(
        update={
            "scores_path": scores_file,
            "segment_rates_path": warehouse.features_dir / "segment_repeat_rates.parquet",
            "monitoring_path": monitor_file,
        }
    )
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/health").json()["ready"] is True
        yield app


def _report(failures: dict) -> str:
    return "\n\n".join(f"{label}:\n{msg}\n{curl}" for label, (msg, curl) in failures.items())


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_generated_requests_get_documented_non_5xx_answers(fuzzed_app, mode):
    failures = fuzz(fuzzed_app, mode)
    assert not failures, _report(failures)


def test_known_customers_and_the_admin_token_get_documented_answers(fuzzed_app, known_ids):
    failures = known_cases(fuzzed_app, known_ids)
    assert not failures, _report(failures)
