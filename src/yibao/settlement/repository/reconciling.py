"""对账 queries: an institution's standing settlements of a period, summed in the database or
read as lines, and the reconciliations kept. Never commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, and_, cast, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from yibao.settlement.reconciliation import (
    CLEARING_CLASSES,
    DetailDifference,
    DetailLine,
    Difference,
    Totals,
)
from yibao.settlement.tables import (
    Reconciliation,
    ReconciliationDifference,
    Settlement,
    SettlementConfirmation,
)

_CHUNK = 500  # setl_ids per IN list (SQLite allows 32766 parameters; PostgreSQL more)


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose settlements, which days (as instants), which insurance and settlement class."""

    fixmedins_code: str
    start: datetime
    stop: datetime
    insutype: str | None = None
    clr_type: str | None = None


def _where(scope: Scope) -> list[ColumnElement[bool]]:
    table = Settlement
    # fixmedins_code and setl_time lead ix_settlements_institution_time: the range is one index
    # scan of that institution's days.
    conditions: list[ColumnElement[bool]] = [
        table.fixmedins_code == scope.fixmedins_code,
        table.setl_time >= scope.start,
        table.setl_time < scope.stop,
        table.status == "settled",
    ]
    if scope.insutype:
        conditions.append(table.insutype == scope.insutype)
    if scope.clr_type:
        conditions.append(table.med_type.in_(CLEARING_CLASSES[scope.clr_type]))
    return conditions


async def totals(session: AsyncSession, scope: Scope) -> Totals:
    table = Settlement
    row = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(table.medfee_sumamt_fen), 0),
                func.coalesce(func.sum(table.fund_pay_sumamt_fen), 0),
                func.coalesce(func.sum(table.acct_pay_fen), 0),
            ).where(*_where(scope))
        )
    ).one()
    return Totals(int(row[0]), int(row[1]), int(row[2]), int(row[3]))


@dataclass(frozen=True, slots=True)
class OurLine:
    line: DetailLine
    settlement_id: int
    msgid: str


@dataclass(frozen=True, slots=True)
class OurLines:
    """The period's settlements by setl_id (`lines`: the amounts; mdtrt_id and psn_no filled
    for the ones in `made_by`), and the row id and msgid of the lines a comparison names."""

    lines: dict[str, DetailLine]
    made_by: dict[str, tuple[int, str]]

    def our_line(self, setl_id: str) -> OurLine:
        settlement_id, msgid = self.made_by[setl_id]
        return OurLine(self.lines[setl_id], settlement_id, msgid)


Amounts = tuple[int, int, int]  # medfee_sumamt, fund_pay_sumamt, acct_pay (fen)


async def amounts(session: AsyncSession, scope: Scope) -> dict[str, Amounts]:
    """The period's settlements as setl_id → amounts. The database joins them into one text
    (string_agg / group_concat): 100,000 rows as one value cost a fifth of 100,000 result rows."""
    table = Settlement
    line = (
        table.setl_id
        + "\t"
        + cast(table.medfee_sumamt_fen, String)
        + "\t"
        + cast(table.fund_pay_sumamt_fen, String)
        + "\t"
        + cast(table.acct_pay_fen, String)
    )
    joined = await session.scalar(select(func.aggregate_strings(line, "\n")).where(*_where(scope)))
    found: dict[str, Amounts] = {}
    for text in (joined or "").split("\n"):
        if text:
            setl_id, medfee, fund, acct = text.split("\t")
            found[setl_id] = (int(medfee), int(fund), int(acct))
    return found


async def made_by(
    session: AsyncSession, fixmedins_code: str, setl_ids: Iterable[str]
) -> dict[str, tuple[int, str, str, str]]:
    """setl_id → (row id, mdtrt_id, psn_no, msgid), for the few lines a comparison names."""
    found: dict[str, tuple[int, str, str, str]] = {}
    wanted = list(setl_ids)
    table = Settlement
    for start in range(0, len(wanted), _CHUNK):
        rows = await session.execute(
            select(table.setl_id, table.id, table.mdtrt_id, table.psn_no, table.msgid).where(
                table.fixmedins_code == fixmedins_code,
                table.setl_id.in_(wanted[start : start + _CHUNK]),
            )
        )
        for setl_id, row_id, mdtrt_id, psn_no, msgid in rows:
            found[setl_id] = (row_id, mdtrt_id, psn_no, msgid)
    return found


async def not_counted(
    session: AsyncSession, fixmedins_code: str, setl_ids: Iterable[str]
) -> dict[str, tuple[str, datetime]]:
    """Of settlements the institution listed and the period did not count: the ones yibao has
    (its own), with their status and time."""
    found: dict[str, tuple[str, datetime]] = {}
    wanted = list(setl_ids)
    for start in range(0, len(wanted), _CHUNK):
        rows = await session.execute(
            select(Settlement.setl_id, Settlement.status, Settlement.setl_time).where(
                Settlement.fixmedins_code == fixmedins_code,
                Settlement.setl_id.in_(wanted[start : start + _CHUNK]),
            )
        )
        for setl_id, status, setl_time in rows:
            found[setl_id] = (status, setl_time)
    return found


async def add_reconciliation(session: AsyncSession, row: Reconciliation) -> Reconciliation:
    session.add(row)
    await session.flush()
    return row


async def add_differences(
    session: AsyncSession, reconciliation_id: int, differences: Sequence[DetailDifference]
) -> None:
    values = [
        {
            "reconciliation_id": reconciliation_id,
            "kind": d.kind.value,
            "setl_id": d.setl_id,
            "mdtrt_id": (d.ours or d.theirs).mdtrt_id,  # type: ignore[union-attr]
            "psn_no": (d.ours or d.theirs).psn_no,  # type: ignore[union-attr]
            "our_medfee_fen": d.ours.medfee_sumamt if d.ours else None,
            "our_fund_fen": d.ours.fund_pay_sumamt if d.ours else None,
            "our_acct_fen": d.ours.acct_pay if d.ours else None,
            "their_medfee_fen": d.theirs.medfee_sumamt if d.theirs else None,
            "their_fund_fen": d.theirs.fund_pay_sumamt if d.theirs else None,
            "their_acct_fen": d.theirs.acct_pay if d.theirs else None,
            "memo": d.memo[:300],
        }
        for d in differences
    ]
    for start in range(0, len(values), _CHUNK):
        await session.execute(insert(ReconciliationDifference), values[start : start + _CHUNK])


async def awaiting_confirmation(session: AsyncSession, fixmedins_code: str) -> set[str]:
    """setl_ids an earlier 3202 of the institution found only at yibao, not yet confirmed."""
    d, r, c = ReconciliationDifference, Reconciliation, SettlementConfirmation
    rows = await session.execute(
        select(d.setl_id)
        .distinct()
        .join(r, r.id == d.reconciliation_id)
        .outerjoin(c, c.setl_id == d.setl_id)
        .where(
            r.fixmedins_code == fixmedins_code,
            d.kind == Difference.YIBAO_ONLY.value,
            c.setl_id.is_(None),
        )
    )
    return set(rows.scalars())


async def confirm(
    session: AsyncSession,
    confirmed: Sequence[OurLine],
    fixmedins_code: str,
    reconciliation_id: int,
    now: datetime,
) -> None:
    if confirmed:
        await session.execute(
            insert(SettlementConfirmation),
            [
                {
                    "settlement_id": line.settlement_id,
                    "setl_id": line.line.setl_id,
                    "fixmedins_code": fixmedins_code,
                    "reconciliation_id": reconciliation_id,
                    "confirmed_at": now,
                }
                for line in confirmed
            ],
        )


async def history(
    session: AsyncSession, fixmedins_code: str | None, limit: int
) -> list[Reconciliation]:
    stmt = select(Reconciliation).order_by(Reconciliation.id.desc()).limit(limit)
    if fixmedins_code:
        stmt = stmt.where(Reconciliation.fixmedins_code == fixmedins_code)
    return list((await session.execute(stmt)).scalars())


async def reconciliation(session: AsyncSession, reconciliation_id: int) -> Reconciliation | None:
    return await session.get(Reconciliation, reconciliation_id)


@dataclass(frozen=True, slots=True)
class DifferenceState:
    difference: ReconciliationDifference
    settlement_status: str | None  # settled | cancelled | None (yibao has no such settlement)
    confirmed_at: datetime | None


async def differences(
    session: AsyncSession, reconciliation_id: int, fixmedins_code: str, limit: int
) -> list[DifferenceState]:
    d, s, c = ReconciliationDifference, Settlement, SettlementConfirmation
    rows = await session.execute(
        select(d, s.status, c.confirmed_at)
        .outerjoin(s, and_(s.setl_id == d.setl_id, s.fixmedins_code == fixmedins_code))
        .outerjoin(c, c.setl_id == d.setl_id)
        .where(d.reconciliation_id == reconciliation_id)
        .order_by(d.id)
        .limit(limit)
    )
    return [DifferenceState(row, status, at) for row, status, at in rows]
