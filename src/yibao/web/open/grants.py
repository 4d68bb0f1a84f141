"""已授权的应用 (/me/apps): every grant the person gave a partner app, its scopes, when it was
given and when the partner last read; revoking one ends the partner's access at once."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from yibao.partners.service import access
from yibao.web.auth import PersonDep
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.i18n import N_
from yibao.web.ids import RowId
from yibao.web.pages.page import render, see_other
from yibao.web.sessions import verify_csrf

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])

ENDED = {
    "person": N_("你已取消授权"),
    "replaced": N_("已被新的授权取代"),
    "idle": N_("超过180天未使用，已自动失效"),
}
N_("已失效")  # the template's word for any other ending


@router.get("/me/apps", response_class=HTMLResponse)
async def apps_page(
    request: Request,
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
    revoked: bool = False,
) -> HTMLResponse:
    grants = await access.grants_for_person(session, runtime.clock, person.person_id)
    return render(
        request,
        "open/apps.html",
        live=[g for g in grants if g.live],
        ended=[g for g in grants if not g.live][:20],
        ended_names=ENDED,
        notice=N_("已取消授权，该应用不能再读取你的信息") if revoked else None,
    )


@router.post("/me/apps/{grant_id}/revoke")
async def revoke(
    grant_id: RowId, person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    await access.revoke_grant(session, runtime.clock, person.person_id, grant_id)
    return see_other("/me/apps?revoked=1")
