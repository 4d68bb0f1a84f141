"""Storing uploaded ID photos and proofs of relationship, outside the web root.

One small seam (`store_document` / `open_document`) so the audit+claims feature's shared upload
module can replace it. What it enforces meanwhile: the type is decided by the content (JPEG, PNG),
never by the name or the declared type; a size limit; images are decoded and re-encoded by Pillow,
which drops EXIF (location, device) and anything appended to the file; stored under
`<var_dir>/uploads/family/` with a random name.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from yibao.family.domain import InvalidDocument

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
_MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


@dataclass(frozen=True, slots=True)
class StoredDocument:
    storage_name: str
    content_type: str
    size_bytes: int
    sha256: str


def sniff(data: bytes) -> str | None:
    for magic, content_type in _MAGIC.items():
        if data.startswith(magic):
            return content_type
    return None


def _reencode(data: bytes, content_type: str) -> bytes:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise InvalidDocument("图片尺寸过大，请拍摄后压缩再上传")
            image.load()
            out = io.BytesIO()
            if content_type == "image/png":
                clean = image.convert("RGBA" if "A" in image.getbands() else "RGB")
                clean.save(out, format="PNG", optimize=True)
            else:
                image.convert("RGB").save(out, format="JPEG", quality=88)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidDocument("图片无法识别或已损坏，请重新拍摄上传") from exc


def store_document(root: Path, data: bytes) -> StoredDocument:
    if not data:
        raise InvalidDocument("上传的文件是空的")
    if len(data) > MAX_BYTES:
        raise InvalidDocument(f"文件不能超过 {MAX_BYTES // (1024 * 1024)} MB")
    content_type = sniff(data)
    if content_type is None:
        raise InvalidDocument("只接受 JPG 或 PNG 格式的照片")
    clean = _reencode(data, content_type)
    suffix = ".png" if content_type == "image/png" else ".jpg"
    name = secrets.token_hex(16) + suffix
    folder = root / "uploads" / "family"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(clean)
    path.chmod(0o600)
    return StoredDocument(
        storage_name=name,
        content_type=content_type,
        size_bytes=len(clean),
        sha256=hashlib.sha256(clean).hexdigest(),
    )


def open_document(root: Path, storage_name: str) -> bytes:
    if "/" in storage_name or ".." in storage_name:
        raise InvalidDocument("文件名无效")
    path = root / "uploads" / "family" / storage_name
    if not path.is_file():
        raise InvalidDocument("文件已不存在")
    return path.read_bytes()


def discard_document(root: Path, storage_name: str) -> None:
    path = root / "uploads" / "family" / storage_name
    path.unlink(missing_ok=True)
