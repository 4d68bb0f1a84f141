"""How the reference transactions read their input: the `data` object (or the input itself, as
some SDKs send 13xx), dates and moments in the national formats, a page."""

from __future__ import annotations

from datetime import date, datetime

from yibao.fsi.call import Call
from yibao.fsi.envelope import Fields, InvalidMessage
from yibao.kernel.clock import CHINA_TZ
from yibao.reference.domain import Page


def data_or_input(call: Call, wrapper: str = "data") -> Fields:
    """`input.data` — or `input` itself when a client sends the fields unwrapped."""
    inner = call.envelope.input.get(wrapper)
    if isinstance(inner, dict):
        return Fields(inner, f"input.{wrapper}")
    return call.input()


def day(fields: Fields, name: str) -> date | None:
    """yyyy-MM-dd (a time after it, as some clients send, is ignored)."""
    text = fields.text(name, required=False, max_len=19)
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError as exc:
        raise InvalidMessage(f"{fields.where}.{name} 应为日期 yyyy-MM-dd，收到 {text!r}") from exc


def since(fields: Fields, name: str) -> datetime | None:
    """`updt_time`: yyyy-MM-dd HH:mm:ss or yyyy-MM-dd, Beijing time, as an aware moment."""
    text = fields.text(name, required=False, max_len=19)
    if not text:
        return None
    for shape in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, shape).replace(tzinfo=CHINA_TZ)
        except ValueError:
            continue
    raise InvalidMessage(
        f"{fields.where}.{name} 应为 yyyy-MM-dd HH:mm:ss 或 yyyy-MM-dd，收到 {text!r}"
    )


def flag(fields: Fields, name: str) -> str | None:
    value = fields.text(name, required=False, max_len=1)
    if value and value not in {"0", "1"}:
        raise InvalidMessage(f"{fields.where}.{name} 应为 1（有效）或 0（无效），收到 {value!r}")
    return value or None


def page(fields: Fields) -> Page:
    return Page.read(fields.raw("page_num"), fields.raw("page_size"), fields.where)
