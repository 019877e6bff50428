"""`python -m api`: serve on API_HOST:API_PORT (the same app `uvicorn api.main:app` serves)."""

import uvicorn

from api.settings import Settings

if __name__ == "__main__":
    settings = Settings()
    uvicorn.run("api.main:app", host=settings.host, port=settings.port)
