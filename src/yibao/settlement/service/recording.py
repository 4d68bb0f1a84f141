"""Writing a settlement down (record, ledger entries, notices) and undoing it: cancelling it, or
reversing the message that made it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.kernel.clock import Clock, to_china
from yibao.kernel.errors import InvalidInput
from yibao.kernel.money import format_yuan
from yibao.ledger import repository as ledger_repository
from yibao.ledger.domain import AccountState, EntryKind
from yibao.notifications import repository as notifications_repository
from yibao.notifications.domain import Channel
from yibao.settlement import repository
from yibao.settlement.domain import (
    Caller,
    SettlementCancelled,
    SettlementMade,
    UnknownSettlement,
    VisitState,
    YearToDate,
)
from yibao.settlement.figures import BillFigures
from yibao.settlement.tables import Settlement


async def notify_holder(
    session: AsyncSession, *, person_id: int, key: str, subject: str, body: str, now: datetime
) -> None:
    """In-app now and SMS through the sender: a holder spots a payment they did not make.

    The keys name a settlement made in this very transaction, so they cannot exist yet: the rows
    go straight in (the unique dedup_key still guards), without the look-up `enqueue` makes.
    """
    notifications_repository.add_new(session, _notices(person_id, key, subject, body, now))


def _notices(
    person_id: int, key: str, subject: str, body: str, now: datetime
) -> list[notifications_repository.NewMessage]:
    return [
        notifications_repository.NewMessage(
            channel, f"{key}:{channel.value}", person_id, subject, body, now
        )
        for channel in (Channel.INAPP, Channel.SMS)
    ]


def _payment_notice(institution: Caller, now: datetime, paid_fen: int, balance_fen: int) -> str:
    return (
        f"您的医保个人账户于{_when(now)}在{institution.name}支付{format_yuan(paid_fen)}元，"
        f"余额{format_yuan(balance_fen)}元。如非本人消费，请及时致电12393。"
    )


def _when(now: datetime) -> str:
    return f"{to_china(now):%m-%d %H:%M}"


def _posting(
    kind: EntryKind,
    amount_fen: int,
    key: str,
    institution: Caller,
    setl_id: str,
    *,
    beneficiary_person_id: int | None = None,
) -> ledger_repository.Posting:
    return ledger_repository.Posting(
        kind=kind,
        amount_fen=amount_fen,
        idempotency_key=key,
        counterparty=institution.name,
        counterparty_code=institution.fixmedins_code,
        beneficiary_person_id=beneficiary_person_id,
        source_type="settlement",
        source_id=setl_id,
    )


async def record_settlement(
    session: AsyncSession,
    *,
    institution: Caller,
    setl_id: str,
    msgid: str,
    person_id: int,
    psn_no: str,
    mdtrt_id: str,
    med_type: str,
    insutype: str,
    figures: BillFigures,
    items: list[dict[str, Any]],
    own: AccountState | None,
    visit: VisitState | None,
    year: repository.YearMove,
    shares: list[tuple[int, int, AccountState, int]],
    now: datetime,
) -> SettlementMade:
    """`shares`: (payer person id, authorisation id, the payer's locked account, amount).

    Also marks the visit settled and moves the year's accumulations: every write in one unit
    (`repository.write_settlement`: one statement on PostgreSQL).
    """
    values: dict[str, Any] = dict(
        setl_id=setl_id,
        mdtrt_id=mdtrt_id,
        person_id=person_id,
        psn_no=psn_no,
        fixmedins_code=institution.fixmedins_code,
        fixmedins_name=institution.name,
        fixmedins_type=institution.kind,
        med_type=med_type,
        insutype=insutype,
        setl_time=now,
        status="settled",
        msgid=msgid,
        **figures.columns(),
    )
    entries: list[ledger_repository.NewEntry] = []
    notices: list[notifications_repository.NewMessage] = []
    acct_pay = figures.acct_pay_fen
    if acct_pay > 0:
        assert own is not None
        own_posting = _posting(
            EntryKind.SETTLEMENT_DEBIT, -acct_pay, f"setl:{setl_id}:own", institution, setl_id
        )
        entry = ledger_repository.next_entry(own, own_posting, now)
        entries.append(entry)
        notices += _notices(
            person_id,
            f"setl:{setl_id}:{person_id}",
            "医保个人账户支付提醒",
            _payment_notice(institution, now, acct_pay, entry.balance_after_fen),
            now,
        )
    share_rows: list[repository.SharePaid] = []
    for payer_person_id, authorisation_id, account, amount in shares:
        posting = _posting(
            EntryKind.MUTUAL_AID_DEBIT,
            -amount,
            f"setl:{setl_id}:aid:{payer_person_id}",
            institution,
            setl_id,
            beneficiary_person_id=person_id,
        )
        entry = ledger_repository.next_entry(account, posting, now)
        share_rows.append(
            repository.SharePaid(len(entries), payer_person_id, person_id, authorisation_id, amount)
        )
        entries.append(entry)
        notices += _notices(
            payer_person_id,
            f"setl:{setl_id}:{payer_person_id}",
            "家庭共济支付提醒",
            (
                f"您的医保个人账户于{_when(now)}通过家庭共济为亲属在{institution.name}支付"
                f"{format_yuan(amount)}元，余额{format_yuan(entry.balance_after_fen)}元。"
                "如有疑问，请及时致电12393。"
            ),
            now,
        )
    settlement_id = await repository.write_settlement(
        session,
        settlement=values,
        items=items,
        entries=entries,
        shares=share_rows,
        visit=visit,
        year=year,
        notices=notices,
    )
    return SettlementMade(
        settlement_id, setl_id, mdtrt_id, insutype, med_type, now, msgid, values["status"]
    )


async def _entries_of(
    session: AsyncSession, settlement: Settlement
) -> list[ledger_repository.LedgerEntry]:
    entries = []
    own = await ledger_repository.entry_by_key(session, f"setl:{settlement.setl_id}:own")
    if own is not None:
        entries.append(own)
    for share in await repository.shares_of(session, settlement.id):
        entry = await ledger_repository.entry_by_id(session, share.ledger_entry_id)
        if entry is not None:
            entries.append(entry)
    return entries


async def cancel_in(
    session: AsyncSession,
    clock: Clock,
    institution: Caller,
    *,
    setl_id: str,
    psn_no: str,
    mdtrt_id: str | None,
    reason: str,
) -> Cancellation:
    """2208/2103: undo a settlement; the accounts and the year's accumulations are restored."""
    settlement = await repository.settlement_by_setl_id(session, setl_id.strip(), lock=True)
    if settlement is None or settlement.fixmedins_code != institution.fixmedins_code:
        raise UnknownSettlement(f"本机构没有结算 setl_id={setl_id}")
    if settlement.psn_no != psn_no.strip():
        raise InvalidInput(f"psn_no {psn_no} 与结算 {setl_id} 的参保人不符")
    if mdtrt_id and settlement.mdtrt_id != mdtrt_id.strip():
        raise InvalidInput(f"mdtrt_id {mdtrt_id} 与结算 {setl_id} 的就诊不符")
    if settlement.status == "cancelled":
        raise SettlementCancelled(f"结算 {setl_id} 已撤销")
    now = clock.now()
    year_of_setl = to_china(settlement.setl_time).year
    year = await repository.lock_year(session, settlement.person_id, year_of_setl)
    entries = sorted(await _entries_of(session, settlement), key=lambda e: e.account_id)
    balc = settlement.balc_fen
    for entry in entries:  # locked in ascending account id, like settlement itself
        account = await ledger_repository.lock_account(session, entry.account_id)
        await ledger_repository.reverse(
            session,
            account,
            entry,
            idempotency_key=f"{entry.idempotency_key}:cancel",
            reason=reason,
            now=now,
        )
        holder = account.person_id
        if holder == settlement.person_id:
            balc = account.balance_fen
        await notify_holder(
            session,
            person_id=holder,
            key=f"setl:{settlement.setl_id}:cancel:{holder}",
            subject="医保个人账户退回提醒",
            body=(
                f"{institution.name}于{_when(now)}撤销结算，{format_yuan(-entry.amount_fen)}元"
                f"已退回您的医保个人账户，余额{format_yuan(account.balance_fen)}元。"
            ),
            now=now,
        )
    await repository.move_year(
        session,
        repository.YearMove(
            settlement.person_id,
            year_of_setl,
            YearToDate(
                max(year.deductible_used_fen - settlement.act_pay_dedc_fen, 0),
                max(year.fund_paid_fen - settlement.hifp_pay_fen, 0),
            ),
        ),
    )
    settlement.status = "cancelled"
    settlement.cancelled_at = now
    visit = await repository.visit_by_mdtrt_id(session, settlement.mdtrt_id, lock=True)
    if visit is not None:
        # A hospital may correct the fees and settle the visit again; a sale is simply undone.
        visit.status = "open" if institution.kind == "H" else "cancelled"
    await session.flush()
    return Cancellation(settlement, balc)


@dataclass(frozen=True, slots=True)
class Cancellation:
    settlement: Settlement
    balc_fen: int  # the patient's balance once the money is back


@dataclass(frozen=True, slots=True)
class SettlementReversal:
    """What undoing the message that settled found: the settlement it made (None: it made none
    at this institution) and its cancellation (None: it was already cancelled)."""

    setl_id: str | None = None
    cancellation: Cancellation | None = None


async def reverse_settlement(
    session: AsyncSession,
    clock: Clock,
    institution: Caller,
    *,
    psn_no: str,
    msgid: str,
    reason: str,
) -> SettlementReversal:
    """冲正 of the message `msgid` that settled: cancel its settlement, whatever state it reached
    (never arrived, settled, already cancelled)."""
    settlement = await repository.settlement_by_msgid(session, msgid)
    if settlement is None or settlement.fixmedins_code != institution.fixmedins_code:
        return SettlementReversal()
    # The person before the state, as for a registration: another person's psn_no is refused
    # even once the settlement is undone, so the answer never depends on which came first.
    if settlement.psn_no != psn_no.strip():
        raise InvalidInput(f"psn_no {psn_no} 与结算 {settlement.setl_id} 的参保人不符")
    if settlement.status != "settled":
        return SettlementReversal(settlement.setl_id)
    done = await cancel_in(
        session,
        clock,
        institution,
        setl_id=settlement.setl_id,
        psn_no=psn_no,
        mdtrt_id=None,
        reason=reason,
    )
    return SettlementReversal(settlement.setl_id, done)
