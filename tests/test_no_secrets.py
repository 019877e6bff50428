"""No credentials in the repository: the files git tracks hold no obvious secrets."""

from __future__ import annotations

import re
import subprocess

from tests.conftest import REPO_ROOT

PATTERNS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}\b"),
    "assigned password": re.compile(
        r"""(?i)\b(password|passwd|secret|api_key|admin_token)\s*[:=]\s*["'][^"'\s$]{8,}["']"""
    ),
}
ALLOWED = {"tests/test_no_secrets.py"}
# values that say they are not real: test fixtures and documentation examples
PLACEHOLDER = re.compile(r"(?i)test|example|changeme|dummy")


def test_tracked_files_hold_no_obvious_secrets():
    files = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    found = []
    for name in files:
        if name in ALLOWED or name.endswith((".parquet", ".gz", ".png")):
            continue
        try:
            text = (REPO_ROOT / name).read_text()
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        for kind, pattern in PATTERNS.items():
            for match in pattern.finditer(text):
                if not PLACEHOLDER.search(match.group(0)):
                    found.append(f"{name}: {kind}")
    assert not found, found
