# Two images, one per role, each with its own lock (requirements/):
#   runtime  — the API, `python -m api`, from requirements/runtime.txt only (the default target):
#              docker build --target runtime -t repeat-purchase-api .
#   pipeline — the one-shot `make pipeline` (sample → dbt → Feast → train → score), from
#              requirements/pipeline.txt: docker build --target pipeline -t repeat-purchase-pipeline .
# Each venv is built in a stage of its own and copied into its image, so pip's work, the build
# constraints and the other role's packages stay out of it.

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/app/.venv/bin:$PATH
WORKDIR /app
# the non-root user both images run as; it owns only what it writes
RUN useradd --create-home --uid 10001 app

FROM base AS runtime-venv
COPY requirements/runtime.txt build-constraints.txt ./
RUN python -m venv .venv \
    && PIP_CONSTRAINT=build-constraints.txt .venv/bin/pip install -r runtime.txt

FROM base AS pipeline-venv
COPY requirements/pipeline.txt build-constraints.txt ./
RUN python -m venv .venv \
    && PIP_CONSTRAINT=build-constraints.txt .venv/bin/pip install -r pipeline.txt

# The pipeline image: the whole checkout (dbt project, Feast repo, code) and `make`. The venv
# lives where the Makefile expects it (.venv) and is marked installed, so `make pipeline` does
# not rebuild it from the development lock. (Spark jobs, python -m backfill, also need Java.)
FROM base AS pipeline
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*
COPY --from=pipeline-venv /app/.venv .venv
COPY . .
# it writes data/ and models/ (named volumes in compose) and, for dbt, target/, logs/ and
# .user.yml beside the project
RUN touch .venv/.installed \
    && mkdir -p data/raw data/features models \
    && chown -R app:app data models \
    && chown app:app .
USER app
CMD ["make", "pipeline"]

# The API image (last, so the default target): the runtime venv and only the code and files
# `python -m api` reads — the packages it imports and the dbt contracts behind the features
# (dbt_project.yml's vars, the marts' yml). tests/test_locks.py serves the API from exactly
# these files and the runtime lock.
FROM base AS runtime
COPY --from=runtime-venv /app/.venv .venv
COPY api api
COPY feature_repo feature_repo
COPY ingest ingest
COPY modeling modeling
COPY monitoring monitoring
COPY scoring scoring
COPY dbt_project.yml dbt_project.yml
COPY dbt_project/models/marts dbt_project/models/marts
RUN mkdir -p data models \
    && chown -R app:app data models
USER app

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]

# the same server as `make serve`: one SO_REUSEPORT socket per worker (api/server.py); a dead
# worker is restarted in place, and only a crash loop (API_WORKER_RESTART_LIMIT deaths within
# API_WORKER_RESTART_WINDOW_SECONDS) exits non-zero, for compose's restart policy to act
ENV API_HOST=0.0.0.0 \
    API_PORT=8000 \
    API_WORKERS=2
CMD ["python", "-m", "api"]
