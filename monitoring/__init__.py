"""Monitoring of the promoted model (issue #17): is it still right, and is its world the same?

`python -m monitoring` (make monitor) measures realized quality — past batch scores against
the labels dbt computes once their window has closed (:mod:`monitoring.realized`) — and drift
of the latest features and scores against the model's own data (:mod:`monitoring.drift`), and
writes both as monitor.json and a self-contained report.html (:mod:`monitoring.report`).
"""
