# The API image; docker-compose also runs `make pipeline` in it (same code, same pins).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/app/.venv/bin:$PATH

# make: the pipeline service runs `make pipeline`; nothing else is needed at run time
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# dependencies first, so code changes do not reinstall them; the venv lives where the
# Makefile expects it (.venv) and is marked installed so `make` does not rebuild it
COPY requirements.txt build-constraints.txt ./
RUN python -m venv .venv \
    && PIP_CONSTRAINT=build-constraints.txt .venv/bin/pip install -r requirements.txt \
    && touch .venv/.installed

COPY . .

# a non-root user owns only what it writes: data/ and models/ (named volumes in compose)
RUN useradd --create-home --uid 10001 app \
    && mkdir -p data/raw data/features models \
    && chown -R app:app data models \
    && chown app:app .  # dbt writes target/, logs/ and .user.yml beside the project
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
