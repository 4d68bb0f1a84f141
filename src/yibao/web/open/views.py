"""What the partner API answers: the same figures as /api/v1, with every personal name and number
masked, and no diagnosis, item list of a relative's visit, ID number or phone at all."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from yibao.claims.domain import MED_TYPES, REJECTION_REASONS, STATUS_NAMES
from yibao.claims.service import claim_reads
from yibao.claims.tables import Claim
from yibao.family import service as family
from yibao.family.repository import AidPayment
from yibao.kernel.idnumber import mask_name
from yibao.kernel.money import format_yuan
from yibao.partners.domain import masked_psn_no
from yibao.statements import service as statements
from yibao.web.api import account as owner
from yibao.web.api.claims.views import StepOut, step_out

Yuan = Annotated[str, Field(pattern=r"^-?\d+\.\d{2}$", examples=["123.45"])]


Out = TypeVar("Out", bound=BaseModel)


def _yuan(fen: int | None) -> str | None:
    return None if fen is None else format_yuan(fen)


def _masked(name: str | None) -> str | None:
    return None if name is None else mask_name(name)


class BalanceOut(BaseModel):
    psn_no: str = Field(description="个人编号, masked")
    name: str = Field(description="姓名, masked")
    has_account: bool
    balance: Yuan = Field(description="账户余额")
    account_status: str | None = Field(description="active | frozen")
    year: int
    year_credited: Yuan
    year_spent: Yuan
    as_of: datetime = Field(description="数据更新于")


class ContributionOut(BaseModel):
    model_config = ConfigDict(extra="ignore")  # base and both parts: the owner's only

    month: str = Field(description="费款所属期 YYYY-MM")
    status: str = Field(description="normal | arrears | backpaid | gap")
    credited: Yuan | None = Field(description="划入金额")
    arrived_on: date | None


class ContributionsOut(BaseModel):
    since: str
    until: str
    credited_total: Yuan
    owing_months: list[str]
    items: list[ContributionOut]


class ConsumptionOut(BaseModel):
    entry_id: int
    time: datetime
    kind: str = Field(description="settlement | mutual_aid | relative_contribution | refund")
    account_change: Yuan
    fixmedins_name: str
    fixmedins_code: str | None
    fixmedins_type: str | None = Field(description="H hospital | P pharmacy")
    setl_id: str | None
    beneficiary_name: str | None = Field(
        description="the relative a family payment was for, masked"
    )
    medfee_sumamt: Yuan | None
    fund_pay_sumamt: Yuan | None
    acct_pay: Yuan | None
    acct_mulaid_pay: Yuan | None
    psn_cash_pay: Yuan | None


class ConsumptionPageOut(BaseModel):
    since: date
    until: date
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")
    items: list[ConsumptionOut]


class ItemOut(BaseModel):
    model_config = ConfigDict(extra="ignore")  # the item codes: the owner's only

    med_list_name: str
    chrgitm_lv: str = Field(description="01 甲类 | 02 乙类 | 03 丙类")
    pric: Yuan
    cnt: str
    det_item_fee_sumamt: Yuan


class ConsumptionDetailOut(BaseModel):
    setl_id: str
    patient_name: str | None = Field(description="masked")
    fixmedins_name: str | None
    setl_time: datetime | None
    medfee_sumamt: Yuan | None
    fund_pay_sumamt: Yuan | None
    acct_pay: Yuan | None
    acct_mulaid_pay: Yuan | None
    psn_cash_pay: Yuan | None
    items: list[ItemOut] = Field(description="empty when the visit was a relative's")


class ClaimOut(BaseModel):
    id: int
    status: str
    status_name: str
    fixmedins_name: str
    med_type_name: str
    begin_date: date
    end_date: date
    medfee_sumamt: Yuan
    hifp_pay: Yuan | None
    psn_part_amt: Yuan | None
    reject_reason: str | None
    submitted_at: datetime


class ClaimsPageOut(BaseModel):
    next_cursor: str | None
    items: list[ClaimOut]


class ClaimProgressOut(ClaimOut):
    steps: list[StepOut]


class AuthorisationOut(BaseModel):
    authorisation_id: int
    name: str = Field(description="the relative, masked")
    relation_name: str
    status: str
    status_name: str
    quota: Yuan | None = Field(description="年度共济额度; null: no limit")
    used_this_year: Yuan
    remaining: Yuan | None


class FamilyOut(BaseModel):
    beneficiaries: list[AuthorisationOut] = Field(description="relatives my account pays for")
    supporters: list[AuthorisationOut] = Field(description="relatives whose accounts pay for me")


class AidPaymentOut(BaseModel):
    entry_id: int
    time: datetime
    institution: str
    amount: Yuan
    kind: str
    for_whom: str = Field(description="masked")


class AidPaymentsPageOut(BaseModel):
    next_cursor: str | None
    items: list[AidPaymentOut]


class VoucherOut(BaseModel):
    ec_token: str = Field(description="医保电子凭证 token: show it as a QR code, one payment")
    qr_svg: str = Field(description="the QR code as an SVG data URI")
    expires_at: datetime
    holder: str = Field(description="masked")


def _for_partner(model: type[Out], full: BaseModel, **masked: str | None) -> Out:
    """The owner's view (web/api/account.py) cut down to the partner model's own fields: the
    partner model is the allow-list (a field /api/v1 adds reaches no partner until it is added
    here), and `masked` replaces the names and numbers the partner sees masked. Nested lists
    are cut down the same way by their models (`extra="ignore"`)."""
    kept = full.model_dump(include=set(model.model_fields))
    return model.model_validate({**kept, **masked})


def balance_out(view: statements.Overview) -> BalanceOut:
    return _for_partner(
        BalanceOut,
        owner.account_out(view),
        psn_no=masked_psn_no(view.psn_no),
        name=mask_name(view.person_name),
    )


def contributions_out(history: statements.ContributionHistory) -> ContributionsOut:
    return _for_partner(ContributionsOut, owner.contributions_out(history))


def consumption_out(record: statements.ConsumptionRecord) -> ConsumptionOut:
    return _for_partner(
        ConsumptionOut,
        owner.consumption_out(record),
        beneficiary_name=_masked(record.beneficiary_name),
    )


def consumption_detail_out(detail: statements.ConsumptionDetail) -> ConsumptionDetailOut:
    return _for_partner(
        ConsumptionDetailOut,
        owner.consumption_detail_out(detail),
        patient_name=_masked(detail.patient_name),
    )


def claim_out(claim: Claim) -> ClaimOut:
    reject = REJECTION_REASONS.get(claim.reject_code) if claim.reject_code else None
    return ClaimOut(
        id=claim.id,
        status=claim.status,
        status_name=STATUS_NAMES[claim.status],
        fixmedins_name=claim.fixmedins_name,
        med_type_name=MED_TYPES.get(claim.med_type, claim.med_type),
        begin_date=claim.begin_date,
        end_date=claim.end_date,
        medfee_sumamt=format_yuan(claim.medfee_sumamt_fen),
        hifp_pay=_yuan(claim.hifp_pay_fen),
        psn_part_amt=_yuan(claim.psn_part_amt_fen),
        reject_reason=reject,
        submitted_at=claim.submitted_at,
    )


def progress_out(progress: claim_reads.ClaimProgress) -> ClaimProgressOut:
    return ClaimProgressOut(
        **claim_out(progress.claim).model_dump(), steps=[step_out(s) for s in progress.steps]
    )


def authorisation_out(line: family.Line) -> AuthorisationOut:
    return AuthorisationOut(
        authorisation_id=line.authorisation_id,
        name=mask_name(line.other_name),
        relation_name=line.relation_name,
        status=line.status,
        status_name=line.status_name,
        quota=_yuan(line.quota_fen),
        used_this_year=format_yuan(line.used_fen),
        remaining=_yuan(line.remaining_fen),
    )


def aid_payment_out(p: AidPayment) -> AidPaymentOut:
    return AidPaymentOut(
        entry_id=p.entry_id,
        time=p.at,
        institution=p.institution,
        amount=format_yuan(p.amount_fen),
        kind=p.kind,
        for_whom=mask_name(p.beneficiary_name),
    )
