"""Reconciliation (对账, daily) and clearing (清算, monthly) from the treatment region's side.

B sends, per home region, every settle message id it holds as settled on the day and the next
(a settlement committed at A just before midnight and here just after is still found); A
reverses what it holds for the day that B does not and names what B holds that A does not. The
message id covers the list, so a rerun with the same list gets the same answer and a rerun after
more settlements is a new reconciliation. Each run has its own id (`run`): a run retried after
a lost answer gets the first answer; a new run compares afresh.

Bills settled in cash while A was unreachable are listed apart (`cash`): A holds no debit for
them, and reverses one it made under such an id (B timed out after A committed) — the person
paid B in full, so it must not be paid from the account as well.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from yibao.crossregion import repository
from yibao.crossregion.domain import ClearingTotals, Peer, SettlementMode
from yibao.crossregion.link import PeerLink
from yibao.runtime import Runtime


@dataclass(frozen=True, slots=True)
class Reconciled:
    home: Peer
    day: date
    sent: int
    differences: list[dict[str, Any]]


async def reconcile(
    runtime: Runtime, link: PeerLink, treatment_admdvs: str, day: date, run: str | None = None
) -> list[Reconciled]:
    run = run or secrets.token_hex(6)
    async with runtime.sessions() as session:
        homes = [p for p in await repository.all_peers(session) if not p.local]
        lists: dict[str, tuple[list[str], list[str]]] = {}
        for home in homes:
            rows = [
                *await repository.settlements_of_day(session, home.admdvs, day),
                *await repository.settlements_of_day(session, home.admdvs, day + timedelta(days=1)),
            ]
            held = [r for r in rows if r.status == "settled"]
            lists[home.admdvs] = (
                sorted(r.message_id for r in held if r.mode == SettlementMode.DIRECT),
                sorted(r.message_id for r in held if r.mode == SettlementMode.CASH),
            )
    done = []
    for home in homes:
        settled, cash = lists[home.admdvs]
        digest = hashlib.sha256("\n".join([*settled, "", *cash]).encode()).hexdigest()[:16]
        answer = await link.send(
            home,
            "reconcile",
            {
                "message_id": f"{link.deployment}:reconcile:{home.admdvs}:{day}:{run}:{digest}",
                "treatment_admdvs": treatment_admdvs,
                "day": day.isoformat(),
                "settled": settled,
                "cash": cash,
            },
        )
        done.append(Reconciled(home, day, len(settled), list(answer["differences"])))
    return done


@dataclass(frozen=True, slots=True)
class Clearing:
    here: ClearingTotals
    there: ClearingTotals

    @property
    def agrees(self) -> bool:
        a, b = self.here, self.there
        return (a.count, a.medfee_sumamt_fen, a.fund_pay_fen, a.acct_pay_fen, a.cash_pay_fen) == (
            b.count,
            b.medfee_sumamt_fen,
            b.fund_pay_fen,
            b.acct_pay_fen,
            b.cash_pay_fen,
        )


async def clearing(
    runtime: Runtime, link: PeerLink, treatment_admdvs: str, home_admdvs: str, month: str
) -> Clearing:
    """清算: the month's statement for one pair of regions, added up on both sides."""
    async with runtime.sessions() as session:
        here = await repository.clearing_at_treatment(session, month, treatment_admdvs, home_admdvs)
        home = await repository.peer_of(session, home_admdvs)
    if home is None or home.local:
        from yibao.crossregion.domain import UnknownRegion

        raise UnknownRegion(f"参保地 {home_admdvs} 不是其他部署服务的区划")
    answer = await link.send(
        home,
        "clearing",
        {"treatment_admdvs": treatment_admdvs, "home_admdvs": home_admdvs, "month": month},
    )
    t = answer["totals"]
    there = ClearingTotals(
        str(t["month"]),
        str(t["treatment_admdvs"]),
        str(t["home_admdvs"]),
        int(t["count"]),
        int(t["medfee_sumamt_fen"]),
        int(t["fund_pay_fen"]),
        int(t["acct_pay_fen"]),
        int(t["cash_pay_fen"]),
    )
    return Clearing(here, there)
