"""Queries and row locks of settlement. Never commits: the calling use case does.

Every lookup on the hot path is keyed (msgid, paasid, psn_no, mdtrt_id, setl_id, person and year),
so a settlement touches one person's rows and the reference tables only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.direct import Sql, direct
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import Cover, InsuredPerson
from yibao.family import repository as family_repository
from yibao.settlement.domain import FeeLine, MutualAidPayer, VisitState, YearToDate
from yibao.settlement.repository.reference import CATALOGUE as CATALOGUE
from yibao.settlement.repository.reference import GATEWAY as GATEWAY
from yibao.settlement.repository.reference import GatewayEntry as GatewayEntry
from yibao.settlement.repository.reference import catalogue_rules as catalogue_rules
from yibao.settlement.repository.reference import forget_catalogue as forget_catalogue
from yibao.settlement.repository.reference import forget_institution as forget_institution
from yibao.settlement.repository.reference import gateway_entry as gateway_entry
from yibao.settlement.repository.reference import institution_by_paasid as institution_by_paasid
from yibao.settlement.repository.writing import SharePaid as SharePaid
from yibao.settlement.repository.writing import YearMove as YearMove
from yibao.settlement.repository.writing import move_year as move_year
from yibao.settlement.repository.writing import write_settlement as write_settlement
from yibao.settlement.tables import (
    CatalogueEntry,
    FeeDetail,
    Institution,
    InterfaceMessage,
    Settlement,
    SettlementItem,
    SettlementShare,
    Visit,
)


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


async def catalogue_entry(
    session: AsyncSession, code: str, begin_date: date
) -> CatalogueEntry | None:
    stmt = select(CatalogueEntry).where(
        CatalogueEntry.med_list_codg == code, CatalogueEntry.begin_date == begin_date
    )
    return (await session.execute(stmt)).scalar_one_or_none()


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


async def insured_with_open_visit(
    session: AsyncSession, psn_no: str, mdtrt_id: str
) -> tuple[tuple[InsuredPerson, list[Cover]] | None, VisitState | None, list[FeeLine]]:
    """The person with their enrolments, and the visit (locked) with its fee lines: one round
    trip on the driver for a hospital's 2206/2207, checked by the caller in the usual order."""
    db = await direct(session, transaction=True)
    rows = await db.fetch(_INSURED_WITH_VISIT, psn_no=psn_no, mdtrt_id=mdtrt_id)
    insured = enrolment_repository.insured_of([r for r in rows if r["part"] == "p"])
    visited = [r for r in rows if r["part"] == "v"]
    if not visited:
        return insured, None, []
    first = visited[0]
    lines = [r for r in visited if r["feedetl_sn"] is not None]
    visit = VisitState(
        first["id"],
        first["v_mdtrt_id"],
        first["v_person_id"],
        first["v_fixmedins_code"],
        first["v_status"],
        (len(lines), max((r["k2"] for r in lines), default=0)),
    )
    return (
        insured,
        visit,
        [
            FeeLine(
                r["feedetl_sn"],
                r["med_list_codg"],
                r["pric_fen"],
                Decimal(r["cnt"]),
                r["det_item_fee_sumamt_fen"],
            )
            for r in lines
        ],
    )


# The visit's id goes in the person's `id` column; NULL for the other 11 INSURED_COLUMNS.
_NO_PERSON = ", ".join(["NULL"] * 11)
# Fixed fragments of this module; every value is a bound parameter.
_INSURED_WITH_VISIT = Sql(
    f"""
    WITH visit AS (
        SELECT id, mdtrt_id, person_id, fixmedins_code, status FROM visits
        WHERE mdtrt_id = :mdtrt_id
        FOR UPDATE
    )
    SELECT 'p' AS part, {enrolment_repository.INSURED_COLUMNS},
           NULL AS v_mdtrt_id, NULL AS v_person_id, NULL AS v_fixmedins_code, NULL AS v_status,
           NULL AS feedetl_sn, NULL AS med_list_codg, NULL AS pric_fen, NULL AS cnt,
           NULL AS det_item_fee_sumamt_fen, e.insutype AS k1, e.id AS k2
    FROM persons p
    LEFT JOIN enrolments e ON e.person_id = p.id
    WHERE p.psn_no = :psn_no
    UNION ALL
    SELECT 'v', v.id, {_NO_PERSON}, v.mdtrt_id, v.person_id, v.fixmedins_code, v.status,
           f.feedetl_sn, f.med_list_codg, f.pric_fen, f.cnt, f.det_item_fee_sumamt_fen,
           NULL, f.id
    FROM visit v
    LEFT JOIN fee_details f ON f.visit_id = v.id
    ORDER BY part, k1, k2
    """,  # noqa: S608
    dates=("birth_date",),
)


async def fees_of(session: AsyncSession, visit_id: int) -> list[FeeDetail]:
    stmt = select(FeeDetail).where(FeeDetail.visit_id == visit_id).order_by(FeeDetail.id)
    return list((await session.execute(stmt)).scalars())


async def visit_of_upload(
    session: AsyncSession, person_id: int, fixmedins_code: str, msgid: str
) -> str | None:
    """The mdtrt_id of the visit whose lines the 2204 `msgid` uploaded, if any are left; keyed
    by the person (their visits, then each visit's lines), as fee lines carry no person."""
    stmt = (
        select(Visit.mdtrt_id)
        .join(FeeDetail, FeeDetail.visit_id == Visit.id)
        .where(
            Visit.person_id == person_id,
            Visit.fixmedins_code == fixmedins_code,
            FeeDetail.msgid == msgid,
        )
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def withdraw_fees(session: AsyncSession, visit_id: int, msgid: str) -> int:
    """Delete the lines the 2204 `msgid` uploaded to the visit (locked by the caller); how many.

    Deleted, not marked: an unsettled line is not yet a bill, nothing refers to it, and its
    feedetl_sn must be free for the corrected upload.
    """
    result = await session.execute(
        delete(FeeDetail).where(FeeDetail.visit_id == visit_id, FeeDetail.msgid == msgid)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def lock_year(session: AsyncSession, person_id: int, year: int) -> YearToDate:
    """The person's accumulations of the year, locked (on the driver, in the use case's
    transaction); made on first use without a race. `move_year` (or the settlement's own
    statement) writes them back."""
    db = await direct(session, transaction=True)
    # The row exists for every settlement but a person's first of the year: locking it is one
    # WAL record, where the upsert's no-op update writes a new version of the row as well (and
    # the settlement's UPDATE then a third). The upsert stays for the first of the year, where two
    # messages at once must not both insert (docs/tuning.md, "What a settlement writes").
    row = await db.fetchrow(_LOCKED_YEAR, person_id=person_id, year=year)
    if row is None:
        row = await db.fetchrow(_LOCK_YEAR, person_id=person_id, year=year)
    assert row is not None
    return YearToDate(row["deductible_used_fen"], row["fund_paid_fen"])


async def year_to_date(session: AsyncSession, person_id: int, year: int) -> YearToDate | None:
    db = await direct(session, transaction=True)
    row = await db.fetchrow(_YEAR, person_id=person_id, year=year)
    return None if row is None else YearToDate(row["deductible_used_fen"], row["fund_paid_fen"])


_LOCKED_YEAR = Sql(
    "SELECT deductible_used_fen, fund_paid_fen FROM yearly_accumulations"
    " WHERE person_id = :person_id AND year = :year FOR UPDATE"
)
# The upsert's no-op update takes the row lock and returns the row (PostgreSQL and SQLite).
_LOCK_YEAR = Sql(
    """
    INSERT INTO yearly_accumulations (person_id, year, deductible_used_fen, fund_paid_fen)
    VALUES (:person_id, :year, 0, 0)
    ON CONFLICT (person_id, year) DO UPDATE SET person_id = excluded.person_id
    RETURNING deductible_used_fen, fund_paid_fen
    """
)
_YEAR = Sql(
    "SELECT deductible_used_fen, fund_paid_fen FROM yearly_accumulations"
    " WHERE person_id = :person_id AND year = :year"
)


async def mutual_aid_payers(
    session: AsyncSession, beneficiary_person_id: int, on: date
) -> list[MutualAidPayer]:
    """家庭共济 hook: the active authorisers who may pay this person's share, in order.

    The family feature locks their authorisation rows (before settlement locks any account) and
    gives each one's quota left this year; see `family.repository.payers_for`.
    """
    return [
        MutualAidPayer(
            payer_person_id=p.payer_person_id,
            account_id=p.account_id,
            quota_remaining_fen=p.quota_remaining_fen,
            order=p.order,
            authorisation_id=p.authorisation_id,
        )
        for p in await family_repository.payers_for(session, beneficiary_person_id, on)
    ]


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


async def store_answer(
    session: AsyncSession,
    *,
    msgid: str,
    infno: str,
    fixmedins_code: str,
    answer: str,
    digest: str | None,
    now: datetime,
) -> None:
    """The msgid's claim: its primary key refuses a second copy (which then waits for this
    transaction, and fails once it commits). The content's digest rides in the same row, so
    telling a retry from another message costs no statement of its own."""
    db = await direct(session, transaction=True)
    await db.execute(
        _STORE_ANSWER,
        msgid=msgid,
        infno=infno,
        fixmedins_code=fixmedins_code,
        answer=answer,
        digest=digest,
        created_at=now,
    )


_STORE_ANSWER = Sql(
    "INSERT INTO fsi_messages (msgid, infno, fixmedins_code, answer, digest, created_at)"
    " VALUES (:msgid, :infno, :fixmedins_code, :answer, :digest, :created_at)"
)


@dataclass(frozen=True, slots=True)
class EcToken:
    person_id: int
    expires_at: datetime
    used_at: datetime | None


async def ec_token(session: AsyncSession, digest: str) -> EcToken | None:
    """An ecToken's holder, expiry and use (on the driver: settling's hot path)."""
    row = await (await direct(session, transaction=True)).fetchrow(_EC_TOKEN, digest=digest)
    return None if row is None else EcToken(row["person_id"], row["expires_at"], row["used_at"])


async def spend_ec_token(
    session: AsyncSession, digest: str, person_id: int, setl_id: str, now: datetime
) -> bool:
    """Spend it for this settlement; False when it was not this person's, live and unspent (a
    conditional UPDATE: one transaction in any process wins)."""
    db = await direct(session, transaction=True)
    spent = await db.fetchrow(
        _SPEND_EC_TOKEN, digest=digest, person_id=person_id, setl_id=setl_id, now=now
    )
    return spent is not None


_EC_TOKEN = Sql(
    "SELECT person_id, expires_at, used_at FROM ec_tokens WHERE token_hash = :digest",
    datetimes=("expires_at", "used_at"),
)
_SPEND_EC_TOKEN = Sql(
    "UPDATE ec_tokens SET used_at = :now, setl_id = :setl_id"
    " WHERE token_hash = :digest AND person_id = :person_id AND used_at IS NULL"
    " AND expires_at > :now RETURNING token_hash"
)


async def answered_message(session: AsyncSession, msgid: str) -> InterfaceMessage | None:
    stmt = select(InterfaceMessage).where(InterfaceMessage.msgid == msgid)
    return (await session.execute(stmt)).scalar_one_or_none()
