"""Uploaded documents (claims, 家庭共济 applications): accept only what is safe to keep and show.

- The type is read from the bytes, never from the file name or the browser's word: JPEG, PNG
  and PDF only.
- A size limit (a setting) is checked before anything is parsed.
- Images are decoded and encoded again with Pillow: what is stored is pixels only, with no EXIF
  (location, device) or trailing payload. A decompression bomb is refused, not decoded.
- A PDF cannot be re-encoded here; one that carries scripts, actions, attachments, forms that
  submit or rich media is refused. Its names are read as a PDF reader reads them (PDF 32000-1,
  7.3.5: `/J#61vaScript` is `/JavaScript`), in the file and inside every stream that Flate,
  ASCIIHex or ASCII85 can decode (object streams hide dictionaries in compressed data); a file
  using a filter that is not read here (LZW, RunLength, Crypt), or encrypted object streams, is
  refused.
- Files are stored under `var/uploads/`, outside the web root, under random names; the name the
  person gave is kept only as a label.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import re
import secrets
import warnings
import zlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from yibao.kernel.errors import InvalidInput, NotFound

# Phone photos of invoices are well under this; bigger images are bombs or mistakes.
MAX_IMAGE_PIXELS = 40_000_000
# Names that make a reader act instead of show: scripts and actions (PDF 32000-1, 12.6), embedded
# and attached files (7.11.4, 12.5.6.15), forms that submit or import (12.7.5), XFA and rich media.
_PDF_ACTIVE = frozenset(
    {
        b"JavaScript",
        b"JS",
        b"OpenAction",
        b"AA",
        b"Launch",
        b"EmbeddedFile",
        b"EmbeddedFiles",
        b"FileAttachment",
        b"RichMedia",
        b"XFA",
        b"SubmitForm",
        b"ImportData",
        b"GoToE",
        b"GoToR",
    }
)
# A name runs from `/` to the next white-space or delimiter character (7.2.2, 7.3.5).
_PDF_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# The keyword ends its line with CRLF or LF (7.3.8.1); readers also take a lone CR and spaces.
_PDF_STREAM = re.compile(rb"(?<!end)stream[ \t]*(?:\r\n|\r|\n)")
# Decoded stream bytes read per upload, at most: a few MB of Flate data can claim gigabytes.
_PDF_DECODED_BUDGET = 64 * 1024 * 1024
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|pdf)$")


class UploadRefused(InvalidInput):
    code = "upload_refused"


class DocumentMissing(NotFound):
    code = "document_missing"


class DocumentType(StrEnum):
    JPEG = "image/jpeg"
    PNG = "image/png"
    PDF = "application/pdf"


EXTENSIONS = {DocumentType.JPEG: "jpg", DocumentType.PNG: "png", DocumentType.PDF: "pdf"}


def sniff(data: bytes) -> DocumentType:
    if data.startswith(b"\xff\xd8\xff"):
        return DocumentType.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return DocumentType.PNG
    if data.startswith(b"%PDF-"):
        return DocumentType.PDF
    raise UploadRefused("只能上传 JPG、PNG 图片或 PDF 文件")


def _reencode(data: bytes, kind: DocumentType) -> bytes:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise UploadRefused("图片尺寸过大，请缩小后再上传")
                image.load()
                out = io.BytesIO()
                if kind == DocumentType.JPEG:
                    image.convert("RGB").save(out, format="JPEG", quality=88)
                else:
                    keep = "RGBA" if image.mode in {"RGBA", "LA", "P"} else "RGB"
                    image.convert(keep).save(out, format="PNG", optimize=True)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UploadRefused("图片已损坏或无法识别，请重新拍摄后上传") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadRefused("图片尺寸过大，请缩小后再上传") from exc
    return out.getvalue()


_PDF_ACTIVE_REFUSED = "PDF 含有脚本、动作或附件，无法接收；请打印为普通 PDF 或拍照上传"
_PDF_TOO_COMPLEX = "PDF 文件过于复杂，无法检查；请打印为普通 PDF 或拍照上传"
_PDF_UNREADABLE = "PDF 使用了无法检查的压缩或加密方式；请打印为普通 PDF 或拍照上传"
# Filters that can hold dictionaries (an object stream) but are not decoded here.
_PDF_UNREAD_FILTERS = frozenset({b"LZWDecode", b"RunLengthDecode", b"Crypt"})
_HEX_RUN = re.compile(rb"[0-9A-Fa-f\s]*")
_A85_RUN = re.compile(rb"[!-uz\s]*")


class _Runs:
    """Where a run of ASCIIHex or ASCII85 characters that starts at a position ends. Streams
    found inside one run end where it ends, so a file of many `stream` keywords in one long run is
    read once, not once per keyword."""

    def __init__(self, pattern: re.Pattern[bytes]) -> None:
        self.pattern = pattern
        self.start = self.end = -1

    def end_of(self, buffer: bytes, at: int) -> int:
        if not self.start <= at < self.end:
            self.start, self.end = at, self.pattern.match(buffer, at).end()  # type: ignore[union-attr]
        return self.end


def pdf_names(data: bytes) -> set[bytes]:
    """Every name written in these bytes, decoded as a reader decodes it (`#xx` is one byte)."""
    return {
        _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
        for raw in _PDF_NAME.findall(data)
    }


def _inflate(buffer: bytes, at: int, budget: int) -> bytes | None:
    """The Flate data starting at `at`, up to where it ends or breaks (a reader shows what it
    could inflate). Fed in growing pieces: zlib copies what it did not read, and a whole file's
    rest per `stream` keyword would make a crafted file slow."""
    inflater = zlib.decompressobj()
    view = memoryview(buffer)
    parts: list[bytes] = []
    size, piece = 0, 1024
    while at < len(buffer) and not inflater.eof:
        try:
            got = inflater.decompress(view[at : at + piece], budget - size)
        except zlib.error:
            break
        if inflater.unconsumed_tail:
            raise UploadRefused(_PDF_TOO_COMPLEX)
        parts.append(got)
        size += len(got)
        if size >= budget:
            raise UploadRefused(_PDF_TOO_COMPLEX)
        at += piece
        piece = min(piece * 2, 1 << 20)
    return b"".join(parts) if parts else None


def _decodings(data: bytes, start: int, budget: int, runs: tuple[_Runs, _Runs]) -> list[bytes]:
    """What the stream starting at `start` can be read as through Flate, ASCIIHex and ASCII85,
    alone or chained. Every stream is tried whatever its dictionary says (a dictionary can be
    written to mislead a parser), and each decoder stops where its own data ends, as a reader's
    does, so an `endstream` planted inside compressed data cuts nothing short."""
    found: list[bytes] = []
    pending = [(data, start, 0)]
    while pending:
        buffer, at, depth = pending.pop()
        if depth == 3:
            continue
        if budget <= 0:  # and zlib would read a limit of 0 as none
            raise UploadRefused(_PDF_TOO_COMPLEX)
        hex_runs, a85_runs = runs if depth == 0 else (_Runs(_HEX_RUN), _Runs(_A85_RUN))
        outputs: list[bytes] = []
        if (inflated := _inflate(buffer, at, budget)) is not None:
            outputs.append(inflated)
        end = hex_runs.end_of(buffer, at)
        if buffer.startswith(b">", end):
            digits = re.sub(rb"\s", b"", buffer[at:end])
            outputs.append(bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode()))
        end = a85_runs.end_of(buffer, at)
        if buffer.startswith(b"~>", end):
            with contextlib.suppress(ValueError):
                outputs.append(base64.a85decode(buffer[at : end + 2].strip(), adobe=True))
        for output in outputs:
            budget -= len(output)
            found.append(output)
            pending.append((output, 0, depth + 1))
    return found


def _check_pdf(data: bytes) -> bytes:
    if b"%%EOF" not in data[-1024:]:
        raise UploadRefused("PDF 文件不完整，请重新导出后上传")
    names = pdf_names(data)
    if names & _PDF_ACTIVE:
        raise UploadRefused(_PDF_ACTIVE_REFUSED)
    if names & _PDF_UNREAD_FILTERS or {b"Encrypt", b"ObjStm"} <= names:
        raise UploadRefused(_PDF_UNREADABLE)
    budget = _PDF_DECODED_BUDGET
    runs = (_Runs(_HEX_RUN), _Runs(_A85_RUN))
    for found in _PDF_STREAM.finditer(data):
        for decoded in _decodings(data, found.end(), budget, runs):
            budget -= len(decoded)
            if pdf_names(decoded) & _PDF_ACTIVE:
                raise UploadRefused(_PDF_ACTIVE_REFUSED)
    return data


@dataclass(frozen=True, slots=True)
class CleanDocument:
    content_type: DocumentType
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def clean(data: bytes, *, max_bytes: int) -> CleanDocument:
    """The bytes to store for an upload, or the reason it is refused (in Chinese)."""
    if not data:
        raise UploadRefused("上传的文件是空的")
    if len(data) > max_bytes:
        raise UploadRefused(f"文件不能超过 {max_bytes // (1024 * 1024) or 1} MB")
    kind = sniff(data)
    if kind == DocumentType.PDF:
        return CleanDocument(kind, _check_pdf(data))
    return CleanDocument(kind, _reencode(data, kind))


def label(original_name: str) -> str:
    """The name the person gave, kept only for display: no path, no control characters."""
    name = original_name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:100] or "未命名文件"


@dataclass(frozen=True, slots=True)
class StoredDocument:
    storage_name: str
    content_type: DocumentType
    size_bytes: int
    sha256: str


class DocumentStore:
    """Files under one directory outside the web root; served only through checked routes."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, storage_name: str) -> Path:
        if not _STORED_NAME.match(storage_name):
            raise DocumentMissing("文件不存在")
        return self.root / storage_name[:2] / storage_name

    async def save(self, document: CleanDocument) -> StoredDocument:
        name = f"{secrets.token_hex(16)}.{EXTENSIONS[document.content_type]}"
        path = self._path(name)

        def _write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("xb") as handle:
                handle.write(document.data)

        await asyncio.to_thread(_write)
        return StoredDocument(name, document.content_type, len(document.data), document.sha256)

    async def read(self, storage_name: str) -> bytes:
        path = self._path(storage_name)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise DocumentMissing("文件不存在") from exc

    async def remove(self, storage_name: str) -> None:
        path = self._path(storage_name)
        await asyncio.to_thread(path.unlink, True)
