"""crossregion: 异地就医 between deployments — the region directory, home rules, claims at the
home region, visits and settlements at the treatment region, the peer inbox

Revision ID: 0014_crossregion
Revises: 0001
Create Date: 2026-12-07 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yibao.db.types import UTCDateTime

revision: str = "0014_crossregion"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _money(*names: str) -> list[sa.Column[int]]:
    return [sa.Column(n, sa.BigInteger(), nullable=False) for n in names]


def upgrade() -> None:
    op.create_table(
        "crossregion_peers",
        sa.Column("admdvs", sa.String(6), nullable=False),
        sa.Column("region_name", sa.String(50), nullable=False),
        sa.Column("deployment", sa.String(40), nullable=False),
        sa.Column("base_url", sa.String(200), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("admdvs", name=op.f("pk_crossregion_peers")),
    )
    op.create_table(
        "crossregion_home_rules",
        sa.Column("admdvs", sa.String(6), nullable=False),
        sa.Column("unfiled_rule", sa.String(12), nullable=False),
        sa.Column("unfiled_ratio_cut_bp", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("admdvs", name=op.f("pk_crossregion_home_rules")),
        sa.CheckConstraint(
            "unfiled_rule IN ('refuse', 'lower_ratio')",
            name=op.f("ck_crossregion_home_rules_unfiled_rule"),
        ),
        sa.CheckConstraint(
            "unfiled_ratio_cut_bp >= 0 AND unfiled_ratio_cut_bp <= 10000",
            name=op.f("ck_crossregion_home_rules_cut_range"),
        ),
    )
    op.create_table(
        "crossregion_claims",
        sa.Column("id", BIGINT, autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(80), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("treatment_admdvs", sa.String(6), nullable=False),
        sa.Column("home_admdvs", sa.String(6), nullable=True),
        sa.Column("sender", sa.String(40), nullable=False),
        sa.Column("setl_id", sa.String(30), nullable=True),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("psn_no", sa.String(30), nullable=True),
        sa.Column("fixmedins_code", sa.String(12), nullable=True),
        sa.Column("fixmedins_name", sa.String(100), nullable=True),
        sa.Column("med_type", sa.String(4), nullable=True),
        sa.Column("insutype", sa.String(3), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        *_money(
            "medfee_sumamt_fen",
            "fulamt_ownpay_fen",
            "overlmt_selfpay_fen",
            "preselfpay_fen",
            "inscp_scp_fen",
            "act_pay_dedc_fen",
            "fund_pay_fen",
            "acct_pay_fen",
            "cash_pay_fen",
            "balc_fen",
        ),
        sa.Column("filed", sa.Boolean(), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.Column("settled_on", sa.Date(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("reversed_at", UTCDateTime(), nullable=True),
        sa.Column("reversed_why", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crossregion_claims")),
        sa.UniqueConstraint("message_id", name=op.f("uq_crossregion_claims_message_id")),
        sa.CheckConstraint(
            "status IN ('settled', 'reversed')", name=op.f("ck_crossregion_claims_status")
        ),
        sa.CheckConstraint(
            "acct_pay_fen >= 0 AND fund_pay_fen >= 0 AND cash_pay_fen >= 0",
            name=op.f("ck_crossregion_claims_parts"),
        ),
    )
    op.create_index(
        "ix_crossregion_claims_day", "crossregion_claims", ["treatment_admdvs", "settled_on"]
    )
    op.create_table(
        "crossregion_visits",
        sa.Column("mdtrt_id", sa.String(30), nullable=False),
        sa.Column("fixmedins_code", sa.String(12), nullable=False),
        sa.Column("psn_no", sa.String(30), nullable=False),
        sa.Column("home_admdvs", sa.String(6), nullable=False),
        sa.Column("insutype", sa.String(3), nullable=False),
        sa.Column("med_type", sa.String(4), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("msgid", sa.String(30), nullable=False),
        sa.Column("fees", sa.Text(), nullable=False),
        sa.Column("begin_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("mdtrt_id", name=op.f("pk_crossregion_visits")),
        sa.UniqueConstraint("msgid", name=op.f("uq_crossregion_visits_msgid")),
    )
    op.create_table(
        "crossregion_settlements",
        sa.Column("setl_id", sa.String(30), nullable=False),
        sa.Column("msgid", sa.String(30), nullable=False),
        sa.Column("message_id", sa.String(80), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("fixmedins_code", sa.String(12), nullable=False),
        sa.Column("home_admdvs", sa.String(6), nullable=False),
        sa.Column("psn_no", sa.String(30), nullable=False),
        sa.Column("psn_name", sa.String(50), nullable=False),
        sa.Column("mdtrt_id", sa.String(30), nullable=False),
        sa.Column("med_type", sa.String(4), nullable=False),
        sa.Column("insutype", sa.String(3), nullable=False),
        *_money("medfee_sumamt_fen", "fund_pay_fen", "acct_pay_fen", "cash_pay_fen"),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("settled_on", sa.Date(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("setl_id", name=op.f("pk_crossregion_settlements")),
        sa.UniqueConstraint("msgid", name=op.f("uq_crossregion_settlements_msgid")),
        sa.UniqueConstraint("message_id", name=op.f("uq_crossregion_settlements_message_id")),
        sa.CheckConstraint(
            "status IN ('settled', 'cancelled')", name=op.f("ck_crossregion_settlements_status")
        ),
    )
    op.create_index(
        "ix_crossregion_settlements_day", "crossregion_settlements", ["home_admdvs", "settled_on"]
    )
    op.create_table(
        "crossregion_inbox",
        sa.Column("message_id", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("sender", sa.String(40), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_crossregion_inbox")),
    )


def downgrade() -> None:
    op.drop_table("crossregion_inbox")
    op.drop_index("ix_crossregion_settlements_day", table_name="crossregion_settlements")
    op.drop_table("crossregion_settlements")
    op.drop_table("crossregion_visits")
    op.drop_index("ix_crossregion_claims_day", table_name="crossregion_claims")
    op.drop_table("crossregion_claims")
    op.drop_table("crossregion_home_rules")
    op.drop_table("crossregion_peers")
