"""The home page of the mobile app (the six modules of the seed), 服务 (every service) and 我的 (me),
with the search box that jumps to a service by its name or a word a person might say."""

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

# 服务 lists the home's modules and the rest; the seed says people look there when the home has
# no obvious entry, so each one is also found by the search box.
MORE = [
    Module("lookups", N_("查询记录"), "/me/lookups", "查",
           ("查询记录", "谁查", "谁看", "谁查看", "查看记录", "lookup", "who looked")),
    Module("messages", N_("消息"), "/messages", "信",
           ("消息", "通知", "提醒", "message", "notice")),
    Module("family-payments", N_("共济消费明细"), "/family/payments", "共",
           ("共济消费", "共济明细", "共济消费明细", "亲属消费")),
    Module("filings", N_("异地就医备案"), "/filings", "异",
           ("异地", "备案", "异地就医", "异地备案", "转诊", "外地看病", "filing")),
    Module("disputes", N_("这笔不是我"), "/disputes", "疑",
           ("不是我", "异议", "盗刷", "冻结", "dispute")),
    Module("security", N_("账户与安全"), "/security", "安",
           ("安全", "密码", "设备", "security", "password")),
    Module("passkeys", N_("通行密钥"), "/passkeys", "钥",
           ("通行密钥", "指纹", "面容", "人脸", "passkey", "fingerprint")),
]  # fmt: skip
SERVICES = [*MODULES, *MORE]


def module_for(query: str) -> Module | None:
    """The service whose longest matching word (its own name among them) appears in the query."""
    text = query.strip().lower()
    if not text:
        return None
    best: tuple[int, Module] | None = None
    for module in SERVICES:
        for word in (module.title, *module.words):
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


def _signed_in(request: Request) -> bool:
    return isinstance(getattr(request.state, "principal", None), PersonPrincipal)


async def _page(request: Request, runtime: RuntimeDep, template: str, query: str) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request,
        template,
        {
            "modules": MODULES,
            "services": SERVICES,
            "query": query,
            "not_found": bool(query.strip()),
            "unread": await _unread(request, runtime),
            "signed_in": _signed_in(request),
        },
    )
    return response


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    return await _page(request, runtime, "home.html", "")


@router.get("/services", response_class=HTMLResponse)
async def services(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    return await _page(request, runtime, "services.html", "")


@router.get("/me", response_class=HTMLResponse)
async def me(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    """我的: open to visitors too (sign in, sign up, the display switches)."""
    return await _page(request, runtime, "me.html", "")


@router.get("/search")
async def search(
    request: Request, runtime: RuntimeDep, q: str = "", where: str = "home"
) -> Response:
    found = module_for(q[:100])
    if found is not None:
        return RedirectResponse(found.href, status_code=303)
    template = "services.html" if where == "services" else "home.html"
    return await _page(request, runtime, template, q[:100])
