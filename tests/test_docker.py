"""The container files, checked without a Docker engine: the compose file is valid for
Debian's docker-compose, and every file, command, port and user they name exists here."""

from __future__ import annotations

import importlib
import re
import shlex
import shutil
import subprocess

import pytest
import yaml

from api.settings import Settings
from tests.conftest import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"
COMPOSE = REPO_ROOT / "docker-compose.yml"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile instruction, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
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
    copies = [args for op, args in _instructions() if op == "COPY"]
    assert copies
    for args in copies:
        sources = [a for a in shlex.split(args) if not a.startswith("--")][:-1]
        for source in sources:
            assert (REPO_ROOT / source).exists(), f"COPY source {source} is missing"


def test_dockerfile_runs_as_a_non_root_user_with_a_healthcheck():
    instructions = _instructions()
    users = [args.strip() for op, args in instructions if op == "USER"]
    assert users and users[-1] not in {"root", "0", "0:0"}
    (healthcheck,) = [args for op, args in instructions if op == "HEALTHCHECK"]
    assert "/health" in healthcheck
    base = [args for op, args in instructions if op == "FROM"]
    assert base == ["python:3.11-slim"]
    run = " ".join(args for op, args in instructions if op == "RUN")
    assert "PIP_CONSTRAINT=build-constraints.txt" in run and "requirements.txt" in run


def test_the_served_app_imports_and_the_ports_agree(monkeypatch):
    (cmd,) = [args for op, args in _instructions() if op == "CMD"]
    argv = yaml.safe_load(cmd)  # exec form is a JSON list
    assert argv[:2] == ["python", "-m"]
    assert hasattr(importlib.import_module(f"{argv[2]}.__main__"), "main")
    default_port = Settings(_env_file=None).port
    for op, args in _instructions():
        if op == "ENV":
            for pair in re.findall(r"(API_\w+)=(\S+)", args):
                monkeypatch.setenv(*pair)
    settings = Settings(_env_file=None)  # what the server in the image reads
    assert settings.host == "0.0.0.0"  # reachable from outside the container
    port = settings.port
    assert port == default_port
    (expose,) = [args for op, args in _instructions() if op == "EXPOSE"]
    assert int(expose) == port
    (mapping,) = _compose()["services"]["api"]["ports"]
    assert int(str(mapping).split(":")[-1]) == port
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(rf"^PORT \?= {port}$", makefile, re.MULTILINE)


def test_pipeline_service_runs_an_existing_make_target():
    services = _compose()["services"]
    command = services["pipeline"]["command"]
    assert command[0] == "make"
    makefile = (REPO_ROOT / "Makefile").read_text()
    for target in command[1:]:
        assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), target


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
    assert api["depends_on"]["pipeline"]["condition"] == "service_completed_successfully"
    assert "redis" in api["depends_on"]


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    assert {".venv", ".git", "models"} <= set(ignored)
