"""How the kiosk's browser and bridge prove what they are, and the kiosk's rendering.

- The kiosk's key: the bridge sends it as `Authorization: Bearer`; the browser holds it in an
  HttpOnly cookie set once at `/kiosk/setup` (path /kiosk). Either way every call checks it, so a
  revoked kiosk is refused at its next request.
- The person's session: a random token in an HttpOnly session cookie (path /kiosk, no expiry
  date, SameSite=Strict), deleted when the session ends; the server keeps only its SHA-256.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from yibao.kernel.errors import DomainError
from yibao.kiosks.domain import COUNTDOWN_SECONDS, IDLE
from yibao.web.errors import status_for
from yibao.web.i18n import LANG_COOKIE, N_
from yibao.web.pages import labels
from yibao.web.sessions import bearer_token, is_https

# Sentences the kiosks feature and its bridge hand the screen, marked here for the catalogue
# (the templates translate them with `_()` when shown).
SCREEN_SENTENCES = (
    N_("您已退出，欢迎再次使用。"),
    N_("长时间没有操作，为保护您的信息已自动退出。"),
    N_("社保卡已取出，已自动退出。"),
    N_("读卡器连接中断，已自动退出。请联系工作人员。"),
    N_("本机已停用，请到其他自助查询机或窗口办理。"),
    N_("已有新的查询开始，上一次查询已退出。"),
    N_("系统已重新启动，为保护您的信息已自动退出，请重新验证身份。"),
    N_("本机已停用，请到其他自助查询机或窗口办理"),
    N_("本机尚未登记为自助查询机，请联系工作人员"),
    N_("这张社保卡没有参保登记信息，请到医保窗口咨询"),
    N_("无法识别这张卡，请插入社会保障卡（芯片朝上）"),
    N_("读卡器连接中断，请联系工作人员"),
    N_("请先插入社保卡"),
    N_("请先插入社保卡或扫码验证身份"),
    N_("医保卡密码是 6 位数字"),
    N_("二维码无效或已过期，请在手机上刷新医保电子凭证后重新扫码"),
    N_("这个二维码已经用过，请在手机上刷新医保电子凭证后重新扫码"),
    N_("如该身份证号已参保并登记手机号，验证码已发送到该手机，请输入6位验证码"),
    N_("验证码不正确或已过期，请重新获取"),
)

KEY_COOKIE = "yibao_kiosk_key"
SESSION_COOKIE = "yibao_kiosk_session"
PATH = "/kiosk"
TEN_YEARS = 10 * 365 * 24 * 3600
DIGITS = "0123456789"


def kiosk_key(request: Request) -> str:
    return request.cookies.get(KEY_COOKIE, "")


def device_key(request: Request) -> str:
    return bearer_token(request)


def session_token(request: Request) -> str:
    return request.cookies.get(SESSION_COOKIE, "")


def set_key_cookie(request: Request, response: Response, key: str) -> None:
    response.set_cookie(
        KEY_COOKIE,
        key,
        max_age=TEN_YEARS,
        httponly=True,
        samesite="strict",
        secure=is_https(request),
        path=PATH,
    )


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", secure=is_https(request), path=PATH
    )


def forget_person(response: Response) -> None:
    """What a session leaves in the browser goes with it: its cookie, the language it chose,
    and (Clear-Site-Data) any cache or storage a page may have left."""
    response.delete_cookie(SESSION_COOKIE, path=PATH)
    response.delete_cookie(LANG_COOKIE, path="/")
    response.headers["Clear-Site-Data"] = '"cache", "storage"'


def shuffled_keypad() -> list[str]:
    """The ten digits in a new order on every showing: someone watching the screen from behind
    cannot learn the password from where the fingers went."""
    digits = list(DIGITS)
    secrets.SystemRandom().shuffle(digits)
    return digits


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request,
        f"kiosk/{template}",
        {
            "labels": labels.ALL,
            "idle_seconds": int(IDLE.total_seconds()),
            "countdown_seconds": COUNTDOWN_SECONDS,
            **context,
        },
        status_code=status,
    )
    return response


def refusal(request: Request, error: DomainError, *, ended: bool = False) -> HTMLResponse:
    response = render(request, "message.html", status_for(error), message=error.message)
    if ended:
        forget_person(response)
    return response


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
