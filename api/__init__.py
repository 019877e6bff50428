"""The serving layer: `uvicorn api.main:app` — JSON API, OpenAPI docs at /docs, web form at /."""
