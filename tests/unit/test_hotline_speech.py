"""The hotline says amounts as Chinese money and dates as dates."""

from __future__ import annotations

from datetime import date

import pytest

from yibao.hotline.speech import (
    chinese_date,
    chinese_money,
    chinese_month,
    chinese_number,
    english_date,
    english_money,
)


@pytest.mark.parametrize(
    ("n", "said"),
    [
        (0, "零"),
        (7, "七"),
        (10, "十"),
        (12, "十二"),
        (20, "二十"),
        (101, "一百零一"),
        (110, "一百一十"),
        (1001, "一千零一"),
        (1010, "一千零一十"),
        (10000, "一万"),
        (10010, "一万零一十"),
        (100500, "十万零五百"),
        (1234567, "一百二十三万四千五百六十七"),
        (100000000, "一亿"),
        (100010000, "一亿零一万"),
        (120003000, "一亿二千万三千"),
    ],
)
def test_whole_numbers(n: int, said: str) -> None:
    assert chinese_number(n) == said


@pytest.mark.parametrize(
    ("fen", "said"),
    [
        (12345, "一百二十三元四角五分"),
        (0, "零元"),
        (5, "五分"),
        (40, "四角"),
        (45, "四角五分"),
        (100, "一元"),
        (1005, "十元零五分"),
        (1050, "十元五角"),
        (98765, "九百八十七元六角五分"),
        (100000000, "一百万元"),
        (-1230, "负十二元三角"),
    ],
)
def test_money(fen: int, said: str) -> None:
    assert chinese_money(fen) == said


def test_english_money() -> None:
    assert english_money(12345) == "123 yuan 45 fen"
    assert english_money(500) == "5 yuan"


def test_dates() -> None:
    assert chinese_date(date(2026, 12, 7)) == "二零二六年十二月七日"
    assert chinese_date(date(2025, 1, 31)) == "二零二五年一月三十一日"
    assert chinese_month("2026-03") == "二零二六年三月"
    assert english_date(date(2026, 12, 7)) == "7 December 2026"
