"""`python -m api`: serve on API_HOST:API_PORT (the same app `uvicorn api.main:app` serves).

The production settings: API_WORKERS processes (default 2, one per core), uvloop and
httptools, no uvicorn access log (the app writes one JSON line per request itself). The same
as `uvicorn api.main:app --workers 2 --loop uvloop --http httptools --no-access-log`.
"""

import uvicorn

from api.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    uvicorn.run(
        "api.main:app",
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
    )
