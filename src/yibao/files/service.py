"""Use cases of exchanged files: 9101 keeps an upload, 9102 hands a file to its institution.

They run inside the interface message's transaction (the interface commits a file with the
answer that names it), so they do not commit themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.files import domain, repository
from yibao.files.domain import FileDamaged, FileExpired, UnknownFile
from yibao.files.tables import ExchangeFile
from yibao.kernel.clock import Clock


@dataclass(frozen=True, slots=True)
class StoredFile:
    file_qury_no: str
    filename: str
    size: int
    sha256: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class FileContent:
    filename: str
    content: bytes
    sha256: str


def _stored(row: ExchangeFile) -> StoredFile:
    return StoredFile(row.file_qury_no, row.filename, row.size, row.sha256, row.expires_at)


async def keep_file(
    session: AsyncSession,
    clock: Clock,
    *,
    fixmedins_code: str,
    filename: str,
    content: bytes,
    origin: str,
    ttl_hours: int,
) -> StoredFile:
    now = clock.now()
    row = await repository.store(
        session,
        filename=filename,
        fixmedins_code=fixmedins_code,
        origin=origin,
        content=content,
        now=now,
        expires_at=now + timedelta(hours=ttl_hours),
    )
    return _stored(row)


async def upload(
    session: AsyncSession,
    clock: Clock,
    *,
    fixmedins_code: str,
    filename: str,
    raw_content: object,
    max_bytes: int,
    ttl_hours: int,
    where: str,
) -> StoredFile:
    """9101: an institution's file, readable by that institution only until it expires."""
    name = domain.check_filename(filename, f"{where}.filename")
    content = domain.decode_content(raw_content, f"{where}.in", max_bytes)
    return await keep_file(
        session,
        clock,
        fixmedins_code=fixmedins_code,
        filename=name,
        content=content,
        origin="upload",
        ttl_hours=ttl_hours,
    )


async def fetch(
    session: AsyncSession, clock: Clock, *, fixmedins_code: str, file_qury_no: str
) -> FileContent:
    """9102: the file, if it is this institution's, not expired and unchanged since stored."""
    row = await repository.by_query_number(session, file_qury_no)
    if row is None or row.fixmedins_code != fixmedins_code:
        raise UnknownFile("没有这个文件查询号（file_qury_no）对应的本机构文件")
    if row.expires_at <= clock.now():
        raise FileExpired("文件已过下载截止时间（dld_endtime），请重新上传或重新调用下载交易")
    if domain.checksum(row.content) != row.sha256:
        raise FileDamaged("文件校验失败（SHA-256 不符），请重新上传或重新调用下载交易")
    return FileContent(row.filename, row.content, row.sha256)
