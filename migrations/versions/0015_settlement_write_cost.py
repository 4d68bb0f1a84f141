"""settlement's write cost: an unread index and two foreign keys off, room for HOT updates

Revision ID: 0015_settlement_write_cost
Revises: 0014_reconciliation
Create Date: 2026-12-08 02:30:00

Issue #16: a 2207 wrote 60 WAL records (yibao_bench.settlement_cost, pg_waldump). Measured and
argued in docs/tuning.md ("What a settlement writes"):

- `ix_settlements_mdtrt_id`: no query reads settlements by mdtrt_id (2208 and 2601 find them by
  setl_id or msgid, 对账 by institution and time); one index entry per settlement for nothing.
- `fk_settlements_person_id_persons`, `fk_settlement_items_settlement_id_settlements`: the person
  is read in the settlement's own transaction and persons are never deleted; the items are written
  in the very statement that inserts their settlement, with the id it returned, and settlements are
  never deleted. Each key check is a look-up per row (four per 2207) and the first one a row lock
  on persons, itself a WAL record. PostgreSQL only: on SQLite dropping a key rebuilds the table,
  and its keys cost no WAL.
- `fk_outbox_messages_person_id_persons`: the notice's person is the one the writing use case
  read in its transaction, and persons are never deleted; with the settlement's key gone this one
  alone still took the row lock on persons (a WAL record, and on a large world often a full page
  image of a cold persons page).
- `ephemeral_entries` UNLOGGED: nonces, SMS codes, counters and step-up windows live minutes; the
  nonce's claim was 4 WAL records per message. A crash empties the table: a nonce seen before it
  can be replayed once, and the replayed msgid gets its stored answer (fsi_messages stays logged),
  so nothing acts twice. Not replicated to a standby either: after a failover the same holds.
- fillfactor 80 on the rows every settlement updates (personal_accounts, yearly_accumulations,
  visits): room on the page for the new version, so the update is HOT (no index entries) even on
  pages loaded full. Applies to pages written from now on (a VACUUM FULL or the bench's load
  rewrites the old ones).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_settlement_write_cost"
down_revision: str | Sequence[str] | None = "0014_reconciliation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UPDATED = ("personal_accounts", "yearly_accumulations", "visits")


def upgrade() -> None:
    op.drop_index("ix_settlements_mdtrt_id", table_name="settlements")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_constraint("fk_settlements_person_id_persons", "settlements", type_="foreignkey")
    op.drop_constraint(
        "fk_settlement_items_settlement_id_settlements", "settlement_items", type_="foreignkey"
    )
    op.drop_constraint(
        "fk_outbox_messages_person_id_persons", "outbox_messages", type_="foreignkey"
    )
    for table in _UPDATED:
        op.execute(sa.text(f"ALTER TABLE {table} SET (fillfactor = 80)"))
    op.execute(sa.text("ALTER TABLE ephemeral_entries SET UNLOGGED"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text("ALTER TABLE ephemeral_entries SET LOGGED"))
        op.create_foreign_key(
            "fk_outbox_messages_person_id_persons",
            "outbox_messages",
            "persons",
            ["person_id"],
            ["id"],
        )
        for table in _UPDATED:
            op.execute(sa.text(f"ALTER TABLE {table} RESET (fillfactor)"))
        op.create_foreign_key(
            "fk_settlement_items_settlement_id_settlements",
            "settlement_items",
            "settlements",
            ["settlement_id"],
            ["id"],
        )
        op.create_foreign_key(
            "fk_settlements_person_id_persons", "settlements", "persons", ["person_id"], ["id"]
        )
    op.create_index("ix_settlements_mdtrt_id", "settlements", ["mdtrt_id"])
