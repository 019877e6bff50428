"""The dbt project at the repo root as Dagster assets, the way dagster-dbt's docs do it.

`DbtProject` + `prepare_if_dev()`: under `dagster dev` the manifest is re-parsed (`dbt parse`)
every time the code location loads, so model edits show up without a manual step. Outside
`dagster dev` (tests, `dagster asset materialize`, a deployment) dagster-dbt expects a manifest
made at build time; a fresh clone has none, so the same preparer parses once when it is missing.

The manifest and every run's artifacts go under DBT_TARGET_PATH (dbt's and dagster-dbt's own
variable; default target/, relative to the repo), so tests can keep them out of the checkout.
Each asset run writes to its own target/<op>-<run>-<id>/ folder: concurrent runs never share
dbt's partial-parse state.
"""

import os
import sys
from pathlib import Path

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from ingest.paths import REPO_ROOT

# dagster-dbt runs `dbt` from PATH (its preparer takes no other): put this interpreter's bin/
# first, as an activated venv does, for `.venv/bin/python -m orchestration` run as is.
VENV_BIN = str(Path(sys.executable).parent)
if os.environ.get("PATH", "").split(os.pathsep)[0] != VENV_BIN:
    os.environ["PATH"] = os.pathsep.join([VENV_BIN, os.environ.get("PATH", "")])


def dbt_project() -> DbtProject:
    """The repo's dbt project (dbt_project.yml and profiles.yml at the root), its manifest
    prepared: re-parsed under `dagster dev`, parsed once when missing otherwise."""
    target = Path(os.environ.get("DBT_TARGET_PATH", "target"))  # as dbt and dagster-dbt read it
    project = DbtProject(project_dir=REPO_ROOT, target_path=target)
    project.prepare_if_dev()
    if not project.manifest_path.exists():
        project.preparer.prepare(project)
    return project


PROJECT = dbt_project()


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=PROJECT)


@dbt_assets(manifest=PROJECT.manifest_path, project=PROJECT)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
    """`dbt build` of the selected models: staging, features, labels, segments and their tests
    (the tests become Dagster asset checks)."""
    yield from dbt.cli(["build"], context=context).stream()
