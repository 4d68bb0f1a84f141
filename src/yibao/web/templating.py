"""Jinja2 templates with Babel's gettext; filters that turn fen into yuan at the edge."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates

from yibao.kernel.clock import to_china
from yibao.kernel.money import format_yuan

TEMPLATES_DIR = Path(__file__).parent / "templates"


def _yuan(fen: int | None) -> str:
    return "—" if fen is None else format_yuan(fen)


def _china_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if moment is None else to_china(moment).strftime(fmt)


def _day(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.add_extension("jinja2.ext.i18n")
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.filters["yuan"] = _yuan
    env.filters["china_time"] = _china_time
    env.filters["day"] = _day
    return templates
