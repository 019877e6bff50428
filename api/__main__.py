"""`python -m api`: serve the API and the web form (see api/server.py)."""

from api.server import main

if __name__ == "__main__":
    main()
