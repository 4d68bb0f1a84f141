"""Tables of reference data: one row per record of every catalogue kind, and an institution's
mappings of its own items to the national catalogue (1317; uploaded by 3301 in part 2)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class ReferenceRecord(Base):
    """One record of a catalogue kind (`kind` is its transaction code: 1301, 1306A, 1901 …).

    Searchable parts are columns; every national field, in the kind's order, is in `fields`
    (JSON). `ver` is the import that last changed it: downloads answer `ver > the client's`."""

    __tablename__ = "reference_records"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(6))
    record_key: Mapped[str] = mapped_column(String(400))
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(500))
    group_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    parent_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    # 5102: the practitioner's ID number as a keyed hash only (the masked one is in `fields`).
    lookup_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    vali_flag: Mapped[str] = mapped_column(String(1))
    begndate: Mapped[date | None] = mapped_column(Date, nullable=True)
    enddate: Mapped[date | None] = mapped_column(Date, nullable=True)
    fields: Mapped[str] = mapped_column(Text)
    ver: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("kind", "record_key", name="uq_reference_records_kind_key"),
        CheckConstraint("vali_flag IN ('0', '1')", name="vali_flag"),
        Index("ix_reference_records_kind_ver", "kind", "ver"),
        Index("ix_reference_records_kind_code", "kind", "code"),
        Index("ix_reference_records_kind_group", "kind", "group_code"),
    )


class InstitutionListMapping(Base):
    """目录对照: an institution's own item (`medins_list_codg`) mapped to a national code
    (`med_list_codg`) from `begndate`. 1317 answers an institution its own rows; 3301/3302
    (part 2) upload and withdraw them; `yibao catalogue import mappings` loads them."""

    __tablename__ = "institution_list_mappings"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12))
    medins_list_codg: Mapped[str] = mapped_column(String(50))
    medins_list_name: Mapped[str] = mapped_column(String(200))
    med_list_codg: Mapped[str] = mapped_column(String(50))
    list_type: Mapped[str | None] = mapped_column(String(3), nullable=True)
    begndate: Mapped[date] = mapped_column(Date)
    enddate: Mapped[date | None] = mapped_column(Date, nullable=True)
    vali_flag: Mapped[str] = mapped_column(String(1))
    fields: Mapped[str] = mapped_column(Text)
    ver: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint(
            "fixmedins_code", "medins_list_codg", "begndate", name="uq_institution_list_mappings"
        ),
        CheckConstraint("vali_flag IN ('0', '1')", name="vali_flag"),
        Index("ix_institution_list_mappings_code_updated", "fixmedins_code", "updated_at"),
    )
