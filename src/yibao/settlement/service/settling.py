"""(Pre-)settlement: assess a bill, pay the person's share, record it (2206/2207, 2101/2102).

The `*_in` functions do their work on the caller's session without committing, so the interface
can commit each one together with the answer to its message (see messages.answering). `settle`
and `cancel_settlement` are the same use cases committed on their own (CLI, demo data).

Hot path (2207/2102): keyed reads of one person's rows, then the writes; the person's yearly row
and accounts are locked, accounts in ascending id order, so no two settlements wait in a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.direct import flush_pending
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import Cover, InsuredPerson, is_retired
from yibao.enrolment.tables import Person
from yibao.kernel.clock import Clock, china_today, to_china
from yibao.kernel.errors import InvalidInput
from yibao.kernel.money import MAX_FEN, format_yuan
from yibao.kernel.pii import PersonalDataCipher
from yibao.ledger import repository as ledger_repository
from yibao.ledger.domain import AccountFrozen, AccountState, AccountStatus, NoPersonalAccount
from yibao.settlement import repository
from yibao.settlement.domain import (
    MED_TYPE_NAMES,
    Bill,
    Caller,
    FeeLine,
    InvalidBill,
    LineSplit,
    PayerFunds,
    Payment,
    Policy,
    SettlementMade,
    UnknownSettlement,
    VisitState,
    YearToDate,
    assess_bill,
    plan_payment,
    year_after,
)
from yibao.settlement.figures import BillFigures
from yibao.settlement.service import audit_check, vouchers
from yibao.settlement.service.recording import Cancellation, cancel_in, record_settlement
from yibao.settlement.service.visits import (
    check_certificate,
    checked_visit,
    chosen_enrolment,
    insured_with_cover,
    insured_with_open_visit,
    new_id,
    split_lines,
)
from yibao.settlement.tables import Settlement, SettlementItem, SettlementShare, Visit


@dataclass(frozen=True, slots=True)
class BillRequest:
    psn_no: str
    mdtrt_cert_type: str
    mdtrt_cert_no: str
    med_type: str
    medfee_sumamt_fen: int
    insutype: str | None
    acct_used_flag: bool
    msgid: str
    mdtrt_id: str | None = None  # hospitals: the visit 2201 opened
    lines: tuple[FeeLine, ...] | None = None  # pharmacies: the drug lines of the sale


@dataclass
class Assessment:
    person: InsuredPerson
    enrolment: Cover
    mdtrt_id: str
    bill: Bill
    lines: list[tuple[FeeLine, LineSplit, str]]
    payment: Payment
    balc_fen: int
    warnings: list[str] = field(default_factory=list)
    settlement: SettlementMade | None = None

    @property
    def figures(self) -> BillFigures:
        return BillFigures.of(self.bill, self.payment, self.balc_fen)


async def _accounts(
    session: AsyncSession, person_id: int, payer_account_ids: list[int], *, lock: bool
) -> tuple[AccountState | None, dict[int, AccountState]]:
    """The patient's account and the authorisers', locked in ascending account id."""
    if not payer_account_ids:
        return await ledger_repository.account_state_of_person(session, person_id, lock=lock), {}
    own = await ledger_repository.account_state_of_person(session, person_id)
    ids = sorted({*payer_account_ids, *([own.id] if own else [])})
    found: dict[int, AccountState] = {}
    for account_id in ids:
        account = await ledger_repository.account_state(session, account_id, lock=lock)
        if account is None:
            if lock:
                raise NoPersonalAccount("该参保人没有职工医保个人账户")
            continue
        found[account_id] = account
    return (found.get(own.id) if own else None), {
        i: found[i] for i in payer_account_ids if i in found
    }


async def settle_in(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    institution: Caller,
    request: BillRequest,
    *,
    write: bool,
) -> Assessment:
    """2206/2101 (write=False) assess a bill; 2207/2102 (write=True) also pay and record it."""
    if request.med_type not in MED_TYPE_NAMES:
        raise InvalidInput(
            f"med_type 应为 {'、'.join(MED_TYPE_NAMES)} 之一，收到 {request.med_type!r}"
        )
    visit: VisitState | None = None
    if request.lines is None:  # a hospital's visit: read (and locked) with the person
        person, enrolments, visit, fees = await insured_with_open_visit(
            session, request.psn_no, request.mdtrt_id or ""
        )
    else:
        person, enrolments = await insured_with_cover(session, request.psn_no)
    await check_certificate(
        session, cipher, person, request.mdtrt_cert_type, request.mdtrt_cert_no, clock.now()
    )
    enrolment = chosen_enrolment(person, enrolments, request.insutype)
    region = await enrolment_repository.region_rules(session, enrolment.admdvs)
    now = clock.now()
    if request.lines is None:
        visit, lines = checked_visit(visit, institution, request.mdtrt_id or "", person), fees
        if not lines:
            raise InvalidBill(f"就诊 {visit.mdtrt_id} 还没有上传费用明细（2204）")
    else:
        lines = list(request.lines)
        if not lines:
            raise InvalidBill("drugdetail 不能为空")
    split = await split_lines(session, lines, region.class_b_selfpay_bp, clock)
    total = sum(line.det_item_fee_sumamt_fen for line in lines)
    if total > MAX_FEN:  # each line is bounded, their sum too: no bill past 13 digits of yuan
        raise InvalidBill(f"费用明细合计 {format_yuan(total)} 超过金额上限（最多13位整数）")
    if total != request.medfee_sumamt_fen:
        raise InvalidBill(
            f"medfee_sumamt {request.medfee_sumamt_fen / 100:.2f} 与费用明细合计 {total / 100:.2f} 不符"
        )
    mdtrt_id = visit.mdtrt_id if visit else (request.mdtrt_id or new_id("M", now))
    # 明细审核: a blocking finding refuses the bill here, before anything is written and before
    # the year and the accounts are locked.
    checked = await audit_check.check_bill(
        session, clock, institution, person, enrolment, mdtrt_id, split, visit.id if visit else None
    )
    year = to_china(now).year
    so_far = (
        await repository.lock_year(session, person.id, year)
        if write
        else await repository.year_to_date(session, person.id, year)
    ) or YearToDate(0, 0)
    policy = Policy(
        region.deductible_fen,
        region.retiree_fund_ratio_bp if is_retired(enrolment.psn_type) else region.fund_ratio_bp,
        region.yearly_cap_fen,
    )
    bill = assess_bill([s for _, s, _ in split], so_far, policy)
    payers = await repository.mutual_aid_payers(session, person.id, china_today(clock))
    # Accounts are locked only when money may leave them.
    own, payer_accounts = await _accounts(
        session, person.id, [p.account_id for p in payers], lock=write and request.acct_used_flag
    )
    own_balance: int | None = None
    funds: list[PayerFunds] = []
    if request.acct_used_flag:
        if own is not None and enrolment.insutype == "310":
            if own.status == AccountStatus.FROZEN:
                raise AccountFrozen("个人账户已冻结，暂停支付；请参保人联系医保经办机构")
            own_balance = own.balance_fen
        funds = [
            PayerFunds(p, a.balance_fen, a.status == AccountStatus.ACTIVE)
            for p in payers
            if (a := payer_accounts.get(p.account_id)) is not None
        ]
    payment = plan_payment(bill.psn_part_fen, own_balance, funds)
    balc = (own.balance_fen if own else 0) - payment.acct_pay_fen
    result = Assessment(
        person,
        enrolment,
        mdtrt_id,
        bill,
        split,
        payment,
        balc,
        [s.warning for _, s, _ in split if s.warning] + checked.warnings,
    )
    if not write:
        return result
    if visit is None and institution.kind == "H":
        # A hospital bill sent whole (CLI, demo data) still leaves the visit it settled.
        session.add(
            Visit(
                mdtrt_id=mdtrt_id,
                person_id=person.id,
                fixmedins_code=institution.fixmedins_code,
                med_type=request.med_type,
                insutype=enrolment.insutype,
                status="settled",
                begin_at=now,
                msgid=request.msgid,
            )
        )
    # A pharmacy sale is its own visit: its mdtrt_id lives on the settlement alone.
    result.settlement = await _record(
        session,
        institution,
        request,
        result,
        own,
        payer_accounts,
        now,
        visit=visit,
        year=repository.YearMove(person.id, year, year_after(so_far, bill)),
    )
    await audit_check.keep_findings(
        session,
        clock,
        checked,
        msgid=request.msgid,
        setl_id=result.settlement.setl_id,
    )
    if request.mdtrt_cert_type == "01":
        await vouchers.spend(
            session, request.mdtrt_cert_no, person.id, result.settlement.setl_id, now
        )
    await flush_pending(session)
    return result


async def _record(
    session: AsyncSession,
    institution: Caller,
    request: BillRequest,
    result: Assessment,
    own: AccountState | None,
    payer_accounts: dict[int, AccountState],
    now: datetime,
    *,
    visit: VisitState | None,
    year: repository.YearMove,
) -> SettlementMade:
    items = [
        {
            "feedetl_sn": line.feedetl_sn,
            "med_list_codg": line.med_list_codg,
            "med_list_name": name,
            "chrgitm_lv": split.chrgitm_lv.value,
            "pric_fen": line.pric_fen,
            "cnt": str(line.cnt),
            "det_item_fee_sumamt_fen": line.det_item_fee_sumamt_fen,
            "fulamt_ownpay_amt_fen": split.fulamt_ownpay_fen,
            "overlmt_selfpay_fen": split.overlmt_selfpay_fen,
            "preselfpay_amt_fen": split.preselfpay_fen,
            "inscp_scp_amt_fen": split.inscp_scp_fen,
        }
        for line, split, name in result.lines
    ]
    return await record_settlement(
        session,
        institution=institution,
        setl_id=new_id("S", now),
        msgid=request.msgid,
        person_id=result.person.id,
        psn_no=result.person.psn_no,
        mdtrt_id=result.mdtrt_id,
        med_type=request.med_type,
        insutype=result.enrolment.insutype,
        figures=result.figures,
        items=items,
        own=own,
        visit=visit,
        year=year,
        shares=[
            (
                payer.payer_person_id,
                payer.authorisation_id,
                payer_accounts[payer.account_id],
                amount,
            )
            for payer, amount in result.payment.shares
        ],
        now=now,
    )


async def settle(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    institution: Caller,
    request: BillRequest,
) -> Assessment:
    """Settle a bill and commit (the CLI and demo data; the interface commits with its answer)."""
    try:
        result = await settle_in(session, cipher, clock, institution, request, write=True)
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return result


async def cancel_settlement(
    session: AsyncSession, clock: Clock, institution: Caller, setl_id: str, psn_no: str
) -> Cancellation:
    try:
        settlement = await cancel_in(
            session,
            clock,
            institution,
            setl_id=setl_id,
            psn_no=psn_no,
            mdtrt_id=None,
            reason="机构撤销结算",
        )
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return settlement


@dataclass
class SettlementDetail:
    person: Person
    settlement: Settlement
    items: list[SettlementItem]
    shares: list[SettlementShare]


async def settlement_detail(
    session: AsyncSession, institution: Caller, setl_id: str, psn_no: str
) -> SettlementDetail:
    """5203: a settlement of this institution, with its items and who paid what."""
    settlement = await repository.settlement_by_setl_id(session, setl_id.strip())
    if (
        settlement is None
        or settlement.fixmedins_code != institution.fixmedins_code
        or settlement.psn_no != psn_no.strip()
    ):
        raise UnknownSettlement(f"本机构没有该参保人的结算 setl_id={setl_id}")
    person = await enrolment_repository.person(session, settlement.person_id)
    assert person is not None
    return SettlementDetail(
        person,
        settlement,
        await repository.items_of(session, settlement.id),
        await repository.shares_of(session, settlement.id),
    )
