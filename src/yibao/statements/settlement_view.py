"""The settlement records 消费记录 shows, read through the columns shared-contracts.md names.

The settlement feature owns these tables (revision 0003). Until its branch lands, statements reads
them through this projection (its own MetaData, so migrations never see it) and treats a missing
table as "no settlement detail yet": the ledger entries still show, with what they carry.
Once `yibao.settlement.tables` exists this file can select from its mapped classes instead.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.types import BigIntPK, UTCDateTime

view_metadata = MetaData()

settlements = Table(
    "settlements",
    view_metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("setl_id", String(40)),
    Column("mdtrt_id", String(40)),
    Column("person_id", BigInteger),
    Column("psn_no", String(30)),
    Column("fixmedins_code", String(20)),
    Column("fixmedins_name", String(120)),
    Column("fixmedins_type", String(1)),
    Column("med_type", String(4)),
    Column("insutype", String(3)),
    Column("medfee_sumamt_fen", BigInteger),
    Column("fulamt_ownpay_amt_fen", BigInteger),
    Column("overlmt_selfpay_fen", BigInteger),
    Column("preselfpay_amt_fen", BigInteger),
    Column("inscp_scp_amt_fen", BigInteger),
    Column("act_pay_dedc_fen", BigInteger),
    Column("hifp_pay_fen", BigInteger),
    Column("fund_pay_sumamt_fen", BigInteger),
    Column("psn_part_amt_fen", BigInteger),
    Column("acct_pay_fen", BigInteger),
    Column("acct_mulaid_pay_fen", BigInteger),
    Column("psn_cash_pay_fen", BigInteger),
    Column("balc_fen", BigInteger),
    Column("setl_time", UTCDateTime),
    Column("status", String(12)),
    Column("cancelled_at", UTCDateTime, nullable=True),
    Column("msgid", String(40)),
)

settlement_items = Table(
    "settlement_items",
    view_metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("settlement_id", BigInteger),
    Column("feedetl_sn", String(30)),
    Column("med_list_codg", String(50)),
    Column("med_list_name", String(200)),
    Column("chrgitm_lv", String(2)),
    Column("pric_fen", BigInteger),
    Column("cnt", String(20)),
    Column("det_item_fee_sumamt_fen", BigInteger),
    Column("fulamt_ownpay_amt_fen", BigInteger),
    Column("overlmt_selfpay_fen", BigInteger),
    Column("preselfpay_amt_fen", BigInteger),
    Column("inscp_scp_amt_fen", BigInteger),
)

settlement_shares = Table(
    "settlement_mutual_aid",
    view_metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("settlement_id", BigInteger),
    Column("payer_person_id", BigInteger),
    Column("beneficiary_person_id", BigInteger),
    Column("authorisation_id", BigInteger),
    Column("amount_fen", BigInteger),
    Column("ledger_entry_id", BigInteger),
)


async def settlement_tables_exist(session: AsyncSession) -> bool:
    connection = await session.connection()

    def _has(sync_connection):  # type: ignore[no-untyped-def]
        from sqlalchemy import inspect

        return inspect(sync_connection).has_table("settlements")

    return bool(await connection.run_sync(_has))
