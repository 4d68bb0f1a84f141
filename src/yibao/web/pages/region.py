"""地方专区 / 选择参保地: a person insured in a region another deployment serves is sent to that
deployment's pages (the region directory, docs/cross-region.md); their account lives there."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from yibao.crossregion import service as crossregion
from yibao.crossregion.domain import UnknownRegion
from yibao.web.deps import SessionDep
from yibao.web.pages.page import render, render_error, see_other

router = APIRouter(include_in_schema=False)

Admdvs = Annotated[str, Path(pattern=r"^[0-9]{6}$")]


@router.get("/region", response_class=HTMLResponse)
async def regions(request: Request, session: SessionDep) -> HTMLResponse:
    peers = await crossregion.directory(session)
    return render(request, "region.html", regions=peers)


@router.get("/region/{admdvs}", response_class=HTMLResponse)
async def go_to_region(request: Request, session: SessionDep, admdvs: Admdvs) -> Response:
    target = await crossregion.pages_of(session, admdvs)
    if target is None:
        peers = await crossregion.directory(session)
        error = UnknownRegion("没有找到该参保地，请从列表中选择")
        return render_error(request, "region.html", error, regions=peers)
    return see_other(target)
