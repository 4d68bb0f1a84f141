"""Queries of exchanged files. Never commits: the calling use case does."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.files import domain
from yibao.files.tables import ExchangeFile


async def store(
    session: AsyncSession,
    *,
    filename: str,
    fixmedins_code: str,
    origin: str,
    content: bytes,
    now: datetime,
    expires_at: datetime,
    source: str | None = None,
) -> ExchangeFile:
    """Keep a file for one institution (and drop the expired ones: the table stays small)."""
    await session.execute(delete(ExchangeFile).where(ExchangeFile.expires_at < now))
    row = ExchangeFile(
        file_qury_no=domain.new_query_number(now),
        filename=filename,
        fixmedins_code=fixmedins_code,
        origin=origin,
        size=len(content),
        sha256=domain.checksum(content),
        content=content,
        created_at=now,
        expires_at=expires_at,
        source=source,
    )
    session.add(row)
    await session.flush()
    return row


async def by_query_number(session: AsyncSession, file_qury_no: str) -> ExchangeFile | None:
    stmt = select(ExchangeFile).where(ExchangeFile.file_qury_no == file_qury_no)
    return (await session.execute(stmt)).scalar_one_or_none()


async def fresh_download(
    session: AsyncSession, fixmedins_code: str, source: str, fresh_until: datetime
) -> ExchangeFile | None:
    """This institution's file made for the same question, readable at least until then."""
    stmt = (
        select(ExchangeFile)
        .where(
            ExchangeFile.fixmedins_code == fixmedins_code,
            ExchangeFile.source == source,
            ExchangeFile.expires_at >= fresh_until,
        )
        .order_by(ExchangeFile.expires_at.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()
