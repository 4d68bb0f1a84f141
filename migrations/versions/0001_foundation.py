"""foundation: regions, persons, enrolments, accounts, ledger, contributions, outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-25 08:15:49.867463
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yibao.db.types import UTCDateTime

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "ephemeral_entries",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_ephemeral_entries")),
    )
    with op.batch_alter_table("ephemeral_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ephemeral_entries_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "persons",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("psn_no", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("id_number_enc", sa.LargeBinary(), nullable=False),
        sa.Column("id_number_hash", sa.String(length=64), nullable=False),
        sa.Column("id_number_masked", sa.String(length=18), nullable=False),
        sa.Column("gender", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("phone_masked", sa.String(length=11), nullable=True),
        sa.Column("card_no", sa.String(length=20), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("gender IN ('1', '2')", name=op.f("ck_persons_gender")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("card_no", name=op.f("uq_persons_card_no")),
        sa.UniqueConstraint("id_number_hash", name=op.f("uq_persons_id_number_hash")),
        sa.UniqueConstraint("psn_no", name=op.f("uq_persons_psn_no")),
    )
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_persons_phone_hash"), ["phone_hash"], unique=False)

    op.create_table(
        "regions",
        sa.Column("admdvs", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("account_credit_rate_bp", sa.Integer(), nullable=False),
        sa.Column("retiree_monthly_credit_fen", sa.BigInteger(), nullable=False),
        sa.Column("deductible_fen", sa.BigInteger(), nullable=False),
        sa.Column("fund_ratio_bp", sa.Integer(), nullable=False),
        sa.Column("retiree_fund_ratio_bp", sa.Integer(), nullable=False),
        sa.Column("yearly_cap_fen", sa.BigInteger(), nullable=False),
        sa.Column("class_b_selfpay_bp", sa.Integer(), nullable=False),
        sa.Column("near_relatives_allowed", sa.Boolean(), nullable=False),
        sa.Column("mutual_aid_scope", sa.String(length=12), nullable=False),
        sa.Column("resident_contribution_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "mutual_aid_scope IN ('region', 'province', 'nationwide')",
            name=op.f("ck_regions_mutual_aid_scope"),
        ),
        sa.CheckConstraint(
            "account_credit_rate_bp BETWEEN 0 AND 10000", name=op.f("ck_regions_credit_rate")
        ),
        sa.CheckConstraint(
            "class_b_selfpay_bp BETWEEN 0 AND 10000", name=op.f("ck_regions_class_b_selfpay")
        ),
        sa.CheckConstraint("fund_ratio_bp BETWEEN 0 AND 10000", name=op.f("ck_regions_fund_ratio")),
        sa.CheckConstraint(
            "retiree_fund_ratio_bp BETWEEN 0 AND 10000", name=op.f("ck_regions_retiree_fund_ratio")
        ),
        sa.CheckConstraint(
            "retiree_monthly_credit_fen >= 0 AND deductible_fen >= 0 AND yearly_cap_fen >= 0 AND resident_contribution_fen >= 0",
            name=op.f("ck_regions_amounts_non_negative"),
        ),
        sa.PrimaryKeyConstraint("admdvs", name=op.f("pk_regions")),
    )
    op.create_table(
        "employers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("admdvs", sa.String(length=6), nullable=False),
        sa.ForeignKeyConstraint(
            ["admdvs"], ["regions.admdvs"], name=op.f("fk_employers_admdvs_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employers")),
        sa.UniqueConstraint("name", name=op.f("uq_employers_name")),
    )
    op.create_table(
        "outbox_messages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("dedup_key", sa.String(length=160), nullable=False),
        sa.Column("person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("phone_masked", sa.String(length=11), nullable=True),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("channel IN ('sms', 'inapp')", name=op.f("ck_outbox_messages_channel")),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_outbox_messages_status")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_outbox_messages_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_outbox_messages_dedup_key")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_messages_due", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "personal_accounts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("frozen_reason", sa.Text(), nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status = 'active' OR frozen_reason IS NOT NULL",
            name=op.f("ck_personal_accounts_frozen_has_reason"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'frozen')", name=op.f("ck_personal_accounts_status")
        ),
        sa.CheckConstraint(
            "balance_fen >= 0", name=op.f("ck_personal_accounts_balance_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_personal_accounts_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_accounts")),
        sa.UniqueConstraint("person_id", name=op.f("uq_personal_accounts_person_id")),
    )
    op.create_table(
        "enrolments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("insutype", sa.String(length=3), nullable=False),
        sa.Column("psn_type", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=1), nullable=False),
        sa.Column("admdvs", sa.String(length=6), nullable=False),
        sa.Column(
            "employer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("begin_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "insutype IN ('310', '320', '330', '340', '390', '392', '510')",
            name=op.f("ck_enrolments_insutype"),
        ),
        sa.CheckConstraint("status IN ('1', '2', '4')", name=op.f("ck_enrolments_status")),
        sa.ForeignKeyConstraint(
            ["admdvs"], ["regions.admdvs"], name=op.f("fk_enrolments_admdvs_regions")
        ),
        sa.ForeignKeyConstraint(
            ["employer_id"], ["employers.id"], name=op.f("fk_enrolments_employer_id_employers")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_enrolments_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolments")),
        sa.UniqueConstraint("person_id", "insutype", name="uq_enrolments_person_insutype"),
    )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolments_person_id"), ["person_id"], unique=False)

    op.create_table(
        "ledger_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_after_fen", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("counterparty", sa.String(length=120), nullable=False),
        sa.Column("counterparty_code", sa.String(length=40), nullable=True),
        sa.Column(
            "beneficiary_person_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "reverses_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("source_type", sa.String(length=30), nullable=True),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "(kind <> 'contribution_credit' OR amount_fen > 0) AND (kind NOT IN ('settlement_debit', 'mutual_aid_debit', 'relative_contribution_debit') OR amount_fen < 0)",
            name=op.f("ck_ledger_entries_amount_sign"),
        ),
        sa.CheckConstraint(
            "kind <> 'reversal' OR reverses_entry_id IS NOT NULL",
            name=op.f("ck_ledger_entries_reversal_names_entry"),
        ),
        sa.CheckConstraint(
            "kind <> 'staff_adjustment' OR reason IS NOT NULL",
            name=op.f("ck_ledger_entries_adjustment_has_reason"),
        ),
        sa.CheckConstraint(
            "kind IN ('contribution_credit', 'settlement_debit', 'mutual_aid_debit', 'reversal', 'staff_adjustment', 'relative_contribution_debit')",
            name=op.f("ck_ledger_entries_kind"),
        ),
        sa.CheckConstraint("amount_fen <> 0", name=op.f("ck_ledger_entries_amount_non_zero")),
        sa.CheckConstraint(
            "balance_after_fen >= 0", name=op.f("ck_ledger_entries_balance_after_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["personal_accounts.id"],
            name=op.f("fk_ledger_entries_account_id_personal_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["beneficiary_person_id"],
            ["persons.id"],
            name=op.f("fk_ledger_entries_beneficiary_person_id_persons"),
        ),
        sa.ForeignKeyConstraint(
            ["reverses_entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_ledger_entries_reverses_entry_id_ledger_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_entries_idempotency_key")),
        sa.UniqueConstraint("reverses_entry_id", name=op.f("uq_ledger_entries_reverses_entry_id")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_entries_account_created", ["account_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "notices",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("outbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox_messages.id"], name=op.f("fk_notices_outbox_id_outbox_messages")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_notices_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("outbox_id", name=op.f("uq_notices_outbox_id")),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notices_person_created", ["person_id", "created_at"], unique=False
        )

    op.create_table(
        "contributions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("base_fen", sa.BigInteger(), nullable=False),
        sa.Column("employer_fen", sa.BigInteger(), nullable=False),
        sa.Column("personal_fen", sa.BigInteger(), nullable=False),
        sa.Column("credited_fen", sa.BigInteger(), nullable=False),
        sa.Column("arrived_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column(
            "ledger_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('normal', 'arrears', 'backpaid')", name=op.f("ck_contributions_status")
        ),
        sa.CheckConstraint(
            "base_fen >= 0 AND employer_fen >= 0 AND personal_fen >= 0 AND credited_fen >= 0",
            name=op.f("ck_contributions_amounts_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["ledger_entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_contributions_ledger_entry_id_ledger_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_contributions_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contributions")),
        sa.UniqueConstraint("person_id", "month", name="uq_contributions_person_month"),
    )

    _append_only("ledger_entries")


def _append_only(table: str) -> None:
    """The database itself refuses to edit or delete a ledger entry (corrections are reversals)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION yibao_refuse_change() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION yibao_refuse_change()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}"
                f" BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_append_only ON ledger_entries")
    else:
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_no_update")
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_no_delete")

    op.drop_table("contributions")
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index("ix_notices_person_created")

    op.drop_table("notices")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_account_created")

    op.drop_table("ledger_entries")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolments_person_id"))

    op.drop_table("enrolments")
    op.drop_table("personal_accounts")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_due")

    op.drop_table("outbox_messages")
    op.drop_table("employers")
    op.drop_table("regions")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_persons_phone_hash"))

    op.drop_table("persons")
    with op.batch_alter_table("ephemeral_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ephemeral_entries_expires_at"))

    op.drop_table("ephemeral_entries")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS yibao_refuse_change()")
