"""Every customer scored: the batch twin of the API's per-request scoring (`python -m scoring`)."""
