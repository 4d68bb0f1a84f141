"""Reading a social-security card (社会保障卡) as the national specification lays out its basic
files: select the social-security environment SSSE by its name ("sx1.sh.社会保障"), then the
issuer's file EF05 (record 07: 社会保障卡卡号) and the holder's file EF06 (record 08: 社会保障号码).
Both are readable without a PIN; each READ RECORD (by tag, P2 = 00) answers tag, length, value,
an-format values padded with 00 bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

SSSE_NAME = "sx1.sh.社会保障".encode("gbk")
EF05 = (0xEF, 0x05)
EF06 = (0xEF, 0x06)
TAG_CARD_NO = 0x07
TAG_SSN = 0x08
OK = (0x90, 0x00)


class NotASocialSecurityCard(Exception):
    """The card in the reader answers, but not as a social-security card."""


class Transmits(Protocol):
    def transmit(self, apdu: list[int]) -> tuple[list[int], int, int]: ...


@dataclass(frozen=True, slots=True)
class CardReading:
    card_no: str
    ssn: str


def select_ssse() -> list[int]:
    return [0x00, 0xA4, 0x04, 0x00, len(SSSE_NAME), *SSSE_NAME]


def select_file(fid: tuple[int, int]) -> list[int]:
    return [0x00, 0xA4, 0x02, 0x00, 0x02, *fid]


def read_record(tag: int) -> list[int]:
    return [0x00, 0xB2, tag, 0x00, 0x00]


def _call(card: Transmits, apdu: list[int]) -> list[int]:
    data, sw1, sw2 = card.transmit(apdu)
    if (sw1, sw2) != OK:
        raise NotASocialSecurityCard(f"{apdu[1]:02X} answered {sw1:02X}{sw2:02X}")
    return data


def _value(card: Transmits, tag: int) -> str:
    data = _call(card, read_record(tag))
    if len(data) < 2 or data[0] != tag or data[1] > len(data) - 2:
        raise NotASocialSecurityCard(f"record {tag:02X} is not tag-length-value")
    raw = bytes(data[2 : 2 + data[1]]).rstrip(b"\x00\xff ")
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise NotASocialSecurityCard(f"record {tag:02X} is not text") from exc


def read_card(card: Transmits) -> CardReading:
    _call(card, select_ssse())
    _call(card, select_file(EF05))
    card_no = _value(card, TAG_CARD_NO)
    _call(card, select_file(EF06))
    ssn = _value(card, TAG_SSN)
    if not card_no or len(ssn) != 18:
        raise NotASocialSecurityCard("card number or social security number missing")
    return CardReading(card_no=card_no, ssn=ssn)
