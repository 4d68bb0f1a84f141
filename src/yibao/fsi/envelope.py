"""The national envelope: reading a request's fields with precise complaints, writing answers.

Amounts cross this edge as decimal yuan with two places (text or numbers) and become integer
fen at once; answers carry them back as yuan strings.

`Fields` is the one place input is validated, by kind of field: `text` (names, which may be
Chinese: no control, format or bidi-override characters), `code` (identifiers and numbers:
printable ASCII only, so no full-width or other scripts' digits either), `yuan` (at most 13
digits of yuan and 2 of fen, in 0-9), `count`, `moment` (a real yyyy-MM-dd HH:mm:ss). The whole
body is bounded first (size, nesting depth, lone surrogates), before the signature is checked,
so nothing a stranger sends reaches the internal-error path. err_msg names the field but never
repeats a code's value (an ID number is a code).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from yibao.kernel.clock import to_china
from yibao.kernel.errors import InvalidInput
from yibao.kernel.money import Fen, InvalidAmount, format_yuan, parse_yuan
from yibao.settlement.domain import parse_count

# The shapes of the national list: 4 digits, 4 digits and a capital (1306A, 3592B), 6 digits
# (100001). ASCII only: [0-9] and [A-Z] match no other script's digits or letters.
_INFNO = re.compile(r"^(?:[0-9]{4}[A-Z]?|[0-9]{6})$")
_MSGID = re.compile(r"^[HP][0-9]{11}[0-9]{14}[0-9]{4}$")
_MOMENT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$")
# The deepest envelope is 3101's 报文 > input > data > patient_dtos > [patient] >
# fsi_encounter_dtos > [encounter] > fsi_order_dtos > [order] > field; anything past this is not one.
MAX_DEPTH = 9
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# JSON spells a lone surrogate only as an escape: the body is walked for one only if it has one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
# Cc control (NUL …), Cf format (U+202E and the other bidi overrides, zero-width joiners …),
# Cs surrogates, Co private use, Cn unassigned.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


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
        refused = _refused_character(text)
        if refused:
            raise InvalidMessage(f"{self.where}.{name} 含有不允许的字符（{refused}）")
        return text

    def code(self, name: str, *, required: bool = True, max_len: int = 100) -> str:
        """An identifier (psn_no, mdtrt_id, a catalogue code, an ID number …): printable ASCII
        without spaces. Its value is never repeated in err_msg."""
        text = self.text(name, required=required, max_len=max_len)
        if not (text.isascii() and text.isprintable()) or " " in text:
            raise InvalidMessage(
                f"{self.where}.{name} 应为半角字母、数字或符号（不含空格、全角或控制字符）"
            )
        return text

    def moment(self, name: str, *, required: bool = True) -> datetime | None:
        """A wall-clock time as the interface writes it: yyyy-MM-dd HH:mm:ss, a real one."""
        text = self.text(name, required=required, max_len=19)
        if not text:
            return None
        try:
            if not _MOMENT.match(text):
                raise ValueError(text)
            return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007 - Beijing wall time
        except ValueError as exc:
            raise InvalidMessage(
                f"{self.where}.{name} 应为有效的日期时间 yyyy-MM-dd HH:mm:ss，收到 {text!r}"
            ) from exc

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
            raise InvalidMessage(f"{self.where}.{name} 应为金额（元，最多13位整数、2位小数）")
        try:
            if isinstance(value, str) and not value.isascii():
                raise InvalidAmount("full-width or other non-ASCII digits")  # Decimal takes them
            fen = parse_yuan(value, field=f"{self.where}.{name}")
        except InvalidAmount as exc:
            raise InvalidMessage(
                f"{self.where}.{name} 应为金额（元，最多13位整数、2位小数），收到 {_shown(value)}"
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


def _refused_character(text: str) -> str | None:
    """What makes `text` unfit for any field, or None. ASCII (the usual case) is checked at C
    speed; other text character by character."""
    if text.isascii():
        return None if text.isprintable() else "控制字符"
    for char in text:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return f"控制、格式或双向控制字符 U+{ord(char):04X}"
    return None


def _shown(value: object) -> str:
    text = repr(value) if not isinstance(value, Decimal) else repr(str(value))
    return text if len(text) <= 32 else text[:29] + "…"


def _check_tree(value: Any, where: str, depth: int, surrogates: bool) -> None:
    """Depth-bounded (so is this recursion): past MAX_DEPTH, or a lone surrogate in a key or a
    string (it cannot be stored or answered in UTF-8), is refused with the field's path."""
    if isinstance(value, dict):
        if depth > MAX_DEPTH:
            raise InvalidMessage(f"{where} 嵌套过深（报文最多{MAX_DEPTH}层）")
        for key, item in value.items():
            path = f"{where}.{key}" if where else key
            if surrogates and _SURROGATE.search(key):
                raise InvalidMessage(f"{where or '报文'} 的字段名含有无效的 Unicode 代理字符")
            _check_tree(item, path, depth + 1, surrogates)
    elif isinstance(value, list):
        if depth > MAX_DEPTH:
            raise InvalidMessage(f"{where} 嵌套过深（报文最多{MAX_DEPTH}层）")
        for index, item in enumerate(value):
            _check_tree(item, f"{where}[{index}]", depth + 1, surrogates)
    elif surrogates and isinstance(value, str) and _SURROGATE.search(value):
        raise InvalidMessage(f"{where} 含有无效的 Unicode 代理字符（单独的 \\ud800–\\udfff）")


def read_envelope(body: bytes) -> Envelope:
    if len(body) > 2_000_000:
        raise InvalidMessage("报文过大（最多 2 MB）")
    try:
        data = json.loads(body, parse_float=Decimal)
    except RecursionError as exc:  # the parser's own limit; far past MAX_DEPTH
        raise InvalidMessage(f"报文嵌套过深（最多{MAX_DEPTH}层）") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidMessage(f"报文不是合法的 JSON：{exc}") from exc
    surrogates = _SURROGATE_ESCAPE.search(body) is not None
    if surrogates or body.count(b"{") + body.count(b"[") > MAX_DEPTH:
        _check_tree(data, "", 1, surrogates)
    top = Fields(data, "报文")
    infno = top.text("infno", max_len=6)
    if not _INFNO.match(infno):
        raise InvalidMessage(
            f"infno 应为交易编号（4位数字，可加1个大写字母；或6位数字），收到 {infno!r}"
        )
    fixmedins_code = top.code("fixmedins_code", max_len=12)
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
        mdtrtarea_admvs=top.code("mdtrtarea_admvs", required=False, max_len=6),
        insuplc_admdvs=top.code("insuplc_admdvs", required=False, max_len=6),
        sign_no=top.code("sign_no", required=False, max_len=40) or None,
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
