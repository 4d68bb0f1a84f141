"""Files exchanged with institutions (9101 upload, 9102 download).

Rules:
- A file is read only by the institution it belongs to: the one that uploaded it, or the one a
  catalogue download (13xx) was made for. Another institution asking for it is told that no
  such file exists (the same answer as a wrong number, so numbers cannot be probed).
- Its size is limited (`YIBAO_FSI_FILE_MAX_BYTES`); its SHA-256 is kept when it is stored,
  answered to the uploader, and checked again before it is handed out.
- It expires (`YIBAO_FSI_FILE_TTL_HOURS`, the national `dld_endtime`); expired files are refused
  and removed when the next file is stored.
- Files live in the database, not in a directory: a file and the message that made it commit
  together (a retried 13xx or 9101 finds its file, a failed one leaves none), every server
  process and machine sees it without a shared disk (rule 11), and the database's backup holds it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from datetime import datetime

from yibao.kernel.errors import InvalidInput, NotFound

_FILENAME = re.compile(r"[^\x00-\x1f\x7f/\\:*?\"<>|]{1,200}")


class InvalidFile(InvalidInput):
    code = "invalid_file"


class FileTooLarge(InvalidInput):
    code = "file_too_large"


class UnknownFile(NotFound):
    code = "unknown_file"


class FileExpired(InvalidInput):
    code = "file_expired"


class FileDamaged(InvalidInput):
    code = "file_damaged"


def new_query_number(now: datetime) -> str:
    return f"fsi/{now:%Y%m%d}/{secrets.token_hex(16)}"


def checksum(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def check_filename(raw: str, where: str) -> str:
    name = raw.strip()
    if not _FILENAME.fullmatch(name) or name in {".", ".."}:
        raise InvalidFile(f"{where} 应为1到200个字符的文件名（不含路径分隔符和控制字符）")
    return name


def decode_content(raw: object, where: str, max_bytes: int) -> bytes:
    """`in` as national clients send it: base64 text (Java and .NET serialise a byte array so)
    or a JSON array of bytes (-128…255)."""
    if isinstance(raw, str):
        if len(raw) > (max_bytes + 2) // 3 * 4 + 4:
            raise FileTooLarge(f"{where} 超过文件大小上限 {max_bytes} 字节")
        try:
            content = base64.b64decode(raw.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidFile(f"{where} 应为 base64 编码的文件内容或字节数组") from exc
    elif isinstance(raw, list):
        if len(raw) > max_bytes:
            raise FileTooLarge(f"{where} 超过文件大小上限 {max_bytes} 字节")
        if not all(
            isinstance(b, int) and not isinstance(b, bool) and -128 <= b <= 255 for b in raw
        ):
            raise InvalidFile(f"{where} 字节数组的每一项应为 -128 到 255 的整数")
        content = bytes(b & 0xFF for b in raw)
    else:
        raise InvalidFile(f"{where} 应为 base64 编码的文件内容或字节数组")
    if not content:
        raise InvalidFile(f"{where} 文件内容为空")
    if len(content) > max_bytes:
        raise FileTooLarge(f"{where} 超过文件大小上限 {max_bytes} 字节")
    return content
