"""Money is integer fen (分) everywhere inside yibao.

Yuan strings appear only at the edges (the national interface, CSV files, pages). A float never
touches money: parsing refuses floats outright, and formatting works on integers only. Splits use
largest-remainder rounding so that the parts always add up to the whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from yibao.kernel.errors import DomainError

Fen = int

_YUAN_RE = re.compile(r"^-?\d{1,13}(\.\d{1,2})?$")
# The national interface's amounts: at most 13 digits of yuan, two of fen (BIGINT holds them all).
YUAN_DIGITS = 13
MAX_FEN: Fen = 10 ** (YUAN_DIGITS + 2) - 1


class InvalidAmount(DomainError):
    code = "invalid_amount"


def parse_yuan(value: str | int | Decimal, *, field: str = "amount") -> Fen:
    """Turn a yuan amount with at most two decimals into fen; refuse anything else."""
    if isinstance(value, (bool, float)):
        raise InvalidAmount(f"{field}: amounts must be given as text or integers, not {value!r}")
    if isinstance(value, int):
        if abs(value) >= 10**YUAN_DIGITS:
            raise InvalidAmount(f"{field}: {value!r} has more than {YUAN_DIGITS} digits of yuan")
        return value * 100
    if isinstance(value, Decimal) and (
        not value.is_finite() or value.adjusted() >= YUAN_DIGITS or _exponent(value) < -2
    ):
        # Checked before formatting: 1E+100000000 written out would be a hundred million digits.
        raise InvalidAmount(f"{field}: {value!r} is not an amount in yuan with at most 2 decimals")
    text = format(value, "f") if isinstance(value, Decimal) else value.strip()
    if not _YUAN_RE.match(text):
        raise InvalidAmount(f"{field}: {value!r} is not an amount in yuan with at most 2 decimals")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already refuses these
        raise InvalidAmount(f"{field}: {value!r} is not an amount") from exc
    return int(amount * 100)


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


def format_yuan(fen: Fen) -> str:
    """Fen as a yuan string with exactly two decimals: 12345 -> '123.45', -5 -> '-0.05'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def apply_rate_bp(fen: Fen, rate_bp: int) -> Fen:
    """fen × rate in basis points (1 bp = 0.01%), rounded half up to the fen."""
    numerator = fen * rate_bp
    quotient, remainder = divmod(numerator, 10_000)
    if remainder * 2 >= 10_000:
        quotient += 1
    return quotient


def split_largest_remainder(total: Fen, weights: Sequence[int]) -> list[Fen]:
    """Split `total` in proportion to `weights` so the parts add up exactly to `total`."""
    if total < 0:
        raise ValueError("total must not be negative")
    weight_sum = sum(weights)
    if not weights or weight_sum <= 0 or any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative with a positive sum")
    floors = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    short = total - sum(floors)
    # Ties go to the earlier part so the result is deterministic.
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:short]:
        floors[i] += 1
    return floors
