"""明细审核规则 at the workbench: a staff member proposes a rule or a new version of one (limits,
拦截 or 提醒, the date it takes effect), another approves or returns it (maker-checker, each step
in the audit trail). A version in force is never edited: a change is the next version."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.auditrules import service
from yibao.auditrules.domain import (
    KIND_NAMES,
    KIND_PARAMS,
    PARAM_NAMES,
    SEVERITY_NAMES,
    InvalidRule,
)
from yibao.kernel.clock import china_today
from yibao.kernel.errors import DomainError
from yibao.runtime import Runtime
from yibao.web.auth import StaffDep, StaffPrincipal
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.errors import status_for
from yibao.web.i18n import N_
from yibao.web.ids import RowId, RowIdQuery
from yibao.web.sessions import verify_csrf
from yibao.web.staff.page import Text, actor, page, see_other

router = APIRouter(prefix="/staff", include_in_schema=False, dependencies=[Depends(verify_csrf)])

STATUS_NAMES = {"proposed": N_("待复核"), "approved": N_("已生效"), "rejected": N_("已退回")}


async def _page(
    request: Request,
    staff: StaffPrincipal,
    session: AsyncSession,
    runtime: Runtime,
    *,
    status: int = 200,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> HTMLResponse:
    versions = await service.list_versions(session)
    return page(
        request,
        "staff_auditrules.html",
        staff,
        status=status,
        versions=versions,
        params_of=lambda v: json.loads(v.params_json),
        kind_names=KIND_NAMES,
        kind_params=KIND_PARAMS,
        param_names=PARAM_NAMES,
        severity_names=SEVERITY_NAMES,
        rule_status_names=STATUS_NAMES,
        today=china_today(runtime.clock).isoformat(),
        error=error,
        form=form or {},
    )


@router.get("/auditrules", response_class=HTMLResponse)
async def rules_page(
    request: Request,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    edit: RowIdQuery = None,
) -> HTMLResponse:
    form: dict[str, Any] = {}
    if edit is not None:
        for v in await service.list_versions(session):
            if v.id == edit:
                form = {
                    "rule_code": v.rule_code,
                    "kind": v.kind,
                    "med_list_codg": v.med_list_codg,
                    "severity": v.severity,
                    "name": v.name,
                    **json.loads(v.params_json),
                }
    return await _page(request, staff, session, runtime, form=form)


@router.post("/auditrules", response_class=HTMLResponse)
async def propose(
    request: Request,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    rule_code: Text = "",
    kind: Text = "",
    med_list_codg: Text = "",
    severity: Text = "",
    name: Text = "",
    effective_from: Text = "",
    enabled: Text = "",
    reason: Text = "",
    max_cnt: Text = "",
    days_per_unit: Text = "",
    max_days: Text = "",
    gend: Text = "",
    min_age: Text = "",
    max_age: Text = "",
    insutypes: Text = "",
    hosp_lvs: Text = "",
    dise_codes: Text = "",
) -> Response:
    params = {
        "max_cnt": max_cnt,
        "days_per_unit": days_per_unit,
        "max_days": max_days,
        "gend": gend,
        "min_age": min_age,
        "max_age": max_age,
        "insutypes": insutypes,
        "hosp_lvs": hosp_lvs,
        "dise_codes": dise_codes,
    }
    form: dict[str, Any] = {
        "rule_code": rule_code,
        "kind": kind,
        "med_list_codg": med_list_codg,
        "severity": severity,
        "name": name,
        "reason": reason,
        "effective_from": effective_from,
        **params,
    }
    try:
        try:
            day = date.fromisoformat(effective_from.strip())
        except ValueError as exc:
            raise InvalidRule("生效日期应为 yyyy-MM-dd") from exc
        await service.propose_rule(
            session,
            runtime.clock,
            actor(staff),
            service.Proposal(
                rule_code=rule_code.strip(),
                kind=kind,
                med_list_codg=med_list_codg.strip(),
                severity=severity,
                name=name,
                params={k: v for k, v in params.items() if k in KIND_PARAMS.get(kind, ())},
                effective_from=day,
                reason=reason,
                enabled=enabled != "0",
            ),
        )
    except DomainError as exc:
        await session.rollback()
        return await _page(
            request,
            staff,
            session,
            runtime,
            status=status_for(exc),
            error=exc.message,
            form=form,
        )
    return see_other("/staff/auditrules")


async def _decide(
    request: Request,
    version_id: int,
    staff: StaffPrincipal,
    runtime: Runtime,
    session: AsyncSession,
    *,
    approve: bool,
) -> Response:
    try:
        await service.decide_rule(session, runtime.clock, actor(staff), version_id, approve=approve)
    except DomainError as exc:
        await session.rollback()
        return await _page(
            request, staff, session, runtime, status=status_for(exc), error=exc.message
        )
    return see_other("/staff/auditrules")


@router.post("/auditrules/{version_id}/approve", response_class=HTMLResponse)
async def approve(
    request: Request, version_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    return await _decide(request, version_id, staff, runtime, session, approve=True)


@router.post("/auditrules/{version_id}/reject", response_class=HTMLResponse)
async def reject(
    request: Request, version_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    return await _decide(request, version_id, staff, runtime, session, approve=False)
