"""What must never be in a log: the suite's own secrets, and anything shaped like an ID number,
a mobile number or a bearer token (issue #24: the log once held all of them)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.identity import CARD_PASSWORD, PASSWORD

# The file the whole suite logs into (tests/conftest.py sets it up before the first test).
SUITE_LOG: list[Path] = []
# Every password the suite and the demo use; a log line holding one of them leaked it.
SUITE_SECRETS = (PASSWORD, "Staff@2026", "Yibao@2026", CARD_PASSWORD)
_TIMESTAMP = re.compile(r'"timestamp": "[^"]*"')
_SHAPES = {
    "id number": re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])"),
    "phone": re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])"),
    "bearer token": re.compile(r"(?i)bearer\s+(?!\[redacted\])\S+"),
}


def find_leaks(text: str, secrets: tuple[str, ...] = ()) -> list[str]:
    """One line per leak: what kind, and the log line it is in (the secret itself masked)."""
    found = []
    for number, logged in enumerate(text.splitlines(), start=1):
        # The record's own time is no secret: its microseconds once read as the card password.
        line = _TIMESTAMP.sub("", logged)
        for secret in (*SUITE_SECRETS, *secrets):
            if secret and secret in line:
                found.append(f"line {number}: a secret ({secret[:2]}…) in {line[:200]}")
        for kind, shape in _SHAPES.items():
            if shape.search(line):
                found.append(f"line {number}: {kind} in {shape.sub('<…>', line)[:200]}")
    return found
