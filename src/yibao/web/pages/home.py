"""The home page of the mobile app: the six modules of the seed, and a search box that jumps."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from yibao.notifications import service as notices
from yibao.web.auth import PersonPrincipal
from yibao.web.deps import RuntimeDep
from yibao.web.i18n import N_

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Module:
    key: str
    title: str
    href: str
    icon: str
    words: tuple[str, ...]  # what a person might type (or say) to get there


MODULES = [
    Module("query", N_("医保查询"), "/account", "¥",
           ("查询医保", "医保查询", "余额", "账户", "个人账户", "查询", "balance", "account")),
    Module("contributions", N_("缴费记录"), "/account/contributions", "缴",
           ("缴费", "欠费", "补缴", "划入", "缴费记录", "contribution")),
    Module("consumption", N_("消费记录"), "/account/consumption", "消",
           ("消费", "明细", "花费", "支出", "药店", "医院", "消费记录", "consumption", "spending")),
    Module("claims", N_("报销进度"), "/claims", "报",
           ("报销", "理赔", "报销进度", "审核", "claim", "reimburse")),
    Module("family", N_("家庭共济"), "/family", "家",
           ("共济", "家庭", "亲情", "家人", "家庭共济", "family")),
    Module("ecard", N_("医保电子凭证"), "/voucher", "码",
           ("电子凭证", "凭证", "二维码", "医保码", "扫码", "ecard", "qr")),
]  # fmt: skip


def module_for(query: str) -> Module | None:
    """The module whose longest matching word appears in the query."""
    text = query.strip().lower()
    if not text:
        return None
    best: tuple[int, Module] | None = None
    for module in MODULES:
        for word in module.words:
            if word in text and (best is None or len(word) > best[0]):
                best = (len(word), module)
    return best[1] if best else None


async def _unread(request: Request, runtime: RuntimeDep) -> int | None:
    """The 消息 badge: unread notices of the signed-in person; None for a visitor."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, PersonPrincipal):
        return None
    async with runtime.sessions() as session:
        return await notices.unread_count(session, principal.person_id)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request,
        "home.html",
        {
            "modules": MODULES,
            "query": "",
            "not_found": False,
            "unread": await _unread(request, runtime),
        },
    )
    return response


@router.get("/search")
async def search(request: Request, runtime: RuntimeDep, q: str = "") -> Response:
    found = module_for(q[:100])
    if found is not None:
        return RedirectResponse(found.href, status_code=303)
    response: Response = request.app.state.templates.TemplateResponse(
        request,
        "home.html",
        {
            "modules": MODULES,
            "query": q[:100],
            "not_found": bool(q.strip()),
            "unread": await _unread(request, runtime),
        },
    )
    return response
