"""Numbers, money and dates as a voice says them (一百二十三元四角五分, 二零二六年十二月七日).

Amounts are integer fen, as everywhere in yibao; a float never touches them. Chinese money is
read yuan, jiao (角), fen (分), with 零 where a unit is skipped between two spoken ones, as a
cashier says it. Years are read digit by digit (二零二六年), months and days as numbers.
"""

from __future__ import annotations

from datetime import date

_DIGITS = "零一二三四五六七八九"
_SMALL_UNITS = ("", "十", "百", "千")
_BIG_UNITS = ("", "万", "亿", "万亿")
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _section(n: int) -> str:
    """0 < n < 10000, with inner 零 (一千零一) but no leading or trailing one."""
    out = ""
    zero = False
    for position in range(3, -1, -1):
        digit = n // 10**position % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[digit] + _SMALL_UNITS[position]
    return out


def chinese_number(n: int) -> str:
    """A whole number as spoken: 10 -> 十, 110 -> 一百一十, 100500 -> 十万零五百."""
    if n < 0:
        return "负" + chinese_number(-n)
    if n == 0:
        return "零"
    sections: list[int] = []
    while n:
        n, rest = divmod(n, 10000)
        sections.append(rest)
    out = ""
    need_zero = False
    for index in range(len(sections) - 1, -1, -1):
        part = sections[index]
        if part == 0:
            need_zero = bool(out)
            continue
        if out and (need_zero or part < 1000):
            out += "零"
        out += _section(part) + _BIG_UNITS[index]
        need_zero = False
    # 一十 is written but not said at the start: 十元, 十二万.
    return out[1:] if out.startswith("一十") else out


def chinese_money(fen: int) -> str:
    """Fen as spoken money: 12345 -> 一百二十三元四角五分, 1005 -> 十元零五分, 0 -> 零元."""
    if fen < 0:
        return "负" + chinese_money(-fen)
    yuan, rest = divmod(fen, 100)
    jiao, cents = divmod(rest, 10)
    if fen == 0:
        return "零元"
    out = f"{chinese_number(yuan)}元" if yuan else ""
    if jiao:
        out += f"{_DIGITS[jiao]}角"
    if cents:
        if yuan and not jiao:
            out += "零"
        out += f"{_DIGITS[cents]}分"
    return out


def english_money(fen: int) -> str:
    sign = "minus " if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan} yuan {cents} fen" if cents else f"{sign}{yuan} yuan"


def chinese_date(day: date) -> str:
    year = "".join(_DIGITS[int(d)] for d in f"{day.year:04d}")
    return f"{year}年{chinese_number(day.month)}月{chinese_number(day.day)}日"


def english_date(day: date) -> str:
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def chinese_month(month: str) -> str:
    """'2026-03' -> 二零二六年三月."""
    year, number = month.split("-")
    return "".join(_DIGITS[int(d)] for d in year) + f"年{chinese_number(int(number))}月"


def english_month(month: str) -> str:
    year, number = month.split("-")
    return f"{_MONTHS_EN[int(number) - 1]} {year}"


def money(fen: int, language: str) -> str:
    return english_money(fen) if language == "en" else chinese_money(fen)


def spoken_date(day: date, language: str) -> str:
    return english_date(day) if language == "en" else chinese_date(day)


def spoken_month(month: str, language: str) -> str:
    return english_month(month) if language == "en" else chinese_month(month)
