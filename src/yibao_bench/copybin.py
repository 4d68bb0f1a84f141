"""PostgreSQL's binary COPY format, built a column at a time with numpy.

The bench loader writes about a hundred million rows; a Python loop per row would cost more than
PostgreSQL spends storing them. Here a row is a run of byte segments (the field count, then per
field a 4-byte length and the value). Each segment is an (n, width) byte matrix with an optional
mask of the bytes that are real; the matrices are laid side by side and the padding is squeezed
out with one boolean selection, so a batch costs a few passes over memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt

Bytes2D = npt.NDArray[np.uint8]
Mask2D = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
TRAILER = b"\xff\xff"
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PG_EPOCH_DAY = date(2000, 1, 1).toordinal()


@dataclass
class Segment:
    """Bytes of one part of a value for every row; `mask` marks the real bytes (None: all)."""

    matrix: Bytes2D
    mask: Mask2D | None = None

    def lengths(self) -> Ints:
        if self.mask is None:
            return np.full(self.matrix.shape[0], self.matrix.shape[1], dtype=np.int64)
        return np.asarray(self.mask.sum(axis=1, dtype=np.int64), dtype=np.int64)


@dataclass
class Field:
    segments: list[Segment]
    null: npt.NDArray[np.bool_] | None = field(default=None)


def _big_endian(values: npt.NDArray[np.int64], dtype: str, width: int) -> Bytes2D:
    return np.ascontiguousarray(values.astype(dtype)).view(np.uint8).reshape(-1, width)


def int8(values: npt.ArrayLike, null: npt.NDArray[np.bool_] | None = None) -> Field:
    return Field([Segment(_big_endian(np.asarray(values, dtype=np.int64), ">i8", 8))], null)


def int4(values: npt.ArrayLike) -> Field:
    return Field([Segment(_big_endian(np.asarray(values, dtype=np.int64), ">i4", 4))])


def pg_date(days_since_2000: npt.ArrayLike) -> Field:
    return Field([Segment(_big_endian(np.asarray(days_since_2000, dtype=np.int64), ">i4", 4))])


def timestamptz(micros_since_2000: npt.ArrayLike) -> Field:
    return Field([Segment(_big_endian(np.asarray(micros_since_2000, dtype=np.int64), ">i8", 8))])


def text(*segments: Segment, null: npt.NDArray[np.bool_] | None = None) -> Field:
    return Field(list(segments), null)


def constant(value: str | bytes, n: int) -> Segment:
    raw = value.encode() if isinstance(value, str) else value
    row = np.frombuffer(raw, dtype=np.uint8)
    return Segment(np.ascontiguousarray(np.broadcast_to(row, (n, len(raw)))))


def digits(values: npt.ArrayLike, width: int, *, pad: bool = True) -> Segment:
    """Decimal digits right-aligned in `width`; zero-padded, or with the leading zeros dropped."""
    rest = np.asarray(values, dtype=np.int64).copy()
    n = rest.shape[0]
    out = np.empty((n, width), dtype=np.uint8)
    for column in range(width - 1, -1, -1):
        rest, digit = np.divmod(rest, 10)
        out[:, column] = digit + 48
    if pad:
        return Segment(out)
    count = np.ones(n, dtype=np.int64)
    value = np.asarray(values, dtype=np.int64)
    for power in range(1, width):
        count += value >= 10**power
    mask = np.arange(width)[None, :] >= (width - count)[:, None]
    return Segment(out, mask)


class Vocabulary:
    """A small list of strings (names, institutions) picked by index, UTF-8 encoded once."""

    def __init__(self, words: Sequence[str]) -> None:
        encoded = [w.encode() for w in words]
        self.width = max(len(e) for e in encoded)
        self.table = np.zeros((len(encoded), self.width), dtype=np.uint8)
        self.lengths = np.array([len(e) for e in encoded], dtype=np.int64)
        for i, e in enumerate(encoded):
            self.table[i, : len(e)] = np.frombuffer(e, dtype=np.uint8)

    def pick(self, index: npt.ArrayLike) -> Segment:
        idx = np.asarray(index, dtype=np.int64)
        mask = np.arange(self.width)[None, :] < self.lengths[idx][:, None]
        return Segment(self.table[idx], mask)


def fixed_bytes(values: Sequence[bytes], width: int) -> Segment:
    """Values that all have `width` bytes (ciphertexts, hex digests) as one matrix."""
    joined = b"".join(values)
    if len(joined) != width * len(values):
        raise ValueError("fixed_bytes needs values of equal width")
    return Segment(np.frombuffer(joined, dtype=np.uint8).reshape(len(values), width))


def encode(fields: Sequence[Field], n: int) -> bytes:
    """The rows of one batch, without the stream's header and trailer."""
    if n == 0:
        return b""
    segments: list[Segment] = [constant(len(fields).to_bytes(2, "big"), n)]
    for column in fields:
        length = np.zeros(n, dtype=np.int64)
        for seg in column.segments:
            length += seg.lengths()
        parts = column.segments
        if column.null is not None:
            length = np.where(column.null, -1, length)
            keep = ~column.null[:, None]
            parts = [Segment(s.matrix, keep if s.mask is None else (s.mask & keep)) for s in parts]
        segments.append(Segment(_big_endian(length, ">i4", 4)))
        segments.extend(parts)
    matrix = np.concatenate([s.matrix for s in segments], axis=1)
    if all(s.mask is None for s in segments):
        return matrix.tobytes()
    mask = np.ones(matrix.shape, dtype=np.bool_)
    offset = 0
    for seg in segments:
        width = seg.matrix.shape[1]
        if seg.mask is not None:
            mask[:, offset : offset + width] = seg.mask
        offset += width
    return matrix[mask].tobytes()


def micros_since_2000(moment: datetime) -> int:
    delta = moment - PG_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def days_since_2000(day: date) -> int:
    return day.toordinal() - PG_EPOCH_DAY
