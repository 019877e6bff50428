"""The locks per role (requirements/): runtime (the API image) ⊂ pipeline (the pipeline image)
⊂ dev (.venv for developers and CI), at the same versions wherever a package is in two; the
runtime lock free of the development and Spark stacks; and enough on its own for the API.

That last one is proven the only way that cannot be fooled by the development venv: a venv is
built from the runtime lock alone, in the test, and `python -m api` runs from it over exactly
the files the runtime image copies (tests/test_docker.py runtime_files), answering /health,
/predict, the web form and /docs. Every third-party module the API's code imports, at the top
or inside a function, must import in that venv too.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tests.conftest import REPO_ROOT, run
from tests.support.services import free_port, stop, wait_until_ready
from tests.test_docker import runtime_files

REQUIREMENTS = REPO_ROOT / "requirements"
ROLES = ("runtime", "pipeline", "dev")  # each includes the one before it
LOCKS = {role: REQUIREMENTS / f"{role}.txt" for role in ROLES}
# the development stack (tests, lint, browser), the warehouse and schedule tools, and Spark
NOT_AT_RUNTIME = re.compile(
    r"^(pyspark|py4j|playwright|pytest.*|hypothesis.*|schemathesis|ruff|sqlfluff|diff-cover"
    r"|dbt-.*|dagster.*|httpx)$"
)
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")


def _canonical(name: str) -> str:
    """PEP 503 names: XStatic_Bootstrap and xstatic-bootstrap are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(role: str) -> dict[str, str]:
    """name → version of a lock; every line that is not a comment is an exact pin."""
    found = {}
    for line in LOCKS[role].read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = PIN.match(line.strip())
        assert match, f"{LOCKS[role].name}: not an exact pin: {line!r}"
        found[_canonical(match[1])] = match[2]
    return found


def _direct(role: str) -> set[str]:
    """The packages a role's .in file asks for, following its -r includes."""
    names: set[str] = set()
    for line in (REQUIREMENTS / f"{role}.in").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            names |= _direct(Path(line[3:].strip()).stem)
        elif line:
            names.add(_canonical(re.split(r"[\[=<>~!; ]", line, maxsplit=1)[0]))
    return names


def _module_file(module: str) -> Path | None:
    """The checkout's file for a first-party module, None for anything else."""
    path = REPO_ROOT.joinpath(*module.split("."))
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def api_imports(entry: str = "api.__main__") -> tuple[set[str], set[str]]:
    """(first-party modules, third-party modules) `python -m api` can import: the closure over
    the checkout's modules from api/__main__.py, imports inside functions included."""
    first, third, todo = set(), set(), [entry]
    while todo:
        module = todo.pop()
        path = _module_file(module)
        if module in first or path is None:
            continue
        first.add(module)
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # its packages run first
        package = parts if path.name == "__init__.py" else parts[:-1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(package[: len(package) - node.level + 1] if node.level else [])
                origin = ".".join(filter(None, [base, node.module]))
                names = [origin] + [f"{origin}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if _module_file(top):
                    todo.append(name)
                elif top not in sys.stdlib_module_names and top != "__future__":
                    third.add(name if isinstance(node, ast.Import) else origin)
    return first, third


def test_every_lock_pins_every_package_exactly():
    for role in ROLES:
        assert pins(role), role


def test_the_runtime_lock_has_no_development_or_spark_package():
    unwanted = sorted(name for name in pins("runtime") if NOT_AT_RUNTIME.match(name))
    assert not unwanted, f"requirements/runtime.txt carries {unwanted}"
    # the pipeline image has Spark and dbt but not the development stack
    dev_only = {"playwright", "pytest", "hypothesis", "schemathesis", "ruff", "sqlfluff"}
    assert not dev_only & set(pins("pipeline"))
    assert {"pyspark", "dbt-core", "dagster"} <= set(pins("pipeline"))


def test_the_locks_nest_and_agree_on_every_version():
    runtime, pipeline, dev = (pins(role) for role in ROLES)
    for small, big, label in (
        (runtime, pipeline, "runtime ⊂ pipeline"),
        (pipeline, dev, "pipeline ⊂ dev"),
    ):
        assert not set(small) - set(big), f"{label}: missing {sorted(set(small) - set(big))}"
    differ = {
        name: [lock.get(name) for lock in (runtime, pipeline, dev)]
        for name in dev
        if len({lock[name] for lock in (runtime, pipeline, dev) if name in lock}) > 1
    }
    assert not differ, f"versions differ between the locks (runtime, pipeline, dev): {differ}"


def test_each_lock_holds_what_its_in_file_asks_for():
    for role in ROLES:
        missing = _direct(role) - set(pins(role))
        assert not missing, f"requirements/{role}.txt lacks {sorted(missing)}: run make lock"


def test_make_installs_the_three_locks_and_locks_each_from_its_in_file():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(r"^LOCK_ROLES := runtime pipeline dev$", makefile, re.M)
    install = re.search(r"^\$\(VENV\)/\.installed: (.*)\n((?:\t.*\n)+)", makefile, re.M)
    assert install and "$(LOCKS)" in install[1] and "build-constraints.txt" in install[1]
    assert "PIP_CONSTRAINT=build-constraints.txt" in install[2]
    assert "$(addprefix -r ,$(LOCKS))" in install[2]
    lock = re.search(r"^lock:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert lock and "requirements/$$role.in" in lock[1] and "-c requirements/dev.txt" in lock[1]
    assert not (REPO_ROOT / "requirements.txt").exists()  # one set of locks, not two


def test_the_api_reaches_no_pipeline_or_development_code():
    first, third = api_imports()
    assert "api.server" in first and "modeling.artifact" in first
    tops = {name.split(".")[0] for name in third}
    assert not tops & {"pyspark", "dbt", "dagster", "playwright", "pytest", "httpx"}, tops
    # every first-party package the API imports is in the runtime image
    packages = {name.split(".")[0] for name in first}
    assert packages <= set(runtime_files()), packages - set(runtime_files())


@pytest.fixture(scope="module")
def runtime_python(tmp_path_factory) -> Path:
    """A venv with the runtime lock alone (pip's cache makes it a minute, not a download)."""
    venv = tmp_path_factory.mktemp("runtime-venv")
    run([sys.executable, "-m", "venv", str(venv)])
    run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
         "-r", str(LOCKS["runtime"])],
        env={"PIP_CONSTRAINT": str(REPO_ROOT / "build-constraints.txt")},
    )  # fmt: skip
    return venv / "bin" / "python"


@pytest.fixture(scope="module")
def runtime_image(tmp_path_factory) -> Path:
    """A folder with what the runtime image copies from the checkout, and nothing more."""
    root = tmp_path_factory.mktemp("runtime-image")
    for source in runtime_files():
        if (REPO_ROOT / source).is_dir():
            shutil.copytree(
                REPO_ROOT / source, root / source, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            (root / source).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / source, root / source)
    return root


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without what would let the development venv leak in."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    return {**env, **extra}


@pytest.mark.slow
def test_the_runtime_venv_is_the_runtime_lock_and_nothing_else(runtime_python):
    frozen = subprocess.run(
        [str(runtime_python), "-m", "pip", "freeze", "--disable-pip-version-check"],
        capture_output=True, text=True, check=True, env=_clean_env(),
    ).stdout  # fmt: skip
    installed = {_canonical(m[1]): m[2] for m in map(PIN.match, frozen.split()) if m}
    assert installed == pins("runtime")


@pytest.mark.slow
def test_every_module_the_api_imports_is_in_the_runtime_lock(runtime_python, tmp_path):
    _, third = api_imports()
    probe = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    result = subprocess.run(
        [str(runtime_python), "-c", probe, *sorted(third)],
        cwd=tmp_path, capture_output=True, text=True, env=_clean_env(),
    )  # fmt: skip
    assert result.returncode == 0, f"the runtime lock misses an import of the API:\n{result.stderr}"


@pytest.mark.slow
def test_the_api_serves_from_the_runtime_lock_alone(
    runtime_python, runtime_image, trained_models, feature_store, warehouse, tmp_path
):
    features = pd.read_parquet(warehouse.features_dir / "customer_features.parquet")
    customer = features.loc[features["event_timestamp"].idxmax(), "customer_id"]  # online
    port = free_port()
    env = _clean_env(
        API_HOST="127.0.0.1", API_PORT=str(port), API_WORKERS="1",
        API_MODELS_DIR=str(trained_models), API_FEAST_DATA_DIR=str(feature_store.feast_data_dir),
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    with (tmp_path / "server.log").open("w") as log:
        server = subprocess.Popen(
            [str(runtime_python), "-m", "api"], cwd=runtime_image, env=env, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        try:
            wait_until_ready(base_url, server, seconds=240)
        except RuntimeError as exc:
            raise AssertionError(f"{exc}\n{(tmp_path / 'server.log').read_text()[-4000:]}") from exc
        health = httpx.get(f"{base_url}/health", timeout=30)
        assert health.status_code == 200 and health.json()["ready"] is True
        predicted = httpx.post(f"{base_url}/predict", json={"customer_id": customer}, timeout=30)
        assert predicted.status_code == 200, predicted.text
        assert 0 <= predicted.json()["probability"] <= 1
        for page in ("/", "/docs"):
            assert httpx.get(base_url + page, timeout=30).status_code == 200, page
    finally:
        stop(server)
