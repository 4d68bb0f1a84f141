"""The national envelope: reading a request's fields with precise complaints, writing answers.

Amounts cross this edge as decimal yuan with two places (text or numbers) and become integer
fen at once; answers carry them back as yuan strings.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from yibao.kernel.clock import to_china
from yibao.kernel.errors import InvalidInput
from yibao.kernel.money import Fen, InvalidAmount, format_yuan, parse_yuan
from yibao.settlement.domain import parse_count

_INFNO = re.compile(r"^\d{4}$")
_MSGID = re.compile(r"^[HP]\d{11}\d{14}\d{4}$")


class InvalidMessage(InvalidInput):
    code = "invalid_message"


class UnknownTransaction(InvalidInput):
    code = "unknown_transaction"


@dataclass(frozen=True, slots=True)
class Envelope:
    infno: str
    msgid: str
    fixmedins_code: str
    fixmedins_name: str
    mdtrtarea_admvs: str
    insuplc_admdvs: str
    sign_no: str | None
    opter: str
    opter_name: str
    input: dict[str, Any]
    digest: str  # of the business content: a msgid repeated with another digest is not a retry


class Fields:
    """One object of the message (`input.data`, a `feedetail` line …), read field by field."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise InvalidMessage(f"{where} 应为 JSON 对象")
        self._data: dict[str, Any] = data
        self.where = where

    def raw(self, name: str) -> Any:
        return self._data.get(name)

    def text(self, name: str, *, required: bool = True, max_len: int = 100) -> str:
        value = self._data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise InvalidMessage(f"{self.where}.{name} 缺失")
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise InvalidMessage(f"{self.where}.{name} 应为字符串")
        text = str(value).strip()
        if len(text) > max_len:
            raise InvalidMessage(f"{self.where}.{name} 过长（最多{max_len}位）")
        return text

    def choice(self, name: str, options: dict[str, str] | set[str], *, default: str = "") -> str:
        value = self.text(name, required=not default) or default
        if value not in options:
            listed = "、".join(sorted(options))
            raise InvalidMessage(f"{self.where}.{name} 应为 {listed} 之一，收到 {value!r}")
        return value

    def yuan(self, name: str) -> Fen:
        value = self._data.get(name)
        if value is None or value == "":
            raise InvalidMessage(f"{self.where}.{name} 缺失")
        if isinstance(value, float):
            # JSON numbers arrive as floats; their shortest text is what the sender wrote.
            value = repr(value)
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise InvalidMessage(f"{self.where}.{name} 应为金额（元，最多2位小数）")
        try:
            fen = parse_yuan(value, field=f"{self.where}.{name}")
        except InvalidAmount as exc:
            raise InvalidMessage(
                f"{self.where}.{name} 应为金额（元，最多2位小数），收到 {value!r}"
            ) from exc
        if fen < 0:
            raise InvalidMessage(f"{self.where}.{name} 不能为负数")
        return fen

    def count(self, name: str) -> Decimal:
        value = self._data.get(name)
        if isinstance(value, float):
            value = repr(value)
        try:
            return parse_count(value, field=f"{self.where}.{name}")
        except InvalidInput as exc:
            raise InvalidMessage(exc.message) from exc

    def flag(self, name: str) -> bool:
        value = self.text(name, required=False) or "0"
        if value not in {"0", "1"}:
            raise InvalidMessage(f"{self.where}.{name} 应为 0 或 1，收到 {value!r}")
        return value == "1"

    def rows(self, name: str) -> list[Fields]:
        value = self._data.get(name)
        if not isinstance(value, list) or not value:
            raise InvalidMessage(f"{self.where}.{name} 应为非空数组")
        if len(value) > 500:
            raise InvalidMessage(f"{self.where}.{name} 最多500条")
        return [Fields(item, f"{self.where}.{name}[{i}]") for i, item in enumerate(value)]

    def object(self, name: str) -> Fields:
        return Fields(self._data.get(name), f"{self.where}.{name}")


def read_envelope(body: bytes) -> Envelope:
    if len(body) > 2_000_000:
        raise InvalidMessage("报文过大（最多 2 MB）")
    try:
        data = json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidMessage(f"报文不是合法的 JSON：{exc}") from exc
    top = Fields(data, "报文")
    infno = top.text("infno", max_len=4)
    if not _INFNO.match(infno):
        raise InvalidMessage(f"infno 应为4位交易编号，收到 {infno!r}")
    fixmedins_code = top.text("fixmedins_code", max_len=12)
    msgid = top.text("msgid", max_len=30)
    if not _MSGID.match(msgid) or not msgid.startswith(fixmedins_code):
        raise InvalidMessage(
            "msgid 应为30位：机构编码(12) + yyyyMMddHHmmss(14) + 4位顺序号，且以本机构编码开头，"
            f"收到 {msgid!r}"
        )
    payload = data.get("input")
    if not isinstance(payload, dict):
        raise InvalidMessage("input 缺失或不是 JSON 对象")
    return Envelope(
        infno=infno,
        msgid=msgid,
        fixmedins_code=fixmedins_code,
        fixmedins_name=top.text("fixmedins_name", required=False),
        mdtrtarea_admvs=top.text("mdtrtarea_admvs", required=False, max_len=6),
        insuplc_admdvs=top.text("insuplc_admdvs", required=False, max_len=6),
        sign_no=top.text("sign_no", required=False, max_len=40) or None,
        opter=top.text("opter", required=False, max_len=30),
        opter_name=top.text("opter_name", required=False, max_len=50),
        input=payload,
        digest=content_digest(infno, payload),
    )


def content_digest(infno: str, payload: dict[str, Any]) -> str:
    """SHA-256 of what the message asks for: `infno` and `input` as canonical JSON (sorted keys,
    no whitespace). Not the send time (`inf_time`), the operator or the gateway headers, which a
    retry may change; an amount written as the number 12.30 or the text "12.30" is the same."""
    canonical = json.dumps(
        {"infno": infno, "input": payload},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        default=str,  # Decimal, as the sender wrote it
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def stamp(moment: datetime) -> str:
    """yyyyMMddHHmmssSSS in Beijing time."""
    china = to_china(moment)
    return f"{china:%Y%m%d%H%M%S}{china.microsecond // 1000:03d}"


def wall_time(moment: datetime) -> str:
    return f"{to_china(moment):%Y-%m-%d %H:%M:%S}"


def yuan(fen: int) -> str:
    return format_yuan(fen)


def answer(
    *,
    infcode: int,
    refmsgid: str,
    received: datetime,
    responded: datetime,
    output: dict[str, Any] | None = None,
    err_msg: str | None = None,
    warn_msg: str | None = None,
) -> dict[str, Any]:
    return {
        "infcode": infcode,
        "inf_refmsgid": refmsgid,
        "refmsg_time": stamp(received),
        "respond_time": stamp(responded),
        "err_msg": err_msg,
        "warn_msg": warn_msg,
        "output": output or {},
    }
