"""The home region's answers that carry no bill: person, policy and treatment (参保地, A).

person: who presents this certificate (1101 at B), with the covers and the account balance;
policy: 参保地政策 for B to price a bill with; treatment: 2001 at B, what the person may receive
there today, by the same rules as an institution here (`settlement.entitlements`) and, first, the
备案 this region requires for treatment in B. Also the checks every home handler shares: the
treatment region named in a message must be one the sender serves, and the certificate B saw must
belong to the person it names. Nothing here writes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.crossregion import repository
from yibao.crossregion.domain import BadPeerMessage, UnfiledRule
from yibao.crossregion.service.inbound import Sender, text_field
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import InsuredPerson, UnknownPerson
from yibao.filings import repository as filings_repository
from yibao.kernel.clock import china_today
from yibao.kernel.errors import InvalidInput
from yibao.ledger import repository as ledger_repository
from yibao.runtime import Runtime
from yibao.settlement import repository as settlement_repository
from yibao.settlement.domain import NotInsured, YearToDate
from yibao.settlement.entitlements import entitlements


def _treatment_region(sender: Sender, payload: dict[str, Any]) -> str:
    admdvs = text_field(payload, "treatment_admdvs", 6)
    if admdvs not in sender.regions:
        raise BadPeerMessage(f"就医地 {admdvs} 不由发送方 {sender.deployment} 服务")
    return admdvs


async def _person_by_certificate(
    runtime: Runtime, session: AsyncSession, cert_type: str, cert_no: str
) -> InsuredPerson:
    cert_no = cert_no.strip()
    if cert_type == "02":
        person = await enrolment_repository.person_by_id_number(
            session, runtime.cipher, cert_no.upper()
        )
    elif cert_type == "03":
        person = await enrolment_repository.person_by_card_no(session, cert_no)
    else:
        # An ecToken (01) is spent where it was issued; across regions the national 电子凭证
        # platform would answer for it. Here: ID number or card.
        raise InvalidInput("异地就医请使用身份证件（02）或社会保障卡（03）：mdtrt_cert_type")
    if person is None:
        raise UnknownPerson("参保地未找到该凭证对应的参保人")
    found = await enrolment_repository.insured_with_cover(session, person.psn_no)
    if found is None:
        raise UnknownPerson("参保地未找到该凭证对应的参保人")
    return found[0]


def _check_certificate(
    runtime: Runtime, person: InsuredPerson, cert_type: str, cert_no: str
) -> None:
    """钱可以共济，卡不能共用: the certificate B saw must be this person's."""
    if cert_type == "02":
        digest = runtime.cipher.lookup_hash(
            cert_no.strip().upper(), purpose=enrolment_repository.ID_PURPOSE
        )
        if digest != person.id_number_hash:
            raise NotInsured("身份证号与参保人不符")
    elif cert_type == "03":
        if not person.card_no or person.card_no != cert_no.strip():
            raise NotInsured("社会保障卡号与参保人不符")
    else:
        raise InvalidInput("异地就医请使用身份证件（02）或社会保障卡（03）：mdtrt_cert_type")


async def person(runtime: Runtime, sender: Sender, payload: dict[str, Any]) -> dict[str, Any]:
    _treatment_region(sender, payload)
    cert_type = text_field(payload, "mdtrt_cert_type", 2)
    async with runtime.sessions() as session:
        found = await _person_by_certificate(
            runtime, session, cert_type, text_field(payload, "mdtrt_cert_no", 200)
        )
        _, covers = await enrolment_repository.insured_with_cover(session, found.psn_no) or (
            found,
            [],
        )
        account = await ledger_repository.account_state_of_person(session, found.id)
        name = payload.get("psn_name")
        if isinstance(name, str) and name and name != found.name:
            raise UnknownPerson("psn_name 与凭证对应的参保人姓名不符")
        return {
            "psn_no": found.psn_no,
            "psn_name": found.name,
            "gend": found.gender,
            "brdy": found.birth_date.isoformat(),
            "certno_masked": found.id_number_masked,
            "insuinfo": [
                {
                    "insutype": c.insutype,
                    "psn_type": c.psn_type,
                    "psn_insu_stas": c.status,
                    "insuplc_admdvs": c.admdvs,
                    "balc_fen": account.balance_fen
                    if account is not None and c.insutype == "310"
                    else 0,
                    "acct_stas": account.status if account is not None else "",
                }
                for c in covers
            ],
        }


async def policy(runtime: Runtime, sender: Sender, payload: dict[str, Any]) -> dict[str, Any]:
    _treatment_region(sender, payload)
    admdvs = text_field(payload, "home_admdvs", 6)
    async with runtime.sessions() as session:
        peer = await repository.peer_of(session, admdvs)
        if peer is None or not peer.local:
            raise BadPeerMessage(f"本平台不服务参保地 {admdvs}")
        found = await repository.home_policy(session, admdvs)
    return {
        "policy": {
            "admdvs": found.admdvs,
            "deductible_fen": found.deductible_fen,
            "fund_ratio_bp": found.fund_ratio_bp,
            "retiree_fund_ratio_bp": found.retiree_fund_ratio_bp,
            "yearly_cap_fen": found.yearly_cap_fen,
            "class_b_selfpay_bp": found.class_b_selfpay_bp,
            "unfiled_rule": found.unfiled_rule.value,
            "unfiled_ratio_cut_bp": found.unfiled_ratio_cut_bp,
        }
    }


async def treatment(runtime: Runtime, sender: Sender, payload: dict[str, Any]) -> dict[str, Any]:
    """2001 at B: each fund with the reasons it would not pay (none: it pays)."""
    treatment_admdvs = _treatment_region(sender, payload)
    psn_no = text_field(payload, "psn_no", 30)
    insutype = text_field(payload, "insutype", 3)
    kind = text_field(payload, "fixmedins_kind", 1)
    if kind not in {"H", "P"}:
        raise BadPeerMessage("报文字段 fixmedins_kind 应为 H 或 P")
    today = china_today(runtime.clock)
    async with runtime.sessions() as session:
        found = await enrolment_repository.insured_with_cover(session, psn_no)
        if found is None:
            raise UnknownPerson(f"参保地未找到人员编号 psn_no={psn_no} 的参保人")
        insured, covers = found
        cover = next((c for c in covers if c.insutype == insutype), None)
        general: list[str] = []
        cap, so_far, filed = 0, YearToDate(), False
        if cover is not None:
            rules = await repository.home_policy(session, cover.admdvs)
            cap = rules.yearly_cap_fen
            so_far = (
                await settlement_repository.year_to_date(session, insured.id, today.year)
                or YearToDate()
            )
            filed = (
                await filings_repository.covering_filing(
                    session, insured.id, treatment_admdvs, today
                )
                is not None
            )
            if not filed and rules.unfiled_rule == UnfiledRule.REFUSE:
                general.append(
                    f"未办理到就医地 {treatment_admdvs} 的异地就医备案，参保地不予直接结算"
                )
        account = (
            await ledger_repository.account_state_of_person(session, insured.id)
            if insutype == "310"
            else None
        )
    funds = entitlements(
        insutype=insutype,
        cover=cover,
        institution_kind=kind,
        med_type=text_field(payload, "med_type", 4),
        yearly_cap_fen=cap,
        so_far=so_far,
        account=account,
        today=today,
        general=tuple(general),
    )
    return {
        "psn_no": insured.psn_no,
        "filed": filed,
        "trtinfo": [
            {
                "fund_pay_type": e.fund_pay_type,
                "fund_pay_type_name": e.fund_name,
                "trt_chk_type": e.check,
                "begndate": e.begndate.isoformat(),
                "reasons": list(e.reasons),
            }
            for e in funds
        ],
    }
