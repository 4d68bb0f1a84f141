"""/staff/reconciliations: each institution's 对账 (3201/3202) history — what it sent, what yibao
counted, the result — and one reconciliation's differing lines, which name many people's
settlements: opening those is on the audit trail (reconciliation.view)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from yibao.kernel.money import format_yuan
from yibao.settlement.service import reconciling
from yibao.web.auth import StaffDep
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.i18n import N_
from yibao.web.ids import RowId
from yibao.web.sessions import verify_csrf
from yibao.web.staff.page import actor, page

router = APIRouter(prefix="/staff", include_in_schema=False, dependencies=[Depends(verify_csrf)])

KIND_NAMES = {"totals": N_("对总账（3201）"), "details": N_("对明细账（3202）")}
DIFFERENCE_NAMES = {
    "yibao_only": N_("医保有、机构无"),
    "institution_only": N_("机构有、医保无"),
    "amounts_differ": N_("金额不符"),
}


@router.get("/reconciliations", response_class=HTMLResponse)
async def history_page(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    fixmedins_code: Annotated[str, Query(max_length=12)] = "",
) -> HTMLResponse:
    code = fixmedins_code.strip().upper()
    rows = await reconciling.reconciliation_history(session, code or None)
    return page(
        request,
        "staff_reconciliations.html",
        staff,
        rows=rows,
        fixmedins_code=code,
        kind_names=KIND_NAMES,
        yuan=format_yuan,
    )


@router.get("/reconciliations/{reconciliation_id}", response_class=HTMLResponse)
async def reconciliation_page(
    request: Request,
    reconciliation_id: RowId,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> HTMLResponse:
    view = await reconciling.reconciliation_for_staff(
        session, runtime.clock, actor(staff), reconciliation_id
    )
    return page(
        request,
        "staff_reconciliation.html",
        staff,
        view=view,
        kind_names=KIND_NAMES,
        difference_names=DIFFERENCE_NAMES,
        yuan=format_yuan,
    )
