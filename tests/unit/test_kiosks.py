"""Kiosk rules and the bridge's reading of a social-security card's basic files (the card's
answers come from the virtual card the browser journey puts in pcscd's reader)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.social_card import VirtualSocialCard
from yibao.kiosks.domain import (
    InvalidKiosk,
    check_kiosk_id,
    check_place,
    is_idle,
    is_stale,
    key_digest,
    printer_problem,
    who,
)
from yibao.web.kiosk.access import shuffled_keypad
from yibao.web.kiosk.bridge.card import NotASocialSecurityCard, read_card

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


class Card:
    """What pyscard's connection does, over the virtual card's answers."""

    def __init__(self, card: VirtualSocialCard) -> None:
        self.card = card
        self.sent: list[list[int]] = []

    def transmit(self, apdu: list[int]) -> tuple[list[int], int, int]:
        self.sent.append(apdu)
        answer = self.card.answer(bytes(apdu))
        return list(answer[:-2]), answer[-2], answer[-1]


def test_reads_card_number_and_social_security_number() -> None:
    card = Card(VirtualSocialCard("K00000001", "310104198005173315", "王芳"))
    reading = read_card(card)
    assert (reading.card_no, reading.ssn) == ("K00000001", "310104198005173315")
    # SELECT the SSSE by its name, then EF05 and EF06, each READ RECORD by tag.
    assert card.sent[0][:4] == [0x00, 0xA4, 0x04, 0x00]
    assert bytes(card.sent[0][5:]).decode("gbk") == "sx1.sh.社会保障"
    assert [a[1:4] for a in card.sent[1:]] == [
        [0xA4, 0x02, 0x00],
        [0xB2, 0x07, 0x00],
        [0xA4, 0x02, 0x00],
        [0xB2, 0x08, 0x00],
    ]


def test_other_cards_are_not_social_security_cards() -> None:
    with pytest.raises(NotASocialSecurityCard):
        read_card(Card(VirtualSocialCard(social=False)))
    with pytest.raises(NotASocialSecurityCard):  # files there, numbers missing
        read_card(Card(VirtualSocialCard("", "")))


def test_kiosk_ids_places_and_keys() -> None:
    assert check_kiosk_id(" HALL-01 ") == "HALL-01"
    for bad in ("", "-x", "厅1", "x" * 33):
        with pytest.raises(InvalidKiosk):
            check_kiosk_id(bad)
    assert check_place("  市一医院   门诊大厅 ") == "市一医院 门诊大厅"
    with pytest.raises(InvalidKiosk):
        check_place("厅")
    assert key_digest("abc") == key_digest(" abc\n") != key_digest("abd")
    assert who("门诊大厅") == "自助查询机 门诊大厅"


def test_idle_and_stale() -> None:
    assert not is_idle(NOW, NOW + timedelta(seconds=60))
    assert is_idle(NOW, NOW + timedelta(seconds=66))
    assert is_stale(None, NOW)
    assert not is_stale(NOW, NOW + timedelta(minutes=2))
    assert is_stale(NOW, NOW + timedelta(minutes=2, seconds=1))


@pytest.mark.parametrize(
    ("state", "reasons", "problem"),
    [
        ("idle", [], None),
        ("processing", ["media-low-warning"], None),
        ("idle", ["media-empty-error"], "打印机缺纸"),
        ("stopped", ["paused"], "打印机已暂停"),
        ("stopped", [], "打印机离线"),
        ("idle", ["offline-report"], None),
        ("missing", [], "本机未连接打印机"),
        (None, [], "本机未连接打印机"),
    ],
)
def test_printer_problems(state: str | None, reasons: list[str], problem: str | None) -> None:
    assert printer_problem(state, reasons) == problem


def test_keypad_has_every_digit_in_a_changing_order() -> None:
    layouts = {tuple(shuffled_keypad()) for _ in range(20)}
    assert all(sorted(layout) == list("0123456789") for layout in layouts)
    assert len(layouts) > 1
