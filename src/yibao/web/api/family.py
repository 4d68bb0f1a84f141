"""The JSON API of 家庭共济: /api/v1/family/… for the signed-in person (bearer token).

Amounts go out as yuan strings with two decimals and come in the same way.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.family import service as family
from yibao.family.domain import RELATION_NAMES, InvalidQuota, Relation
from yibao.family.repository import AidPayment
from yibao.kernel.clock import CHINA_TZ, to_china
from yibao.kernel.errors import InvalidInput
from yibao.kernel.money import InvalidAmount, format_yuan, parse_yuan
from yibao.runtime import Runtime
from yibao.web.auth import PersonDep, SteppedUpPersonDep
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.ids import RowId, RowIdQuery

router = APIRouter(prefix="/api/v1/family", tags=["family 家庭共济"])


async def read_upload(runtime: Runtime, file: UploadFile) -> bytes:
    """At most one byte past the limit, so an oversized file is refused without reading it all."""
    return await file.read(runtime.settings.upload_max_bytes + 1)


class RelativeIn(BaseModel):
    name: Annotated[str, Field(max_length=50)]
    id_number: Annotated[str, Field(max_length=18)]
    relation: Annotated[
        str,
        Field(
            max_length=12, description="spouse|parent|child|sibling|grandparent|grandchild|other"
        ),
    ]


class RelativesIn(BaseModel):
    relatives: Annotated[list[RelativeIn], Field(min_length=1, max_length=10)]


class QuotaIn(BaseModel):
    quota: Annotated[str | None, Field(description="年度共济额度（元，两位小数）；null 表示不限额")]


class ConsentIn(BaseModel):
    agree: bool


def parse_quota(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    try:
        return parse_yuan(text.strip(), field="quota")
    except InvalidAmount as exc:
        raise InvalidQuota("共济额度应为金额（元），最多两位小数，例如 500.00") from exc


def relatives_of(body: RelativesIn) -> list[family.Relative]:
    return [family.Relative(r.name, r.id_number, r.relation) for r in body.relatives]


def line_out(line: family.Line) -> dict[str, Any]:
    return {
        "authorisation_id": line.authorisation_id,
        "application_id": line.application_id,
        "name": line.other_name,
        "relation": line.relation,
        "relation_name": line.relation_name,
        "status": line.status,
        "status_name": line.status_name,
        "status_reason": line.status_reason,
        "quota": None if line.quota_fen is None else format_yuan(line.quota_fen),
        "used_this_year": format_yuan(line.used_fen),
        "remaining": None if line.remaining_fen is None else format_yuan(line.remaining_fen),
        "activated_at": line.activated_at.isoformat() if line.activated_at else None,
        "history": [
            {
                "action": e.action,
                "status": e.status,
                "at": e.at.isoformat(),
                "by": e.actor,
                "reason": e.reason,
            }
            for e in line.events
        ],
    }


def payment_out(p: AidPayment, *, for_payer: bool) -> dict[str, Any]:
    return {
        "time": to_china(p.at).isoformat(),
        "institution": p.institution,
        "institution_code": p.institution_code,
        "amount": format_yuan(p.amount_fen),
        "kind": p.kind,
        ("for_whom" if for_payer else "paid_by"): p.beneficiary_name if for_payer else p.payer_name,
    }


# The days a filter can mean: 0001-01-01 or 9999-12-31 overflow once turned into a Beijing
# midnight (UTC is 8 hours earlier; `until` is read as the next day's midnight).
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def day_range(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """Filter days are Beijing calendar days; `until` is inclusive."""
    for day in (since, until):
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            raise InvalidInput(f"日期应在 {EARLIEST_DAY} 至 {LATEST_DAY} 之间")
    start = datetime.combine(since, time(), CHINA_TZ) if since else None
    end = datetime.combine(until + timedelta(days=1), time(), CHINA_TZ) if until else None
    if start and end and start >= end:
        raise InvalidInput("开始日期不能晚于结束日期")
    return start, end


def payments_csv(rows: list[AidPayment]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["时间", "定点机构", "机构编码", "金额（元）", "共济对象", "类型"])
    for p in rows:
        writer.writerow(
            [
                f"{to_china(p.at):%Y-%m-%d %H:%M:%S}",
                p.institution,
                p.institution_code or "",
                format_yuan(p.amount_fen),
                p.beneficiary_name,
                {"mutual_aid_debit": "共济支付", "relative_contribution_debit": "代缴居民医保"}.get(
                    p.kind, "冲正退回"
                ),
            ]
        )
    return "\ufeff" + out.getvalue()


@router.get("/relations")
async def relations() -> list[dict[str, str]]:
    return [{"relation": r.value, "name": RELATION_NAMES[r]} for r in Relation]


@router.post("/eligibility")
async def eligibility(
    body: RelativesIn, person: SteppedUpPersonDep, runtime: RuntimeDep, session: SessionDep
) -> dict[str, Any]:
    """资格查询 (after a step-up; a few relatives a day): whether each relative can be added. The
    applicant's own conditions and the relation come with what to do; of the relative's record
    only "cannot be added" (`relative_not_eligible`). Each relative found sees it on 查询记录."""
    result = await family.check_online(
        session,
        runtime.cipher,
        runtime.clock,
        runtime.ephemeral,
        person.person_id,
        relatives_of(body),
    )
    return {"eligible": result.eligible, "refusals": [r.as_dict() for r in result.refusals]}


@router.post("/applications", status_code=201)
async def apply(
    body: RelativesIn, person: SteppedUpPersonDep, runtime: RuntimeDep, session: SessionDep
) -> dict[str, Any]:
    """Answers what 资格查询 answers, and counts and records it the same way."""
    started = await family.start_application(
        session,
        runtime.cipher,
        runtime.clock,
        person.person_id,
        relatives_of(body),
        store=runtime.ephemeral,
    )
    return {
        "application_id": started.application.id,
        "authorisations": [
            {"authorisation_id": a.id, "relation": a.relation, "status": a.status}
            for a in started.authorisations
        ],
    }


@router.post("/authorisations/{authorisation_id}/documents", status_code=201)
async def upload(
    authorisation_id: RowId,
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
    kind: Annotated[str, Form(description="id_photo | relation_proof")],
    file: Annotated[UploadFile, File()],
) -> dict[str, Any]:
    data = await read_upload(runtime, file)
    document = await family.attach_document(
        session,
        runtime.clock,
        family.document_store(runtime.settings.var_dir),
        authorisation_id,
        kind,
        data,
        person_id=person.person_id,
        max_bytes=runtime.settings.upload_max_bytes,
    )
    return {"document_id": document.id, "kind": document.kind, "size": document.size_bytes}


@router.post("/applications/{application_id}/submit")
async def submit(
    application_id: RowId, person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> dict[str, Any]:
    rows = await family.submit_application(
        session, runtime.clock, application_id, person_id=person.person_id
    )
    return {
        "authorisations": [
            {"authorisation_id": r.id, "status": r.status, "consent_required": r.consent_required}
            for r in rows
        ]
    }


@router.get("")
async def overview(person: PersonDep, runtime: RuntimeDep, session: SessionDep) -> dict[str, Any]:
    given = await family.family_page(session, runtime.clock, person.person_id)
    received = await family.supporters(session, runtime.clock, person.person_id)
    return {
        "beneficiaries": [line_out(x) for x in given],
        "supporters": [line_out(x) for x in received],
    }


@router.put("/authorisations/{authorisation_id}/quota")
async def set_quota(
    authorisation_id: RowId,
    body: QuotaIn,
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> dict[str, Any]:
    quota = parse_quota(body.quota)
    row = await family.change_quota(
        session, runtime.clock, person.person_id, authorisation_id, quota
    )
    return {"authorisation_id": row.id, "quota": None if quota is None else format_yuan(quota)}


async def _act(
    action: str, authorisation_id: int, person_id: int, runtime: Runtime, session: AsyncSession
) -> dict[str, Any]:
    use_case = {"pause": family.pause, "resume": family.resume, "revoke": family.revoke}[action]
    row = await use_case(session, runtime.clock, person_id, authorisation_id)
    return {"authorisation_id": row.id, "status": row.status}


@router.post("/authorisations/{authorisation_id}/pause")
async def pause(
    authorisation_id: RowId, person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> dict[str, Any]:
    return await _act("pause", authorisation_id, person.person_id, runtime, session)


@router.post("/authorisations/{authorisation_id}/resume")
async def resume(
    authorisation_id: RowId, person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> dict[str, Any]:
    return await _act("resume", authorisation_id, person.person_id, runtime, session)


@router.post("/authorisations/{authorisation_id}/revoke")
async def revoke(
    authorisation_id: RowId, person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> dict[str, Any]:
    return await _act("revoke", authorisation_id, person.person_id, runtime, session)


@router.post("/authorisations/{authorisation_id}/consent")
async def consent(
    authorisation_id: RowId,
    body: ConsentIn,
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> dict[str, Any]:
    row = await family.consent(
        session, runtime.clock, person.person_id, authorisation_id, body.agree
    )
    return {"authorisation_id": row.id, "status": row.status}


@router.post("/authorisations/{authorisation_id}/contribution", status_code=201)
async def pay_contribution(
    authorisation_id: RowId, person: SteppedUpPersonDep, runtime: RuntimeDep, session: SessionDep
) -> dict[str, Any]:
    receipt = await family.pay_relative_contribution(
        session, runtime.clock, person.person_id, authorisation_id
    )
    return {
        "receipt_no": receipt.receipt_no,
        "year": receipt.year,
        "for_whom": receipt.beneficiary_name,
        "id_number": receipt.beneficiary_id_masked,
        "region": receipt.region_name,
        "amount": format_yuan(receipt.amount_fen),
        "paid_at": to_china(receipt.paid_at).isoformat(),
        "balance": format_yuan(receipt.balance_after_fen),
    }


@router.get("/payments", response_model=None)
async def payments(
    person: SteppedUpPersonDep,
    session: SessionDep,
    since: date | None = None,
    until: date | None = None,
    relative: RowIdQuery = None,
    format: str = "json",
) -> dict[str, Any] | Response:
    """共济消费明细: what the person's account paid for relatives (no items, no diagnosis)."""
    start, end = day_range(since, until)
    rows = await family.aid_paid_by(
        session, person.person_id, beneficiary_id=relative, since=start, until=end
    )
    if format == "csv":
        return Response(
            payments_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="mutual-aid-payments.csv"'},
        )
    return {
        "payments": [payment_out(p, for_payer=True) for p in rows],
        "total": format_yuan(sum(p.amount_fen for p in rows)),
    }


@router.get("/received")
async def received(
    person: SteppedUpPersonDep,
    session: SessionDep,
    since: date | None = None,
    until: date | None = None,
) -> dict[str, Any]:
    """What relatives' accounts paid for this person, and whose."""
    start, end = day_range(since, until)
    rows = await family.aid_received(session, person.person_id, since=start, until=end)
    return {"payments": [payment_out(p, for_payer=False) for p in rows]}
