"""ledger: interest (年度结息) is an entry kind of its own

Revision ID: 0014_ledger_interest
Revises: 0008
Create Date: 2026-12-07 23:30:00

Where a region's rules pay interest on personal accounts once a year, the year-end run of
`crediting` posts it as `interest_credit` (a credit: amount > 0), never as a contribution. The
kind and sign CHECK constraints of ledger_entries take the new kind.

PostgreSQL drops the two constraints and adds the new ones NOT VALID, then validates them in a
transaction of their own, so a large ledger is never scanned under an exclusive lock.
SQLite has no ALTER for a CHECK constraint. Rebuilding the table (copy, drop, rename) is not
possible with foreign keys on (the tables that name an entry see it dropped) and would copy the
whole ledger; instead the stored CREATE TABLE is changed in place, the procedure SQLite documents
for constraint changes that leave the stored rows as they are (lang_altertable.html, "PRAGMA
writable_schema", with schema_version moved on). The upgrade only widens the constraints; the
downgrade narrows them only when no row uses the new kind, so no stored row ever violates them.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014_ledger_interest"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS_BEFORE = (
    "kind IN ('contribution_credit', 'settlement_debit', 'mutual_aid_debit', 'reversal',"
    " 'staff_adjustment', 'relative_contribution_debit')"
)
_KINDS_AFTER = (
    "kind IN ('contribution_credit', 'settlement_debit', 'mutual_aid_debit', 'reversal',"
    " 'staff_adjustment', 'relative_contribution_debit', 'interest_credit')"
)
_SIGN_BEFORE = (
    "(kind <> 'contribution_credit' OR amount_fen > 0) AND"
    " (kind NOT IN ('settlement_debit', 'mutual_aid_debit', 'relative_contribution_debit')"
    " OR amount_fen < 0)"
)
_SIGN_AFTER = (
    "(kind NOT IN ('contribution_credit', 'interest_credit') OR amount_fen > 0) AND"
    " (kind NOT IN ('settlement_debit', 'mutual_aid_debit', 'relative_contribution_debit')"
    " OR amount_fen < 0)"
)


def upgrade() -> None:
    _change(kinds=(_KINDS_BEFORE, _KINDS_AFTER), sign=(_SIGN_BEFORE, _SIGN_AFTER))


def downgrade() -> None:
    # Interest entries cannot stay under the old constraints; the ledger is append-only, so the
    # downgrade is refused while any exists rather than deleting money.
    found = op.get_bind().exec_driver_sql(
        "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'interest_credit'"
    )
    if found.scalar():
        raise RuntimeError("ledger_entries holds interest_credit entries: downgrade refused")
    _change(kinds=(_KINDS_AFTER, _KINDS_BEFORE), sign=(_SIGN_AFTER, _SIGN_BEFORE))


def _change(*, kinds: tuple[str, str], sign: tuple[str, str]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        # NOT VALID first: new rows are checked at once and the exclusive lock is held only for
        # the catalogue change, not for a scan of the whole ledger. VALIDATE then reads every
        # row under a lock that lets settlements go on (SHARE UPDATE EXCLUSIVE), in its own
        # transaction so the exclusive lock above is released before the scan.
        for name, (_, after) in (("kind", kinds), ("amount_sign", sign)):
            op.execute(f"ALTER TABLE ledger_entries DROP CONSTRAINT ck_ledger_entries_{name}")
            op.execute(
                f"ALTER TABLE ledger_entries ADD CONSTRAINT ck_ledger_entries_{name}"
                f" CHECK ({after}) NOT VALID"
            )
        with op.get_context().autocommit_block():
            for name in ("kind", "amount_sign"):
                op.execute(
                    f"ALTER TABLE ledger_entries VALIDATE CONSTRAINT ck_ledger_entries_{name}"
                )
        return
    _rebuild_sqlite([kinds, sign])


def _rebuild_sqlite(changes: list[tuple[str, str]]) -> None:
    bind = op.get_bind()
    create = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'ledger_entries'"
    ).scalar_one()
    for before, after in changes:
        if before not in create:
            raise RuntimeError("ledger_entries: the CHECK constraint to change was not found")
        create = create.replace(before, after)
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    op.execute("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'ledger_entries'",
        (create,),
    )
    # A new schema version makes every connection read the changed definition again.
    op.execute(f"PRAGMA schema_version = {int(version) + 1}")
    op.execute("PRAGMA writable_schema = OFF")
