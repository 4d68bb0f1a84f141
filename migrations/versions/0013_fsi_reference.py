"""reference and files: the catalogues institutions download, their mappings, exchanged files

Revision ID: 0013_reference
Revises: 0012
Create Date: 2026-12-07 20:30:00

`reference_records` holds every record of the national catalogue kinds (1301 … 1327, 1901,
5102), each with the version (`ver`) of the import that last changed it; downloads answer the
records newer than a client's version. `institution_list_mappings` holds an institution's own
items mapped to national codes (1317; 3301 fills it in part 2). `exchange_files` holds the files
of 9101/9102 and the 13xx downloads in the database (files.domain says why).
`catalogue_entries.updated_at` lets 1312/1318/1319 answer what changed since a moment; rows
loaded before this revision have none and are answered to a query without `updt_time` only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yibao.db.types import UTCDateTime

revision: str = "0013_reference"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "reference_records",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=6), nullable=False),
        sa.Column("record_key", sa.String(length=400), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("group_code", sa.String(length=60), nullable=True),
        sa.Column("parent_code", sa.String(length=60), nullable=True),
        sa.Column("lookup_hash", sa.String(length=64), nullable=True),
        sa.Column("vali_flag", sa.String(length=1), nullable=False),
        sa.Column("begndate", sa.Date(), nullable=True),
        sa.Column("enddate", sa.Date(), nullable=True),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("ver", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("vali_flag IN ('0', '1')", name=op.f("ck_reference_records_vali_flag")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_records")),
        sa.UniqueConstraint("kind", "record_key", name="uq_reference_records_kind_key"),
    )
    op.create_index("ix_reference_records_kind_ver", "reference_records", ["kind", "ver"])
    op.create_index("ix_reference_records_kind_code", "reference_records", ["kind", "code"])
    op.create_index("ix_reference_records_kind_group", "reference_records", ["kind", "group_code"])
    op.create_table(
        "institution_list_mappings",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("fixmedins_code", sa.String(length=12), nullable=False),
        sa.Column("medins_list_codg", sa.String(length=50), nullable=False),
        sa.Column("medins_list_name", sa.String(length=200), nullable=False),
        sa.Column("med_list_codg", sa.String(length=50), nullable=False),
        sa.Column("list_type", sa.String(length=3), nullable=True),
        sa.Column("begndate", sa.Date(), nullable=False),
        sa.Column("enddate", sa.Date(), nullable=True),
        sa.Column("vali_flag", sa.String(length=1), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("ver", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "vali_flag IN ('0', '1')", name=op.f("ck_institution_list_mappings_vali_flag")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution_list_mappings")),
        sa.UniqueConstraint(
            "fixmedins_code", "medins_list_codg", "begndate", name="uq_institution_list_mappings"
        ),
    )
    op.create_index(
        "ix_institution_list_mappings_code_updated",
        "institution_list_mappings",
        ["fixmedins_code", "updated_at"],
    )
    op.create_table(
        "exchange_files",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("file_qury_no", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("fixmedins_code", sa.String(length=12), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "origin IN ('upload', 'download')", name=op.f("ck_exchange_files_origin")
        ),
        sa.CheckConstraint("size >= 0", name=op.f("ck_exchange_files_size")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_files")),
        sa.UniqueConstraint("file_qury_no", name=op.f("uq_exchange_files_file_qury_no")),
    )
    op.create_index("ix_exchange_files_expires_at", "exchange_files", ["expires_at"])
    op.create_index(
        "ix_exchange_files_owner_source", "exchange_files", ["fixmedins_code", "source"]
    )
    op.add_column("catalogue_entries", sa.Column("updated_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("catalogue_entries") as batch:
        batch.drop_column("updated_at")
    op.drop_table("exchange_files")
    op.drop_table("institution_list_mappings")
    op.drop_table("reference_records")
