"""Who is at the counter, and their visit: certificates (card, ID, e-voucher), finding the
insured, registering a visit, uploading its fees, and withdrawing a registration or an upload."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import Cover, EnrolmentStatus, InsuredPerson, UnknownPerson
from yibao.enrolment.tables import Enrolment, Person
from yibao.kernel.clock import Clock, china_today, to_china
from yibao.kernel.errors import InvalidInput
from yibao.kernel.pii import PersonalDataCipher
from yibao.ledger import repository as ledger_repository
from yibao.settlement import repository
from yibao.settlement.domain import (
    CERT_TYPE_NAMES,
    MED_TYPE_NAMES,
    Caller,
    FeeLine,
    InvalidBill,
    LineSplit,
    NotInsured,
    UnknownVisit,
    VisitSettled,
    VisitState,
    check_fee_line,
    split_line,
)
from yibao.settlement.service import vouchers
from yibao.settlement.tables import (
    FeeDetail,
    Visit,
)

E = TypeVar("E", Enrolment, Cover)
V = TypeVar("V", Visit, VisitState)


def new_id(prefix: str, now: datetime) -> str:
    """setl_id / mdtrt_id: a letter, the second, and 15 random digits (30 characters).

    Eight random digits collided within a benchmark run (hundreds a second share a timestamp);
    fifteen make a clash within one second about a one-in-ten-billion event at that rate.
    """
    return f"{prefix}{to_china(now):%Y%m%d%H%M%S}{secrets.randbelow(10**15):015d}"


async def person_by_psn_no(session: AsyncSession, psn_no: str) -> Person:
    person = await enrolment_repository.person_by_psn_no(session, psn_no.strip())
    if person is None:
        raise UnknownPerson(f"未找到人员编号 psn_no={psn_no} 的参保人")
    return person


async def check_certificate(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    person: Person | InsuredPerson,
    cert_type: str,
    cert_no: str,
    now: datetime,
) -> None:
    """The card or code presented must be the patient's own (钱可以共济，卡不能共用)."""
    if cert_type == "01":
        if await vouchers.holder_of(session, cert_no, now) != person.id:
            raise NotInsured("医保电子凭证不属于该参保人")
    elif cert_type == "02":
        digest = cipher.lookup_hash(
            cert_no.strip().upper(), purpose=enrolment_repository.ID_PURPOSE
        )
        if digest != person.id_number_hash:
            raise NotInsured("身份证号与参保人不符")
    elif cert_type == "03":
        if not person.card_no or person.card_no != cert_no.strip():
            raise NotInsured("社会保障卡号与参保人不符")
    else:
        raise InvalidInput(
            f"mdtrt_cert_type 应为 01、02 或 03（{CERT_TYPE_NAMES}），收到 {cert_type!r}"
        )


async def insured_with_cover(
    session: AsyncSession, psn_no: str
) -> tuple[InsuredPerson, list[Cover]]:
    found = await enrolment_repository.insured_with_cover(session, psn_no.strip())
    if found is None:
        raise UnknownPerson(f"未找到人员编号 psn_no={psn_no} 的参保人")
    return found


async def insured(session: AsyncSession, person: Person, insutype: str | None) -> Enrolment:
    return chosen_enrolment(
        person, await enrolment_repository.enrolments_of(session, person.id), insutype
    )


def chosen_enrolment(
    person: Person | InsuredPerson, enrolments: Sequence[E], insutype: str | None
) -> E:
    basic = [e for e in enrolments if e.insutype in {"310", "390"}]
    chosen = [e for e in basic if insutype in (None, "", e.insutype)]
    if not chosen:
        raise NotInsured(f"参保人 {person.psn_no} 未参加险种 {insutype}")
    enrolment = chosen[0]
    if enrolment.status != EnrolmentStatus.NORMAL:
        raise NotInsured(f"参保人 {person.psn_no} 参保状态异常（{enrolment.status}），不能医保结算")
    return enrolment


async def find_insured(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    *,
    cert_type: str,
    cert_no: str,
) -> tuple[Person, list[Enrolment], ledger_repository.PersonalAccount | None]:
    """1101: who is at the counter, from their code, ID number or card."""
    cert_no = cert_no.strip()
    if not cert_no:
        raise InvalidInput("mdtrt_cert_no 不能为空")
    person: Person | None
    if cert_type == "01":
        person = await enrolment_repository.person(
            session, await vouchers.holder_of(session, cert_no, clock.now())
        )
    elif cert_type == "02":
        person = await enrolment_repository.person_by_id_number(session, cipher, cert_no.upper())
    elif cert_type == "03":
        person = await enrolment_repository.person_by_card_no(session, cert_no)
    else:
        raise InvalidInput(f"mdtrt_cert_type 应为 01、02 或 03，收到 {cert_type!r}")
    if person is None:
        raise UnknownPerson("未找到该凭证对应的参保人")
    enrolments = await enrolment_repository.enrolments_of(session, person.id)
    account = await ledger_repository.account_for_person(session, person.id)
    return person, enrolments, account


async def register_visit_in(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    institution: Caller,
    *,
    psn_no: str,
    insutype: str | None,
    med_type: str,
    cert_type: str,
    cert_no: str,
    msgid: str,
) -> Visit:
    """2201: open an outpatient visit (挂号) and give it its mdtrt_id."""
    if med_type not in MED_TYPE_NAMES or med_type == "41":
        raise InvalidInput(f"med_type 应为 11、13、14 或 21，收到 {med_type!r}")
    person = await person_by_psn_no(session, psn_no)
    await check_certificate(session, cipher, person, cert_type, cert_no, clock.now())
    enrolment = await insured(session, person, insutype)
    now = clock.now()
    visit = Visit(
        mdtrt_id=new_id("M", now),
        person_id=person.id,
        fixmedins_code=institution.fixmedins_code,
        med_type=med_type,
        insutype=enrolment.insutype,
        status="open",
        begin_at=now,
        msgid=msgid,
    )
    session.add(visit)
    await session.flush()
    return visit


async def open_visit(
    session: AsyncSession, institution: Caller, mdtrt_id: str, person: Person
) -> Visit:
    visit = await repository.visit_by_mdtrt_id(session, mdtrt_id.strip(), lock=True)
    return checked_visit(visit, institution, mdtrt_id, person)


async def insured_with_open_visit(
    session: AsyncSession, psn_no: str, mdtrt_id: str
) -> tuple[InsuredPerson, list[Cover], VisitState | None, list[FeeLine]]:
    """`insured_with_cover` and the visit (locked, unchecked: `checked_visit`) with its fee
    lines, in one round trip (the settling hot path)."""
    insured, visit, fees = await repository.insured_with_open_visit(
        session, psn_no.strip(), mdtrt_id.strip()
    )
    if insured is None:
        raise UnknownPerson(f"未找到人员编号 psn_no={psn_no} 的参保人")
    return insured[0], insured[1], visit, fees


def checked_visit(
    visit: V | None, institution: Caller, mdtrt_id: str, person: Person | InsuredPerson
) -> V:
    if (
        visit is None
        or visit.fixmedins_code != institution.fixmedins_code
        or visit.person_id != person.id
    ):
        raise UnknownVisit(f"本机构没有该参保人的就诊 mdtrt_id={mdtrt_id}")
    if visit.status != "open":
        raise UnknownVisit(f"就诊 {mdtrt_id} 已结算或已撤销，不能再上传或结算")
    return visit


async def split_lines(
    session: AsyncSession, lines: list[FeeLine], region_selfpay_bp: int, clock: Clock
) -> list[tuple[FeeLine, LineSplit, str]]:
    for line in lines:
        check_fee_line(line)
    rules = await repository.catalogue_rules(
        session, (line.med_list_codg for line in lines), china_today(clock)
    )
    result = []
    for line in lines:
        rule = rules.get(line.med_list_codg)
        name = rule.name if rule else "目录外项目"
        result.append((line, split_line(line, rule, region_selfpay_bp), name))
    return result


async def upload_fees_in(
    session: AsyncSession,
    clock: Clock,
    institution: Caller,
    *,
    psn_no: str,
    mdtrt_id: str,
    lines: list[FeeLine],
    times: list[str | None],
    msgid: str,
    batches: list[str | None] | None = None,
) -> list[tuple[FeeLine, LineSplit, str]]:
    """2204: add fee lines to an open visit; answers how the catalogue classes each one.
    `batches`: each line's charge batch (chrg_bchno), which a 2205 withdraws."""
    if not lines:
        raise InvalidBill("feedetail 不能为空")
    person = await person_by_psn_no(session, psn_no)
    visit = await open_visit(session, institution, mdtrt_id, person)
    known = {fee.feedetl_sn for fee in await repository.fees_of(session, visit.id)}
    sns = [line.feedetl_sn for line in lines]
    repeated = sorted({sn for sn in sns if sns.count(sn) > 1 or sn in known})
    if repeated:
        raise InvalidBill(f"费用明细流水号重复：{', '.join(repeated)}")
    region = await enrolment_repository.region_rules(
        session, (await insured(session, person, visit.insutype)).admdvs
    )
    splits = await split_lines(session, lines, region.class_b_selfpay_bp, clock)
    for line, fee_time, batch in zip(lines, times, batches or [None] * len(lines), strict=True):
        session.add(
            FeeDetail(
                visit_id=visit.id,
                feedetl_sn=line.feedetl_sn,
                med_list_codg=line.med_list_codg,
                pric_fen=line.pric_fen,
                cnt=str(line.cnt),
                det_item_fee_sumamt_fen=line.det_item_fee_sumamt_fen,
                fee_ocur_time=fee_time,
                msgid=msgid,
                chrg_bchno=batch,
            )
        )
    await session.flush()
    return splits


async def withdraw_upload(
    session: AsyncSession, institution: Caller, *, psn_no: str, msgid: str
) -> bool:
    """Withdraw the lines the 2204 `msgid` uploaded; whether any were left to withdraw.

    A settled visit's lines are part of its settlement: refused until that is cancelled (2208, or
    2601 of the 2207), never half undone. The visit is locked before its status is read, so a
    2207 running alongside either settled first (refused here) or finds the lines gone.
    """
    person = await person_by_psn_no(session, psn_no)
    mdtrt_id = await repository.visit_of_upload(
        session, person.id, institution.fixmedins_code, msgid
    )
    if mdtrt_id is None:
        return False
    visit = await repository.visit_by_mdtrt_id(session, mdtrt_id, lock=True)
    if visit is None or visit.status == "cancelled":  # the registration's reversal voided it all
        return False
    if visit.status == "settled":
        raise VisitSettled(
            f"就诊 {mdtrt_id} 已结算，不能冲正其费用明细上传；"
            "请先撤销结算（2208）或冲正结算（2601），再冲正本次上传"
        )
    return await repository.withdraw_fees(session, visit.id, msgid) > 0


async def withdraw_registration(
    session: AsyncSession, institution: Caller, *, psn_no: str, msgid: str
) -> bool:
    """Withdraw the visit the registration `msgid` opened; whether it was still there to withdraw.

    Another person's psn_no is refused, as for a settlement (`reverse_settlement`): answering
    "nothing" would let the hospital take a visit that is still open for a withdrawn one. A visit
    already withdrawn (an earlier reversal under another msgid) is False, and nothing is written.
    """
    person = await person_by_psn_no(session, psn_no)
    visit = await repository.visit_by_msgid(session, msgid, institution.fixmedins_code)
    if visit is None:
        return False
    if visit.person_id != person.id:
        raise InvalidInput(f"psn_no {psn_no} 与挂号 {msgid} 的参保人不符")
    if visit.status == "cancelled":
        return False
    if visit.status == "settled":
        raise VisitSettled(f"就诊 {visit.mdtrt_id} 已结算，请先撤销结算（2208）再冲正挂号")
    visit.status = "cancelled"
    await session.flush()
    return True
