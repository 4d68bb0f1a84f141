"""代缴居民医保: the authoriser's account pays a relative's yearly resident contribution."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.family import repository
from yibao.family.domain import (
    ContributionAlreadyPaid,
    QuotaExceeded,
    Status,
    StatusChangeRefused,
    quota_remaining,
)
from yibao.family.service.common import names, owned_by, tell
from yibao.family.tables import RelativeContribution
from yibao.kernel.clock import Clock, china_today, to_china
from yibao.kernel.errors import InvalidInput
from yibao.kernel.idnumber import mask_name
from yibao.kernel.money import format_yuan
from yibao.ledger import repository as ledger_repository
from yibao.ledger.domain import EntryKind


@dataclass(frozen=True, slots=True)
class Receipt:
    """缴费凭证."""

    receipt_no: str
    year: int
    payer_name: str
    beneficiary_name: str
    beneficiary_id_masked: str
    region_name: str
    amount_fen: int
    paid_at: datetime
    balance_after_fen: int


async def pay_relative_contribution(
    session: AsyncSession, clock: Clock, authoriser_id: int, authorisation_id: int
) -> Receipt:
    # Lock order: the authorisation row, then the account (as settlement does).
    row = await repository.authorisation(session, authorisation_id, lock=True)
    owned_by(row, authoriser_id)
    if row.status != Status.ACTIVE:
        raise StatusChangeRefused("家庭共济授权生效后才能为亲属代缴居民医保")
    enrolment = next(
        (
            e
            for e in await enrolment_repository.enrolments_of(session, row.beneficiary_person_id)
            if e.insutype == "390"
        ),
        None,
    )
    if enrolment is None:
        raise InvalidInput("该亲属未参加城乡居民医保，无需代缴居民医保费")
    year = china_today(clock).year
    if await repository.contribution_for(session, row.beneficiary_person_id, year) is not None:
        raise ContributionAlreadyPaid(f"该亲属 {year} 年度的居民医保费已缴纳")
    region = await enrolment_repository.region(session, enrolment.admdvs)
    amount = region.resident_contribution_fen
    account = await ledger_repository.account_for_person(session, authoriser_id)
    if account is None:
        raise InvalidInput("您没有职工医保个人账户")
    account = await ledger_repository.lock_account(session, account.id)
    if row.quota_fen is not None:
        used = await repository.used_in_year(session, account.id, row.beneficiary_person_id, year)
        left = quota_remaining(row.quota_fen, used) or 0
        if left < amount:
            raise QuotaExceeded(
                f"本年剩余共济额度 {format_yuan(left)} 元，不足以代缴 {format_yuan(amount)} 元；"
                "可先调高共济额度"
            )
    now = clock.now()
    receipt_no = f"JM{to_china(now):%Y%m%d}{secrets.randbelow(10**10):010d}"
    authoriser_name, beneficiary_name = await names(session, row)
    try:
        entry = await ledger_repository.post(
            session,
            account,
            ledger_repository.Posting(
                kind=EntryKind.RELATIVE_CONTRIBUTION_DEBIT,
                amount_fen=-amount,
                idempotency_key=f"relcontrib:{year}:{row.beneficiary_person_id}:{authoriser_id}",
                counterparty=f"{region.name}城乡居民医保",
                counterparty_code=region.admdvs,
                beneficiary_person_id=row.beneficiary_person_id,
                source_type="relative_contribution",
                source_id=receipt_no,
            ),
            now,
        )
        session.add(
            RelativeContribution(
                receipt_no=receipt_no,
                authorisation_id=row.id,
                payer_person_id=authoriser_id,
                beneficiary_person_id=row.beneficiary_person_id,
                year=year,
                admdvs=region.admdvs,
                amount_fen=amount,
                ledger_entry_id=entry.id,
                paid_at=now,
            )
        )
        await session.flush()
    except IntegrityError as exc:
        # Another relative paid the same person's year at the same moment: one receipt stands.
        await session.rollback()
        raise ContributionAlreadyPaid(f"该亲属 {year} 年度的居民医保费已缴纳") from exc
    beneficiary = await enrolment_repository.person(session, row.beneficiary_person_id)
    assert beneficiary is not None
    await tell(
        session,
        authoriser_id,
        f"contrib:{receipt_no}",
        "代缴居民医保成功",
        f"您的医保个人账户已为{mask_name(beneficiary_name)}代缴{year}年度居民医保费"
        f"{format_yuan(amount)}元，余额{format_yuan(account.balance_fen)}元。凭证号{receipt_no}。",
        now,
    )
    await tell(
        session,
        row.beneficiary_person_id,
        f"contrib-b:{receipt_no}",
        "居民医保已缴费",
        f"{mask_name(authoriser_name)}已用其医保个人账户为您缴纳{year}年度居民医保费"
        f"{format_yuan(amount)}元。",
        now,
        sms=False,
    )
    await session.commit()
    return Receipt(
        receipt_no=receipt_no,
        year=year,
        payer_name=authoriser_name,
        beneficiary_name=beneficiary_name,
        beneficiary_id_masked=beneficiary.id_number_masked,
        region_name=region.name,
        amount_fen=amount,
        paid_at=now,
        balance_after_fen=account.balance_fen,
    )
