"""`feast ui` (what `make feast-ui` runs) in a real Chromium over the session's feature store.

The UI is the real `feast -c feature_repo ui` CLI in a subprocess on a free loopback port, with
FEAST_FS_YAML_FILE_PATH pointing it at a yaml whose registry is the session store's (the one
tests/conftest.py applied and materialized), so the repo's data/ is never read. Every request
the page makes outside that port is aborted and recorded: the UI must work offline, and its
pages name the entity, the three feature views and the model's FeatureService.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from feature_repo.contract import FEATURE_SERVICE
from tests.api.conftest import chromium_path  # noqa: F401 (the fixture)
from tests.api.test_live_server import BROWSER_ARGS
from tests.conftest import REPO_ROOT
from tests.support import services

PROJECT = "repeat_purchase"
VIEWS = ("customer_behaviour", "customer_calendar", "customer_profile")
SCREEN = REPO_ROOT / "docs" / "screens" / "feast-ui-1366.png"


@pytest.fixture(scope="module")
def feast_ui(feature_store, tmp_path_factory) -> Iterator[str]:
    """The real `feast ui` over the session store's registry; yields its base URL."""
    data_dir = Path(feature_store.feast_data_dir)
    workdir = tmp_path_factory.mktemp("feast-ui")
    config = yaml.safe_load((REPO_ROOT / "feature_repo" / "feature_store.yaml").read_text())
    config["registry"] = str(data_dir / "registry.db")
    config["online_store"]["path"] = str(data_dir / "online_store.db")
    (workdir / "feature_store.yaml").write_text(yaml.safe_dump(config))
    port = services.free_port()
    log = (workdir / "ui.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "feast"), "-c", "feature_repo", "ui",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "FEAST_FS_YAML_FILE_PATH": str(workdir / "feature_store.yaml")},
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        try:
            services.wait_until_ready(base_url, process, seconds=120, path="/projects-list.json")
        except RuntimeError as exc:
            raise AssertionError(f"{exc}\n{(workdir / 'ui.log').read_text()[-4000:]}") from exc
        yield base_url
    finally:
        services.stop(process)
        log.close()


@pytest.fixture(scope="module")
def offline_page(chromium_path, feast_ui):  # noqa: F811 (the fixture imported above)
    """A 1366×800 page that may only reach the UI's own port; `page.outside` lists the rest."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path), args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 800})
        page.outside = []

        def only_local(route):
            if route.request.url.startswith(feast_ui):
                route.continue_()
            else:
                page.outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_local)
        try:
            yield page
        finally:
            browser.close()


def test_feature_views_listed(offline_page, feast_ui, feature_store):
    views = sorted(view.name for view in feature_store.list_feature_views())
    assert views == list(VIEWS)
    offline_page.goto(f"{feast_ui}/p/{PROJECT}/feature-view")
    for name in views:
        offline_page.get_by_role("link", name=name, exact=True).wait_for(timeout=30_000)
    offline_page.screenshot(path=str(SCREEN))
    assert offline_page.outside == []


def test_feature_service_listed(offline_page, feast_ui):
    offline_page.goto(f"{feast_ui}/p/{PROJECT}/feature-service")
    offline_page.get_by_text(FEATURE_SERVICE, exact=True).wait_for(timeout=30_000)
    assert FEATURE_SERVICE.startswith("repeat_purchase_")
    assert offline_page.outside == []


def test_entity_listed(offline_page, feast_ui):
    offline_page.goto(f"{feast_ui}/p/{PROJECT}/entity")
    offline_page.get_by_role("link", name="customer", exact=True).wait_for(timeout=30_000)
    offline_page.get_by_text("customer_id", exact=True).wait_for(timeout=30_000)
    assert offline_page.outside == []
