"""Identifiers the business uses: psn_no and random tokens."""

from __future__ import annotations

import secrets


def new_psn_no(admdvs: str) -> str:
    """An opaque person number: the region code and 12 random digits (never the ID number)."""
    return admdvs + "".join(secrets.choice("0123456789") for _ in range(12))


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
