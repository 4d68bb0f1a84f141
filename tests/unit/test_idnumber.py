from datetime import date

import pytest

from yibao.kernel.idnumber import (
    InvalidIdNumber,
    InvalidPhone,
    check_character,
    mask_id_number,
    mask_name,
    mask_phone,
    parse_id_number,
    parse_phone,
)


def test_known_valid_number() -> None:
    # The GB 11643 example number.
    parsed = parse_id_number("11010519491231002X")
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.gender == "2"
    assert parsed.masked == "110***********002X"


def test_lowercase_x_is_accepted() -> None:
    assert parse_id_number("11010519491231002x").value.endswith("X")


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("110105194912310021", "校验位"),
        ("11010519491331002X", "出生日期"),
        ("1101051949123100", "18位"),
        ("11010518991231002X", "出生日期"),
    ],
)
def test_bad_numbers_say_why(bad: str, reason: str) -> None:
    with pytest.raises(InvalidIdNumber) as info:
        parse_id_number(bad)
    assert reason in info.value.message


def test_check_character_cycles_through_x() -> None:
    assert check_character("11010519491231002") == "X"


def test_masks() -> None:
    assert mask_id_number("11010519491231002X") == "110***********002X"
    assert mask_phone("13812341234") == "138****1234"
    assert mask_name("张三") == "张*"


def test_phone() -> None:
    assert parse_phone("+86 138-1234-1234") == "13812341234"
    with pytest.raises(InvalidPhone):
        parse_phone("12345")
