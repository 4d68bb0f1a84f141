"""Queries and row locks of settlement. Never commits: the calling use case does.

Every lookup on the hot path is keyed (msgid, paasid, psn_no, mdtrt_id, setl_id, person and year),
so a settlement touches one person's rows and the reference tables only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from yibao.db.engine import is_postgres
from yibao.db.reference import reference_cache
from yibao.ledger.tables import LedgerEntry, PersonalAccount
from yibao.notifications.tables import OutboxMessage
from yibao.settlement.domain import Caller, CatalogueRule, ItemClass, MutualAidPayer, YearToDate
from yibao.settlement.tables import (
    CatalogueEntry,
    FeeDetail,
    Institution,
    InterfaceMessage,
    Settlement,
    SettlementItem,
    SettlementShare,
    Visit,
    YearlyAccumulation,
)


async def institution_by_paasid(session: AsyncSession, paasid: str) -> Institution | None:
    stmt = select(Institution).where(Institution.paasid == paasid)
    return (await session.execute(stmt)).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class GatewayEntry:
    """What the gateway needs of an institution, cached per process (db/reference.py)."""

    caller: Caller
    status: str
    token_enc: bytes


GATEWAY = "institution-gateway"


async def gateway_entry(
    session: AsyncSession, paasid: str, *, fresh: bool = False
) -> GatewayEntry | None:
    cache = reference_cache(session)
    if not fresh:
        found, entry = cache.get(GATEWAY, paasid)
        if found:
            return entry  # type: ignore[no-any-return]
    institution = await institution_by_paasid(session, paasid)
    if institution is None:
        return None
    entry = GatewayEntry(
        Caller(
            id=institution.id,
            fixmedins_code=institution.fixmedins_code,
            name=institution.name,
            kind=institution.kind,
            admdvs=institution.admdvs,
            sign_no=institution.sign_no,
            sign_day=institution.sign_day,
        ),
        institution.status,
        institution.token_enc,
    )
    cache.put(GATEWAY, paasid, entry)
    return entry


def forget_institution(session: AsyncSession, paasid: str) -> None:
    reference_cache(session).forget(GATEWAY, paasid)


async def institution_by_code(
    session: AsyncSession, code: str, *, lock: bool = False
) -> Institution | None:
    stmt = select(Institution).where(Institution.fixmedins_code == code)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def institutions(
    session: AsyncSession, *, admdvs: str | None = None, kind: str | None = None
) -> list[Institution]:
    stmt = select(Institution).order_by(Institution.fixmedins_code)
    if admdvs:
        stmt = stmt.where(Institution.admdvs == admdvs)
    if kind:
        stmt = stmt.where(Institution.kind == kind)
    return list((await session.execute(stmt)).scalars())


CATALOGUE = "catalogue-rule"


async def catalogue_rules(
    session: AsyncSession, codes: Iterable[str], on: date
) -> dict[str, CatalogueRule]:
    """The rules of these codes on a day; codes not in the catalogue are absent. Cached per
    process, absences too (an unknown code is fully self-paid until an import adds it)."""
    cache = reference_cache(session)
    rules: dict[str, CatalogueRule] = {}
    missing = []
    for code in set(codes):
        found, rule = cache.get(CATALOGUE, (code, on))
        if not found:
            missing.append(code)
        elif rule is not None:
            rules[code] = rule
    if missing:
        read = await _catalogue_rules(session, missing, on)
        for code in missing:
            cache.put(CATALOGUE, (code, on), read.get(code))
        rules.update(read)
    return rules


def forget_catalogue(session: AsyncSession) -> None:
    reference_cache(session).forget(CATALOGUE)


async def _catalogue_rules(
    session: AsyncSession, codes: Iterable[str], on: date
) -> dict[str, CatalogueRule]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    stmt = select(CatalogueEntry).where(
        CatalogueEntry.med_list_codg.in_(wanted),
        CatalogueEntry.begin_date <= on,
        or_(CatalogueEntry.end_date.is_(None), CatalogueEntry.end_date >= on),
    )
    rules: dict[str, CatalogueRule] = {}
    for entry in (await session.execute(stmt)).scalars():
        rules[entry.med_list_codg] = CatalogueRule(
            med_list_codg=entry.med_list_codg,
            name=entry.name,
            chrgitm_lv=ItemClass(entry.chrgitm_lv),
            selfpay_bp=entry.selfpay_bp,
            price_cap_fen=entry.price_cap_fen,
        )
    return rules


async def catalogue_entry(
    session: AsyncSession, code: str, begin_date: date
) -> CatalogueEntry | None:
    stmt = select(CatalogueEntry).where(
        CatalogueEntry.med_list_codg == code, CatalogueEntry.begin_date == begin_date
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def catalogue_size(session: AsyncSession) -> int:
    from sqlalchemy import func

    return int((await session.execute(select(func.count(CatalogueEntry.id)))).scalar_one())


async def visit_by_mdtrt_id(
    session: AsyncSession, mdtrt_id: str, *, lock: bool = False
) -> Visit | None:
    stmt = select(Visit).where(Visit.mdtrt_id == mdtrt_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def visit_by_msgid(session: AsyncSession, msgid: str, fixmedins_code: str) -> Visit | None:
    stmt = (
        select(Visit)
        .where(Visit.msgid == msgid, Visit.fixmedins_code == fixmedins_code)
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def open_visit_with_fees(
    session: AsyncSession, mdtrt_id: str
) -> tuple[Visit | None, list[FeeDetail]]:
    """The visit, locked, with its fee lines: one round trip."""
    rows = (await session.execute(_VISIT_WITH_FEES, {"mdtrt_id": mdtrt_id})).all()
    if not rows:
        return None, []
    return rows[0][0], [fee for _, fee in rows if fee is not None]


_VISIT_WITH_FEES = (
    select(Visit, FeeDetail)
    .outerjoin(FeeDetail, FeeDetail.visit_id == Visit.id)
    .where(Visit.mdtrt_id == bindparam("mdtrt_id"))
    .order_by(FeeDetail.id)
    .with_for_update(of=Visit)
)


async def fees_of(session: AsyncSession, visit_id: int) -> list[FeeDetail]:
    stmt = select(FeeDetail).where(FeeDetail.visit_id == visit_id).order_by(FeeDetail.id)
    return list((await session.execute(stmt)).scalars())


async def lock_year(session: AsyncSession, person_id: int, year: int) -> YearlyAccumulation:
    """The person's accumulations of the year, locked; made on first use without a race.

    One statement: the upsert's no-op update takes the row lock and returns the row.
    """
    stmt = _lock_year_statement("postgresql" if is_postgres(session) else "sqlite")
    found = await session.execute(
        stmt, {"person_id": person_id, "year": year}, execution_options={"populate_existing": True}
    )
    accumulated: YearlyAccumulation = found.scalar_one()
    return accumulated


@lru_cache(maxsize=4)
def _lock_year_statement(dialect: str) -> Any:
    """Built once with bound parameters (building it cost more than running it)."""
    insert = (
        pg_insert(YearlyAccumulation)
        if dialect == "postgresql"
        else sqlite_insert(YearlyAccumulation)
    )
    return (
        insert.values(
            person_id=bindparam("person_id"),
            year=bindparam("year"),
            deductible_used_fen=0,
            fund_paid_fen=0,
        )
        .on_conflict_do_update(
            index_elements=["person_id", "year"],
            set_={"person_id": insert.excluded.person_id},
        )
        .returning(YearlyAccumulation)
    )


async def year_of(session: AsyncSession, person_id: int, year: int) -> YearlyAccumulation | None:
    return await session.get(YearlyAccumulation, (person_id, year))


async def mutual_aid_payers(
    session: AsyncSession, beneficiary_person_id: int, on: date
) -> list[MutualAidPayer]:
    """家庭共济 hook: the active authorisers who may pay this person's share, in order.

    Empty until the family feature fills it in from its authorisation table.
    """
    return []


async def settlement_by_setl_id(
    session: AsyncSession, setl_id: str, *, lock: bool = False
) -> Settlement | None:
    stmt = select(Settlement).where(Settlement.setl_id == setl_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def settlement_by_msgid(session: AsyncSession, msgid: str) -> Settlement | None:
    stmt = select(Settlement).where(Settlement.msgid == msgid)
    return (await session.execute(stmt)).scalar_one_or_none()


async def settlements_of_visit(session: AsyncSession, mdtrt_id: str) -> list[Settlement]:
    stmt = select(Settlement).where(Settlement.mdtrt_id == mdtrt_id).order_by(Settlement.id)
    return list((await session.execute(stmt)).scalars())


async def items_of(session: AsyncSession, settlement_id: int) -> list[SettlementItem]:
    stmt = (
        select(SettlementItem)
        .where(SettlementItem.settlement_id == settlement_id)
        .order_by(SettlementItem.id)
    )
    return list((await session.execute(stmt)).scalars())


async def shares_of(session: AsyncSession, settlement_id: int) -> list[SettlementShare]:
    stmt = select(SettlementShare).where(SettlementShare.settlement_id == settlement_id)
    return list((await session.execute(stmt)).scalars())


async def settlements_of_person(
    session: AsyncSession, person_id: int, *, limit: int = 50
) -> list[Settlement]:
    stmt = (
        select(Settlement)
        .where(Settlement.person_id == person_id)
        .order_by(Settlement.setl_time.desc(), Settlement.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def store_answer(
    session: AsyncSession,
    *,
    msgid: str,
    infno: str,
    fixmedins_code: str,
    answer: str,
    now: datetime,
) -> None:
    """The msgid's claim: its primary key refuses a second copy (which then waits for this
    transaction, and fails once it commits)."""
    await session.execute(
        _STORE_ANSWER,
        {
            "msgid": msgid,
            "infno": infno,
            "fixmedins_code": fixmedins_code,
            "answer": answer,
            "created_at": now,
        },
    )


_STORE_ANSWER = insert(InterfaceMessage).values(
    {c: bindparam(c) for c in ("msgid", "infno", "fixmedins_code", "answer", "created_at")}
)


async def write_settlement(
    session: AsyncSession,
    *,
    settlement: dict[str, Any],
    items: list[dict[str, Any]],
    entry: dict[str, Any] | None,
    account: PersonalAccount | None,
    visit: Visit | None,
    year: YearlyAccumulation,
    year_after: YearToDate,
    notices: list[dict[str, Any]],
) -> int:
    """PostgreSQL: a settlement's writes in one statement of data-modifying CTEs; its id.

    The settlement row and its items, the ledger entry and the account's new balance (from
    `ledger.repository.entry_row`), the visit marked settled, the year's accumulations and the
    holder's notices. The database's own guards (CHECK on the balance, unique keys, the ledger's
    append-only trigger) apply to each part as they would to separate statements, and the
    in-memory rows are moved as written so the session flushes nothing twice.
    """
    paid = entry is not None and account is not None
    statement = _settlement_statement(
        tuple(settlement),
        tuple(items[0]) if items else (),
        len(items),
        tuple(entry) if entry is not None and paid else (),
        visit is not None,
        tuple(notices[0]) if notices else (),
        len(notices),
    )
    params: dict[str, Any] = {f"s_{k}": v for k, v in settlement.items()}
    for n, item in enumerate(items):
        params.update({f"i{n}_{k}": v for k, v in item.items()})
    if entry is not None and account is not None:
        params.update({f"e_{k}": v for k, v in entry.items()})
        params.update(a_id=account.id)  # its balance moved in memory in entry_row
    if visit is not None:
        params["v_id"] = visit.id
        set_committed_value(visit, "status", "settled")
    for n, notice in enumerate(notices):
        params.update({f"n{n}_{k}": v for k, v in notice.items()})
    params.update(
        y_person=year.person_id,
        y_year=year.year,
        y_dedc=year_after.deductible_used_fen,
        y_fund=year_after.fund_paid_fen,
    )
    set_committed_value(year, "deductible_used_fen", year_after.deductible_used_fen)
    set_committed_value(year, "fund_paid_fen", year_after.fund_paid_fen)
    settlement_id: int = (await session.execute(statement, params)).scalar_one()
    return settlement_id


@lru_cache(maxsize=64)
def _settlement_statement(
    settlement: tuple[str, ...],
    item_columns: tuple[str, ...],
    items: int,
    entry: tuple[str, ...],
    visit: bool,
    notice_columns: tuple[str, ...],
    notices: int,
) -> Any:
    """Built once per shape with named parameters: building and keying a statement this size
    costs more than running it."""
    new = (
        insert(Settlement)
        .values({c: bindparam(f"s_{c}") for c in settlement})
        .returning(Settlement.id)
        .cte("new_settlement")
    )
    parts: list[Any] = []
    if items:
        table = SettlementItem.__table__
        rows = union_all(
            *(
                select(
                    new.c.id,
                    *(bindparam(f"i{n}_{c}", type_=table.c[c].type) for c in item_columns),
                )
                for n in range(items)
            )
        )
        parts.append(
            insert(SettlementItem)
            .from_select(["settlement_id", *item_columns], rows)
            .cte("new_items")
        )
    if entry:
        parts.append(
            insert(LedgerEntry).values({c: bindparam(f"e_{c}") for c in entry}).cte("new_entry")
        )
        parts.append(
            update(PersonalAccount)
            .where(PersonalAccount.id == bindparam("a_id"))
            .values(
                balance_fen=bindparam("e_balance_after_fen"), updated_at=bindparam("e_created_at")
            )
            .cte("paid_from_account")
        )
    if visit:
        parts.append(
            update(Visit)
            .where(Visit.id == bindparam("v_id"))
            .values(status="settled")
            .cte("visit_settled")
        )
    parts.append(
        update(YearlyAccumulation)
        .where(
            YearlyAccumulation.person_id == bindparam("y_person"),
            YearlyAccumulation.year == bindparam("y_year"),
        )
        .values(deductible_used_fen=bindparam("y_dedc"), fund_paid_fen=bindparam("y_fund"))
        .cte("year_moved")
    )
    # One CTE per notice: a multi-row VALUES would make the statement uncacheable.
    parts.extend(
        insert(OutboxMessage)
        .values({c: bindparam(f"n{n}_{c}") for c in notice_columns})
        .cte(f"notice_{n}")
        for n in range(notices)
    )
    return select(new.c.id).add_cte(*parts)


async def answered_message(session: AsyncSession, msgid: str) -> InterfaceMessage | None:
    stmt = select(InterfaceMessage).where(InterfaceMessage.msgid == msgid)
    return (await session.execute(stmt)).scalar_one_or_none()
