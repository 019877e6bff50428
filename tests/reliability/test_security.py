"""Security checks not covered elsewhere.

Already covered: the admin token (tests/api/test_operations.py::test_reload_needs_the_token,
…::test_reload_is_disabled_without_a_configured_token), a body over the limit by
Content-Length (tests/api/test_predictions.py::test_body_over_the_byte_limit_is_413), ids
shown as text in a real browser (tests/api/test_live_server.py::test_web_form_in_a_real_browser),
no secrets in tracked files (tests/test_no_secrets.py), a non-root container
(tests/test_docker.py::test_dockerfile_runs_as_a_non_root_user_with_a_healthcheck).

Here: a streamed (chunked) body with no Content-Length over the limit, against the real
server; and that the page can never turn ids or feature values into markup: the template is
autoescaped and marks nothing safe, and the script writes data with textContent only.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest

from api.routes.web import TEMPLATES
from api.settings import Settings
from tests.conftest import REPO_ROOT

STATIC_JS = REPO_ROOT / "api" / "static" / "app.js"
TEMPLATES_DIR = REPO_ROOT / "api" / "templates"
# every DOM sink that parses a string as HTML or code
HTML_SINKS = re.compile(
    r"\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write|\beval\s*\(|"
    r"new\s+Function\s*\(|createContextualFragment|\.srcdoc\s*="
)


def _chunks(body: bytes, size: int = 16 * 1024):
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.slow
def test_streamed_body_over_the_limit_is_refused_by_the_real_server(live_server, known_ids):
    base_url, _ = live_server
    limit = Settings(_env_file=None).max_body_bytes  # the served app's default
    big = json.dumps({"customer_ids": [known_ids[0]] * (limit // 10)}).encode()
    assert len(big) > limit
    # a generator body goes out chunked: no Content-Length for the middleware to trust
    response = httpx.post(
        f"{base_url}/predict/batch",
        content=_chunks(big),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413, response.text[:300]
    assert str(limit) in response.json()["detail"]
    # the same way of sending, under the limit, is served
    small = json.dumps({"customer_ids": known_ids[:3]}).encode()
    response = httpx.post(
        f"{base_url}/predict/batch",
        content=_chunks(small, 8),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200 and response.json()["found"] == 3


def test_the_page_template_is_autoescaped_and_marks_nothing_safe():
    templates = list(TEMPLATES_DIR.glob("*.html"))
    assert templates
    autoescape = TEMPLATES.env.autoescape
    for template in templates:
        on = autoescape(template.name) if callable(autoescape) else autoescape
        assert on, f"{template.name} is not autoescaped"
        text = template.read_text()
        assert not re.search(r"\|\s*safe\b|autoescape\s+false|Markup\(", text), template.name


def test_the_page_script_writes_data_as_text_only():
    script = STATIC_JS.read_text()
    sinks = [m.group(0) for m in HTML_SINKS.finditer(script)]
    assert sinks == [], f"app.js parses strings as HTML or code: {sinks}"
    assert "textContent" in script


def test_markup_in_an_id_comes_back_as_json_never_html(client):
    """The API echoes ids only inside JSON answers, never in an HTML content type."""
    xss = "<script>alert(1)</script>"
    for response in (
        client.post("/predict/batch", json={"customer_ids": [xss]}),
        client.get("/customers/%3Cscript%3E/prediction"),
        client.post("/predict", json={"customer_id": xss}),
    ):
        assert response.headers["content-type"].startswith("application/json")
    page = client.get("/")
    assert "script-src 'self'" in page.headers["content-security-policy"]
