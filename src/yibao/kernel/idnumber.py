"""The resident ID number (公民身份号码, GB 11643-1999) and how it is shown.

18 characters: 6-digit address code, 8-digit birth date, 3-digit sequence (odd = male) and a check
character computed over the first 17 digits with the weights below, sum mod 11 indexing
"10X98765432". Numbers are shown masked (`110***********123X`), phones as `138****1234`.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from datetime import date

from yibao.kernel.errors import InvalidInput

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")
_PHONE = re.compile(r"^1[3-9]\d{9}$")


class InvalidIdNumber(InvalidInput):
    code = "invalid_id_number"


class InvalidPhone(InvalidInput):
    code = "invalid_phone"


@dataclass(frozen=True, slots=True)
class IdNumber:
    value: str

    @property
    def birth_date(self) -> date:
        v = self.value
        return date(int(v[6:10]), int(v[10:12]), int(v[12:14]))

    @property
    def gender(self) -> str:
        """'1' male, '2' female: the national gend code."""
        return "1" if int(self.value[16]) % 2 == 1 else "2"

    @property
    def address_code(self) -> str:
        return self.value[:6]

    @property
    def masked(self) -> str:
        return mask_id_number(self.value)


def check_character(first17: str) -> str:
    total = sum(map(operator.mul, map(int, first17), _WEIGHTS))
    return _CHECK[total % 11]


def parse_id_number(raw: str) -> IdNumber:
    value = raw.strip().upper()
    if not _SHAPE.match(value):
        raise InvalidIdNumber("身份证号码应为18位：前17位数字，最后一位为数字或X")
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise InvalidIdNumber("身份证号码中的出生日期无效") from exc
    if birth.year < 1900:
        raise InvalidIdNumber("身份证号码中的出生日期无效")
    if check_character(value[:17]) != value[17]:
        raise InvalidIdNumber("身份证号码校验位不正确，请核对后重新输入")
    return IdNumber(value)


def is_valid_id_number(raw: str) -> bool:
    try:
        parse_id_number(raw)
    except InvalidIdNumber:
        return False
    return True


def parse_phone(raw: str) -> str:
    value = raw.strip().replace(" ", "").replace("-", "")
    if value.startswith("+86"):
        value = value[3:]
    if not _PHONE.match(value):
        raise InvalidPhone("手机号码应为11位数字，以1开头")
    return value


def mask_id_number(value: str) -> str:
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:]


def mask_name(value: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: the surname stays so a person recognises themselves."""
    if len(value) <= 1:
        return value
    return value[0] + "*" * (len(value) - 1)
