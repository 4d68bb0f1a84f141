"""What the menu reads out, as plain values the backend fills from the use cases, and the
sentences they become. Each reading holds exactly what the phone pages show for the same thing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from yibao.hotline.phrases import phrase
from yibao.hotline.speech import money, spoken_date, spoken_month

LAST = 5  # the last five payments, as the issue asks


class Service(StrEnum):
    BALANCE = "balance"
    CONSUMPTION = "consumption"
    CONTRIBUTIONS = "contributions"
    FAMILY = "family"
    CLAIMS = "claims"


# The main menu's keys.
SERVICE_KEYS = {
    "1": Service.BALANCE,
    "2": Service.CONSUMPTION,
    "3": Service.CONTRIBUTIONS,
    "4": Service.FAMILY,
    "5": Service.CLAIMS,
}


@dataclass(frozen=True, slots=True)
class Spending:
    day: date
    place: str
    total_fen: int | None  # the settlement's whole bill; None for an entry without one
    account_fen: int  # what left the personal account


@dataclass(frozen=True, slots=True)
class MonthPaid:
    month: str
    credited_fen: int | None
    owing: bool


@dataclass(frozen=True, slots=True)
class Grant:
    given: bool  # True: the caller authorised the relative; False: the relative authorised them
    relation: str
    name: str
    status: str


@dataclass(frozen=True, slots=True)
class AidPaid:
    day: date
    place: str
    amount_fen: int
    name: str
    by_caller: bool  # True: the caller's account paid for the relative


@dataclass(frozen=True, slots=True)
class OpenClaim:
    day: date
    place: str
    amount_fen: int
    status: str


@dataclass(frozen=True, slots=True)
class Reading:
    service: Service
    has_account: bool = True
    balance_fen: int = 0
    as_of: date | None = None
    spending: list[Spending] = field(default_factory=list)
    year: int = 0
    months: list[MonthPaid] = field(default_factory=list)
    credited_fen: int = 0
    grants: list[Grant] = field(default_factory=list)
    aid: list[AidPaid] = field(default_factory=list)
    claims: list[OpenClaim] = field(default_factory=list)


def sentences(reading: Reading, language: str) -> list[str]:
    say = _SAYERS[reading.service]
    return say(reading, language)


def _balance(r: Reading, lang: str) -> list[str]:
    if not r.has_account or r.as_of is None:
        return [phrase(lang, "no_account")]
    return [
        phrase(lang, "balance", amount=money(r.balance_fen, lang), date=spoken_date(r.as_of, lang))
    ]


def _consumption(r: Reading, lang: str) -> list[str]:
    if not r.has_account:
        return [phrase(lang, "no_account")]
    if not r.spending:
        return [phrase(lang, "consumption_none")]
    out = [phrase(lang, "consumption_head", count=len(r.spending))]
    for s in r.spending:
        values = {
            "date": spoken_date(s.day, lang),
            "place": s.place,
            "account": money(s.account_fen, lang),
        }
        if s.total_fen is None:
            out.append(phrase(lang, "consumption_line_plain", **values))
        else:
            out.append(phrase(lang, "consumption_line", total=money(s.total_fen, lang), **values))
    return out


def _contributions(r: Reading, lang: str) -> list[str]:
    paid = [m for m in r.months if not m.owing]
    if not r.months:
        return [phrase(lang, "contributions_none", year=r.year)]
    out = [
        phrase(
            lang,
            "contributions_head",
            year=r.year,
            count=len(paid),
            total=money(r.credited_fen, lang),
        )
    ]
    for m in r.months:
        month = spoken_month(m.month, lang)
        if m.owing:
            out.append(phrase(lang, "contributions_owing", month=month))
        else:
            out.append(
                phrase(
                    lang, "contributions_line", month=month, amount=money(m.credited_fen or 0, lang)
                )
            )
    return out


def _family(r: Reading, lang: str) -> list[str]:
    out: list[str] = []
    if not r.grants:
        out.append(phrase(lang, "family_none"))
    for g in r.grants:
        key = "family_given" if g.given else "family_received"
        out.append(phrase(lang, key, relation=g.relation, name=g.name, status=g.status))
    if not r.aid:
        out.append(phrase(lang, "family_payments_none"))
        return out
    out.append(phrase(lang, "family_payments_head", count=len(r.aid)))
    for a in r.aid:
        key = "family_paid_for" if a.by_caller else "family_paid_by"
        out.append(
            phrase(
                lang,
                key,
                date=spoken_date(a.day, lang),
                name=a.name,
                place=a.place,
                amount=money(a.amount_fen, lang),
            )
        )
    return out


def _claims(r: Reading, lang: str) -> list[str]:
    if not r.claims:
        return [phrase(lang, "claims_none")]
    out = [phrase(lang, "claims_head", count=len(r.claims))]
    for c in r.claims:
        out.append(
            phrase(
                lang,
                "claims_line",
                date=spoken_date(c.day, lang),
                place=c.place,
                amount=money(c.amount_fen, lang),
                status=c.status,
            )
        )
    return out


_SAYERS = {
    Service.BALANCE: _balance,
    Service.CONSUMPTION: _consumption,
    Service.CONTRIBUTIONS: _contributions,
    Service.FAMILY: _family,
    Service.CLAIMS: _claims,
}
