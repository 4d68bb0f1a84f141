"""Files exchanged with institutions, kept in the database (see files.domain for why)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class ExchangeFile(Base):
    __tablename__ = "exchange_files"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    file_qury_no: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    # The institution that may read it: the uploader, or the one a download was made for.
    fixmedins_code: Mapped[str] = mapped_column(String(12))
    origin: Mapped[str] = mapped_column(String(10))  # upload | download
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # A download's content key (kind, the version asked from, the newest version and count in
    # it): the same question asked again while the file is fresh gets the same file.
    source: Mapped[str | None] = mapped_column(String(80), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("origin IN ('upload', 'download')", name="origin"),
        CheckConstraint("size >= 0", name="size"),
        Index("ix_exchange_files_expires_at", "expires_at"),
        Index("ix_exchange_files_owner_source", "fixmedins_code", "source"),
    )
