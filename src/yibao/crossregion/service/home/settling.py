"""The home region's claims (参保地, A): settle and reverse what B's institutions bill.

settle: assess the bill B priced on its catalogue against the person's year and this region's
policy, take the account part from the ledger, record the fund part (a claim) — or, `dry_run`,
only answer the figures (2206/2101 at B). reverse: undo a settle message, whatever state it
reached (2208/2103/2601 at B, reconciliation). Each use case commits once; a settle message's
claim is its idempotency record (unique `message_id`), and a reversal that arrives before its
settle message leaves a reversed claim with no money, so the late settle message is refused.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.crossregion import repository
from yibao.crossregion.domain import (
    BadPeerMessage,
    ClaimReversed,
    ClaimStatus,
    FilingRequired,
    UnfiledRule,
    unfiled_ratio,
)
from yibao.crossregion.service.home.answers import _check_certificate, _treatment_region
from yibao.crossregion.service.inbound import Sender, int_field, text_field
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import EnrolmentStatus, InsuredPerson, UnknownPerson, is_retired
from yibao.filings import repository as filings_repository
from yibao.kernel.clock import china_today, to_china
from yibao.ledger import repository as ledger_repository
from yibao.ledger.domain import AccountFrozen, AccountStatus, EntryKind
from yibao.runtime import Runtime
from yibao.settlement import repository as settlement_repository
from yibao.settlement.domain import (
    ItemClass,
    LineSplit,
    NotInsured,
    Policy,
    YearToDate,
    assess_bill,
    plan_payment,
    year_after,
)


def _splits(payload: dict[str, Any]) -> list[LineSplit]:
    lines = payload.get("lines")
    if not isinstance(lines, list) or not lines or len(lines) > 1000:
        raise BadPeerMessage("报文字段 lines 缺失或无效")
    splits = []
    for line in lines:
        if not isinstance(line, dict):
            raise BadPeerMessage("报文字段 lines 缺失或无效")
        try:
            level = ItemClass(str(line.get("chrgitm_lv")))
        except ValueError:
            raise BadPeerMessage("报文字段 lines.chrgitm_lv 无效") from None
        splits.append(
            LineSplit(
                level,
                int_field(line, "fulamt_ownpay_fen"),
                int_field(line, "overlmt_selfpay_fen"),
                int_field(line, "preselfpay_fen"),
                int_field(line, "inscp_scp_fen"),
            )
        )
    return splits


def _claim_answer(claim: repository.Claim) -> dict[str, Any]:
    if claim.status == ClaimStatus.REVERSED:
        raise ClaimReversed(f"该笔异地结算（{claim.message_id}）已在参保地冲正，不能再结算")
    if claim.status == ClaimStatus.CASH:
        # A settle message arriving after the record of its cash settlement: never a debit.
        raise ClaimReversed(f"该笔异地结算（{claim.message_id}）已在就医地按全额自付结算")
    return {"figures": _figures_of(claim)}


def _figures_of(claim: repository.Claim) -> dict[str, Any]:
    return {
        "setl_id": claim.setl_id,
        "psn_no": claim.psn_no,
        "insutype": claim.insutype,
        "medfee_sumamt_fen": claim.medfee_sumamt_fen,
        "fulamt_ownpay_fen": claim.fulamt_ownpay_fen,
        "overlmt_selfpay_fen": claim.overlmt_selfpay_fen,
        "preselfpay_fen": claim.preselfpay_fen,
        "inscp_scp_fen": claim.inscp_scp_fen,
        "act_pay_dedc_fen": claim.act_pay_dedc_fen,
        "fund_pay_fen": claim.fund_pay_fen,
        "acct_pay_fen": claim.acct_pay_fen,
        "cash_pay_fen": claim.cash_pay_fen,
        "balc_fen": claim.balc_fen,
        "filed": claim.filed,
    }


def _named(insured: InsuredPerson) -> dict[str, Any]:
    """Who was settled, as B keeps it for its 5203 (the ID number masked, as shown everywhere)."""
    return {
        "psn_name": insured.name,
        "gend": insured.gender,
        "brdy": insured.birth_date.isoformat(),
        "certno_masked": insured.id_number_masked,
    }


async def settle(runtime: Runtime, sender: Sender, payload: dict[str, Any]) -> dict[str, Any]:
    treatment = _treatment_region(sender, payload)
    message_id = text_field(payload, "message_id", 80)
    dry_run = payload.get("dry_run") is True
    if not message_id.startswith(f"{sender.deployment}:"):
        raise BadPeerMessage("message_id 应以发送方部署名开头")
    for attempt in (1, 2):
        async with runtime.sessions() as session:
            if not dry_run:
                claim = await repository.claim_by_message(session, message_id)
                if claim is not None:
                    answer = _claim_answer(claim)
                    found = await enrolment_repository.insured_with_cover(
                        session, claim.psn_no or ""
                    )
                    return answer | (_named(found[0]) if found else {"psn_name": ""})
            try:
                answer = await _settle_in(runtime, session, sender, treatment, payload, dry_run)
                if not dry_run:
                    await session.commit()
                return answer
            except IntegrityError:
                # Two copies of one message at once: the other stored its claim first.
                await session.rollback()
                if attempt == 2:
                    raise
    raise AssertionError("unreachable")


async def _covered(session: AsyncSession, person_id: int, treatment: str, day: date) -> bool:
    return await filings_repository.covering_filing(session, person_id, treatment, day) is not None


async def _settle_in(
    runtime: Runtime,
    session: AsyncSession,
    sender: Sender,
    treatment: str,
    payload: dict[str, Any],
    dry_run: bool,
) -> dict[str, Any]:
    now = runtime.clock.now()
    today = china_today(runtime.clock)
    psn_no = text_field(payload, "psn_no", 30)
    found = await enrolment_repository.insured_with_cover(session, psn_no)
    if found is None:
        raise UnknownPerson(f"参保地未找到人员编号 psn_no={psn_no} 的参保人")
    insured, covers = found
    _check_certificate(
        runtime,
        insured,
        text_field(payload, "mdtrt_cert_type", 2),
        text_field(payload, "mdtrt_cert_no", 200),
    )
    wanted = payload.get("insutype") or None
    chosen = [c for c in covers if c.insutype in {"310", "390"} and wanted in (None, c.insutype)]
    if not chosen:
        raise NotInsured(f"参保人 {psn_no} 未参加险种 {wanted}")
    cover = chosen[0]
    if cover.status != EnrolmentStatus.NORMAL:
        raise NotInsured(f"参保人 {psn_no} 参保状态异常（{cover.status}），不能医保结算")
    home = await repository.peer_of(session, cover.admdvs)
    if home is None or not home.local:
        raise NotInsured(f"参保人 {psn_no} 的参保地 {cover.admdvs} 不由本平台服务")
    rules = await repository.home_policy(session, cover.admdvs)
    ratio = rules.retiree_fund_ratio_bp if is_retired(cover.psn_type) else rules.fund_ratio_bp
    filed = await _covered(session, insured.id, treatment, today)
    if not filed:
        if rules.unfiled_rule == UnfiledRule.REFUSE:
            raise FilingRequired(
                f"参保人未办理到就医地 {treatment} 的异地就医备案，参保地不予直接结算；"
                "请先办理备案，或回参保地报销"
            )
        ratio = unfiled_ratio(ratio, rules.unfiled_ratio_cut_bp)
    splits = _splits(payload)
    year = to_china(now).year
    so_far = (
        await settlement_repository.year_to_date(session, insured.id, year)
        if dry_run
        else await settlement_repository.lock_year(session, insured.id, year)
    ) or YearToDate(0, 0)
    bill = assess_bill(splits, so_far, Policy(rules.deductible_fen, ratio, rules.yearly_cap_fen))
    acct_used = payload.get("acct_used_flag") is True and cover.insutype == "310"
    account = await ledger_repository.account_for_person(
        session, insured.id, lock=acct_used and not dry_run
    )
    own_balance: int | None = None
    if acct_used and account is not None:
        if account.status == AccountStatus.FROZEN:
            raise AccountFrozen("个人账户已冻结，暂停支付；请参保人联系参保地医保经办机构")
        own_balance = account.balance_fen
    payment = plan_payment(bill.psn_part_fen, own_balance, [])
    balance = (account.balance_fen if account else 0) - payment.acct_pay_fen
    setl_id = text_field(payload, "setl_id", 30)
    figures = {
        "setl_id": setl_id,
        "psn_no": insured.psn_no,
        "insutype": cover.insutype,
        "medfee_sumamt_fen": bill.medfee_sumamt_fen,
        "fulamt_ownpay_fen": bill.fulamt_ownpay_fen,
        "overlmt_selfpay_fen": bill.overlmt_selfpay_fen,
        "preselfpay_fen": bill.preselfpay_fen,
        "inscp_scp_fen": bill.inscp_scp_fen,
        "act_pay_dedc_fen": bill.act_pay_dedc_fen,
        "fund_pay_fen": bill.fund_pay_sumamt_fen,
        "acct_pay_fen": payment.acct_pay_fen,
        "cash_pay_fen": payment.psn_cash_pay_fen,
        "balc_fen": balance,
        "filed": filed,
    }
    if dry_run:
        return {"figures": figures, **_named(insured)}
    fixmedins_code = text_field(payload, "fixmedins_code", 12)
    fixmedins_name = text_field(payload, "fixmedins_name", 100)
    region = await repository.peer_of(session, treatment)
    place = f"{fixmedins_name}（异地·{region.region_name if region else treatment}）"
    entry_id: int | None = None
    if payment.acct_pay_fen > 0 and account is not None:
        entry = await ledger_repository.post(
            session,
            account,
            ledger_repository.Posting(
                kind=EntryKind.SETTLEMENT_DEBIT,
                amount_fen=-payment.acct_pay_fen,
                idempotency_key=f"xr:{text_field(payload, 'message_id', 80)}",
                counterparty=place[:120],
                counterparty_code=fixmedins_code,
                source_type="crossregion",
                source_id=setl_id,
            ),
            now,
            fresh=True,
        )
        entry_id = entry.id
    await settlement_repository.move_year(
        session, settlement_repository.YearMove(insured.id, year, year_after(so_far, bill))
    )
    session.add(
        repository.Claim(
            message_id=text_field(payload, "message_id", 80),
            status=ClaimStatus.SETTLED.value,
            treatment_admdvs=treatment,
            home_admdvs=cover.admdvs,
            sender=sender.deployment,
            setl_id=setl_id,
            person_id=insured.id,
            psn_no=insured.psn_no,
            fixmedins_code=fixmedins_code,
            fixmedins_name=fixmedins_name,
            med_type=text_field(payload, "med_type", 4),
            insutype=cover.insutype,
            year=year,
            medfee_sumamt_fen=bill.medfee_sumamt_fen,
            fulamt_ownpay_fen=bill.fulamt_ownpay_fen,
            overlmt_selfpay_fen=bill.overlmt_selfpay_fen,
            preselfpay_fen=bill.preselfpay_fen,
            inscp_scp_fen=bill.inscp_scp_fen,
            act_pay_dedc_fen=bill.act_pay_dedc_fen,
            fund_pay_fen=bill.fund_pay_sumamt_fen,
            acct_pay_fen=payment.acct_pay_fen,
            cash_pay_fen=payment.psn_cash_pay_fen,
            balc_fen=balance,
            filed=filed,
            entry_id=entry_id,
            settled_on=today,
            created_at=now,
        )
    )
    await session.flush()
    return {"figures": figures, **_named(insured)}


async def reverse_claim_in(
    runtime: Runtime,
    session: AsyncSession,
    sender: Sender,
    treatment: str,
    message_id: str,
    why: str,
) -> repository.Claim:
    """Undo a settle message at home: the ledger entry reversed (through the ledger), the year's
    accumulations given back, the claim marked reversed. A message never seen leaves a reversed
    claim without money, so its late copy is refused."""
    now = runtime.clock.now()
    claim = await repository.claim_by_message(session, message_id, lock=True)
    if claim is None:
        claim = repository.Claim(
            message_id=message_id,
            status=ClaimStatus.REVERSED.value,
            treatment_admdvs=treatment,
            sender=sender.deployment,
            filed=True,
            settled_on=china_today(runtime.clock),
            created_at=now,
            reversed_at=now,
            reversed_why=why[:200],
        )
        session.add(claim)
        await session.flush()
        return claim
    if claim.status == ClaimStatus.REVERSED:
        return claim
    if claim.treatment_admdvs not in sender.regions:
        raise BadPeerMessage("该笔异地结算不属于发送方")
    if claim.status == ClaimStatus.CASH:
        # Paid in full elsewhere: no money of ours moved (a debit made first was reversed when
        # it became cash); cancelled there, it is no longer a 零星报销 candidate.
        claim.status = ClaimStatus.REVERSED.value
        claim.reversed_at = now
        claim.reversed_why = why[:200]
        await session.flush()
        return claim
    assert claim.person_id is not None and claim.year is not None
    # The year's row before the account, as a settlement locks them: no two use cases of one
    # person wait on each other in a cycle.
    so_far = await settlement_repository.lock_year(session, claim.person_id, claim.year)
    if claim.entry_id is not None:
        account = await ledger_repository.account_for_person(session, claim.person_id, lock=True)
        original = await ledger_repository.entry_by_key(session, f"xr:{message_id}")
        assert account is not None and original is not None
        await ledger_repository.reverse(
            session,
            account,
            original,
            idempotency_key=f"xr-rev:{message_id}",
            reason=why[:200],
            now=now,
        )
        claim.balc_fen = account.balance_fen
    await settlement_repository.move_year(
        session,
        settlement_repository.YearMove(
            claim.person_id,
            claim.year,
            YearToDate(
                max(so_far.deductible_used_fen - claim.act_pay_dedc_fen, 0),
                max(so_far.fund_paid_fen - claim.fund_pay_fen, 0),
            ),
        ),
    )
    claim.status = ClaimStatus.REVERSED.value
    claim.reversed_at = now
    claim.reversed_why = why[:200]
    await session.flush()
    return claim


async def reverse(runtime: Runtime, sender: Sender, payload: dict[str, Any]) -> dict[str, Any]:
    treatment = _treatment_region(sender, payload)
    message_id = text_field(payload, "message_id", 80)
    why = payload.get("reason") if isinstance(payload.get("reason"), str) else "就医地撤销"
    for attempt in (1, 2):
        async with runtime.sessions() as session:
            try:
                claim = await reverse_claim_in(
                    runtime, session, sender, treatment, message_id, str(why)
                )
                answer = {
                    "reversed": claim.setl_id is not None,
                    "figures": _figures_of(claim),
                }
                await session.commit()
                return answer
            except IntegrityError:
                await session.rollback()
                if attempt == 2:
                    raise
    raise AssertionError("unreachable")
