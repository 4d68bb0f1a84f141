"""Money moving on a test person's account at chosen times: credits, settlements, family payments.

Settlement rows are written straight into the settlement feature's tables (with the ledger
entries its use case would post), so a test can place them at any moment in the past.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.ledger import repository as ledger_repository
from yibao.ledger.domain import EntryKind
from yibao.settlement.tables import Settlement, SettlementItem, SettlementShare

settlements = Settlement.__table__
settlement_items = SettlementItem.__table__
settlement_shares = SettlementShare.__table__


async def credit(session: AsyncSession, person_id: int, fen: int, at: datetime, key: str) -> None:
    account = await ledger_repository.account_for_person(session, person_id, lock=True)
    assert account is not None
    await ledger_repository.post(
        session,
        account,
        ledger_repository.Posting(
            kind=EntryKind.CONTRIBUTION_CREDIT,
            amount_fen=fen,
            idempotency_key=key,
            counterparty="测试单位有限公司",
            source_type="contribution",
            source_id=key,
        ),
        at,
    )
    await session.commit()


async def settle(
    session: AsyncSession,
    person_id: int,
    setl_id: str,
    at: datetime,
    *,
    total_fen: int,
    fund_fen: int,
    acct_fen: int,
    code: str = "H31010400012",
    name: str = "上海市第一人民医院",
    med_type: str = "11",
    payer_person_id: int | None = None,
    aid_fen: int = 0,
    with_row: bool = True,
) -> None:
    """A settlement of `person_id` paid `acct_fen` from their own account (and `aid_fen` from
    `payer_person_id`'s), the rest from the fund and in cash."""
    entries: list[int | None] = []
    for payer, fen, kind, key in (
        (person_id, acct_fen, EntryKind.SETTLEMENT_DEBIT, f"setl:{setl_id}:own"),
        (
            payer_person_id,
            aid_fen,
            EntryKind.MUTUAL_AID_DEBIT,
            f"setl:{setl_id}:aid:{payer_person_id}",
        ),
    ):
        if payer is None or fen == 0:
            entries.append(None)
            continue
        account = await ledger_repository.account_for_person(session, payer, lock=True)
        assert account is not None
        entry = await ledger_repository.post(
            session,
            account,
            ledger_repository.Posting(
                kind=kind,
                amount_fen=-fen,
                idempotency_key=key,
                counterparty=name,
                counterparty_code=code,
                beneficiary_person_id=person_id if kind == EntryKind.MUTUAL_AID_DEBIT else None,
                source_type="settlement",
                source_id=setl_id,
            ),
            at,
        )
        entries.append(entry.id)
    if with_row:
        cash = total_fen - fund_fen - acct_fen - aid_fen
        result = await session.execute(
            insert(settlements).values(
                setl_id=setl_id,
                mdtrt_id="M" + setl_id,
                person_id=person_id,
                psn_no="P",
                fixmedins_code=code,
                fixmedins_name=name,
                fixmedins_type=code[0],
                med_type=med_type,
                insutype="310",
                medfee_sumamt_fen=total_fen,
                fulamt_ownpay_amt_fen=0,
                overlmt_selfpay_fen=0,
                preselfpay_amt_fen=0,
                inscp_scp_amt_fen=total_fen,
                act_pay_dedc_fen=0,
                hifp_pay_fen=fund_fen,
                fund_pay_sumamt_fen=fund_fen,
                psn_part_amt_fen=total_fen - fund_fen,
                acct_pay_fen=acct_fen,
                acct_mulaid_pay_fen=aid_fen,
                psn_cash_pay_fen=cash,
                balc_fen=0,
                setl_time=at,
                status="settled",
                cancelled_at=None,
                msgid=code + setl_id[-18:],
            )
        )
        settlement_pk = result.inserted_primary_key[0]  # type: ignore[index]
        await session.execute(
            insert(settlement_items),
            [
                {
                    "settlement_id": settlement_pk,
                    "feedetl_sn": "1",
                    "med_list_codg": "XA01ABD075A002010100483",
                    "med_list_name": "阿莫西林胶囊",
                    "chrgitm_lv": "01",
                    "pric_fen": total_fen // 2,
                    "cnt": "1",
                    "det_item_fee_sumamt_fen": total_fen // 2,
                    "fulamt_ownpay_amt_fen": 0,
                    "overlmt_selfpay_fen": 0,
                    "preselfpay_amt_fen": 0,
                    "inscp_scp_amt_fen": total_fen // 2,
                },
                {
                    "settlement_id": settlement_pk,
                    "feedetl_sn": "2",
                    "med_list_codg": "001201000010000",
                    "med_list_name": "普通门诊诊查费",
                    "chrgitm_lv": "02",
                    "pric_fen": total_fen - total_fen // 2,
                    "cnt": "1",
                    "det_item_fee_sumamt_fen": total_fen - total_fen // 2,
                    "fulamt_ownpay_amt_fen": 0,
                    "overlmt_selfpay_fen": 0,
                    "preselfpay_amt_fen": 0,
                    "inscp_scp_amt_fen": total_fen - total_fen // 2,
                },
            ],
        )
        if payer_person_id is not None and aid_fen:
            await session.execute(
                insert(settlement_shares).values(
                    settlement_id=settlement_pk,
                    payer_person_id=payer_person_id,
                    beneficiary_person_id=person_id,
                    authorisation_id=1,
                    amount_fen=aid_fen,
                    ledger_entry_id=entries[1],
                )
            )
    await session.commit()
