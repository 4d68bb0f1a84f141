"""Uploaded documents (claims, 家庭共济 applications): accept only what is safe to keep and show.

- The type is read from the bytes, never from the file name or the browser's word: JPEG, PNG
  and PDF only.
- A size limit (a setting) is checked before anything is parsed.
- Images are decoded and encoded again with Pillow: what is stored is pixels only, with no EXIF
  (location, device) or trailing payload. A decompression bomb is refused, not decoded.
- A PDF cannot be re-encoded here; one that carries scripts or launch actions is refused.
- Files are stored under `var/uploads/`, outside the web root, under random names; the name the
  person gave is kept only as a label.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import secrets
import warnings
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from yibao.kernel.errors import InvalidInput, NotFound

# Phone photos of invoices are well under this; bigger images are bombs or mistakes.
MAX_IMAGE_PIXELS = 40_000_000
_PDF_ACTIVE = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/OpenAction")
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


def _check_pdf(data: bytes) -> bytes:
    if b"%%EOF" not in data[-1024:]:
        raise UploadRefused("PDF 文件不完整，请重新导出后上传")
    if any(marker in data for marker in _PDF_ACTIVE):
        raise UploadRefused("PDF 含有脚本或附件，无法接收；请打印为普通 PDF 或拍照上传")
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
