"""The API's session fixtures (tests/api/conftest.py), shared here: the same served state."""

from __future__ import annotations

from tests.api.conftest import api_settings, client, known_ids, live_server

__all__ = ["api_settings", "client", "known_ids", "live_server"]
