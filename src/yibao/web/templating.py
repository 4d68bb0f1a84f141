"""Jinja2 templates with Babel's gettext per request; filters that turn fen into yuan at the edge."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from yibao.kernel.clock import to_china
from yibao.kernel.money import format_yuan
from yibao.web.i18n import HTML_LANG, LOCALES, elder_mode, locale_of, translations

TEMPLATES_DIR = Path(__file__).parent / "templates"


def _yuan(fen: int | None) -> str:
    return "—" if fen is None else format_yuan(fen)


def _china_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if moment is None else to_china(moment).strftime(fmt)


def _day(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def _request_of(context: Context) -> Request | None:
    request = context.get("request")
    return request if isinstance(request, Request) else None


# Jinja's newstyle gettext wraps these and applies `%(name)s` variables itself.
@pass_context
def _gettext(context: Context, message: str) -> str:
    request = _request_of(context)
    return translations(locale_of(request)).gettext(message) if request else message


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    request = _request_of(context)
    if request is None:
        return singular if n == 1 else plural
    return translations(locale_of(request)).ngettext(singular, plural, n)


def _page_context(request: Request) -> dict[str, Any]:
    locale = locale_of(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return {
        "locale": locale,
        "lang": HTML_LANG[locale],
        "locales": LOCALES,
        "elder": elder_mode(request),
        "here": here,
    }


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR), context_processors=[_page_context])
    env = templates.env
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["yuan"] = _yuan
    env.filters["china_time"] = _china_time
    env.filters["day"] = _day
    return templates
