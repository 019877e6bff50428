"""The container files, checked without a Docker engine: the compose file is valid for
Debian's docker-compose, the Dockerfile's two images (runtime: the API from the runtime lock
only; pipeline: `make pipeline` from the pipeline lock) are built as compose asks, and every
file, command, port and user they name exists here.

tests/test_locks.py serves the API from the runtime image's files (`runtime_files`) and a venv
of the runtime lock, which is what this file cannot do without an engine."""

from __future__ import annotations

import importlib
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from api.settings import Settings
from tests.conftest import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"
COMPOSE = REPO_ROOT / "docker-compose.yml"
BASE_IMAGE = "python:3.11-slim"
# image target → the lock its venv is installed from, and the stage that installs it
IMAGES = {"runtime": "requirements/runtime.txt", "pipeline": "requirements/pipeline.txt"}


@dataclass
class Stage:
    """One FROM … AS name block of the Dockerfile and its instructions."""

    name: str
    base: str
    instructions: list[tuple[str, str]]

    def args(self, op: str) -> list[str]:
        return [args for each, args in self.instructions if each == op]


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile instruction, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def stages() -> dict[str, Stage]:
    """The Dockerfile's stages by name, in file order (the last one is the default target)."""
    found: dict[str, Stage] = {}
    current: Stage | None = None
    for op, args in _instructions():
        if op == "FROM":
            words = args.split()
            assert len(words) == 3 and words[1].upper() == "AS", f"unnamed stage: FROM {args}"
            current = found[words[2]] = Stage(words[2], words[0], [])
        else:
            assert current is not None, f"{op} before the first FROM"
            current.instructions.append((op, args))
    return found


def lineage(name: str) -> list[Stage]:
    """The stage and the stages it is built FROM, the root first."""
    chain, all_stages = [], stages()
    while name in all_stages:
        chain.insert(0, all_stages[name])
        name = all_stages[name].base
    return chain


def _copy_sources(args: str) -> tuple[str | None, list[str]]:
    """(the --from stage or None, the sources) of a COPY."""
    words = shlex.split(args)
    origin = next((w.split("=", 1)[1] for w in words if w.startswith("--from=")), None)
    return origin, [w for w in words if not w.startswith("--")][:-1]


def runtime_files() -> list[str]:
    """What the runtime image copies from the checkout: the API's code and the files it reads."""
    return [
        source
        for args in stages()["runtime"].args("COPY")
        for origin, sources in [_copy_sources(args)]
        if origin is None
        for source in sources
    ]


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_file_is_valid_for_docker_compose():
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    result = subprocess.run(
        [binary, "-f", str(COMPOSE), "config", "-q"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_compose_has_no_v2_only_keys():
    assert "name" not in _compose()  # docker-compose 1.29 refuses a top-level name


def test_dockerfile_copy_sources_exist():
    all_stages = list(stages())
    copies = [(name, args) for name, stage in stages().items() for args in stage.args("COPY")]
    assert copies
    for name, args in copies:
        origin, sources = _copy_sources(args)
        if origin is not None:  # from an earlier stage, not from the checkout
            assert all_stages.index(origin) < all_stages.index(name), f"{name}: {args}"
            continue
        for source in sources:
            assert (REPO_ROOT / source).exists(), f"COPY source {source} is missing"


def test_every_stage_starts_from_the_slim_python_image():
    for name in stages():
        assert lineage(name)[0].base == BASE_IMAGE, name


def test_each_image_installs_only_its_own_lock():
    for target, lock in IMAGES.items():
        copied = [
            (origin, sources)
            for stage in lineage(target)
            for origin, sources in map(_copy_sources, stage.args("COPY"))
        ]
        venvs = [origin for origin, sources in copied if origin and "/app/.venv" in sources]
        assert len(venvs) == 1, f"{target} copies its venv from {venvs}"
        run = " ".join(args for stage in lineage(venvs[0]) for args in stage.args("RUN"))
        assert "PIP_CONSTRAINT=build-constraints.txt" in run
        installed = re.findall(r"pip install (?:-\S+ )*-r (\S+)", run)
        assert installed == [Path(lock).name], f"{target}: pip installs {installed}"
        (venv_copy,) = [args for args in stages()[venvs[0]].args("COPY") if Path(lock).name in args]
        assert _copy_sources(venv_copy)[1][0] == lock
        # nothing else is installed into the image's venv after it is copied in
        final = " ".join(args for stage in lineage(target) for args in stage.args("RUN"))
        assert "pip install" not in final, target


def test_the_runtime_image_is_the_default_target_and_carries_no_pipeline_code():
    assert list(stages())[-1] == "runtime"  # `docker build .` builds the API image
    files = runtime_files()
    assert "." not in files  # only what the API reads, not the whole checkout
    for pipeline_only in ("orchestration", "backfill", "bench", "requirements", "Makefile"):
        assert pipeline_only not in files


def test_both_images_run_as_a_non_root_user_and_the_api_has_a_healthcheck():
    for target in IMAGES:
        users = [args.strip() for stage in lineage(target) for args in stage.args("USER")]
        assert users and users[-1] not in {"root", "0", "0:0"}, target
        run = " ".join(args for stage in lineage(target) for args in stage.args("RUN"))
        assert re.search(rf"useradd [^&]*\b{re.escape(users[-1])}\b", run), target
    (healthcheck,) = [args for stage in lineage("runtime") for args in stage.args("HEALTHCHECK")]
    assert "/health" in healthcheck
    assert not [args for stage in lineage("pipeline") for args in stage.args("HEALTHCHECK")]


def test_the_served_app_imports_and_the_ports_agree(monkeypatch):
    runtime = lineage("runtime")
    (cmd,) = runtime[-1].args("CMD")
    argv = yaml.safe_load(cmd)  # exec form is a JSON list
    assert argv[:2] == ["python", "-m"]
    assert hasattr(importlib.import_module(f"{argv[2]}.__main__"), "main")
    assert argv[2] in runtime_files()
    default_port = Settings(_env_file=None).port
    for stage in runtime:
        for args in stage.args("ENV"):
            for pair in re.findall(r"(API_\w+)=(\S+)", args):
                monkeypatch.setenv(*pair)
    settings = Settings(_env_file=None)  # what the server in the image reads
    assert settings.host == "0.0.0.0"  # reachable from outside the container
    port = settings.port
    assert port == default_port
    (expose,) = [args for stage in runtime for args in stage.args("EXPOSE")]
    assert int(expose) == port
    (mapping,) = _compose()["services"]["api"]["ports"]
    assert int(str(mapping).split(":")[-1]) == port
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(rf"^PORT \?= {port}$", makefile, re.MULTILINE)


def test_compose_builds_the_api_and_the_pipeline_from_their_own_targets():
    services = _compose()["services"]
    for service, target in (("api", "runtime"), ("pipeline", "pipeline")):
        build = services[service]["build"]
        assert build["context"] == "."
        assert build["target"] == target and target in stages(), service


def test_pipeline_service_runs_an_existing_make_target():
    services = _compose()["services"]
    command = services["pipeline"]["command"]
    assert command[0] == "make"
    (image_cmd,) = lineage("pipeline")[-1].args("CMD")
    assert yaml.safe_load(image_cmd) == command  # `docker run` of the image does the same
    makefile = (REPO_ROOT / "Makefile").read_text()
    for target in command[1:]:
        assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), target
    # make finds its venv installed (it would otherwise rebuild .venv from every lock)
    run = " ".join(args for args in stages()["pipeline"].args("RUN"))
    assert "touch .venv/.installed" in run


def test_pipeline_and_api_share_the_state_and_the_redis_config():
    services = _compose()["services"]
    pipeline, api = services["pipeline"], services["api"]
    assert sorted(pipeline["volumes"]) == sorted(api["volumes"])
    assert set(_compose()["volumes"]) == {v.split(":")[0] for v in api["volumes"]}
    for service in (pipeline, api):
        env = service["environment"]
        assert env["FEAST_FS_YAML_FILE_PATH"] == "feature_repo/feature_store.redis.yaml"
        assert (REPO_ROOT / env["FEAST_FS_YAML_FILE_PATH"]).is_file()
        assert env["REDIS_CONNECTION_STRING"] == "redis:6379"
    assert env["FEAST_FS_YAML_FILE_PATH"].split("/")[0] in runtime_files()
    assert api["depends_on"]["pipeline"]["condition"] == "service_completed_successfully"
    assert "redis" in api["depends_on"]


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    assert {".venv", ".git", "models"} <= set(ignored)
