"""A small province for crediting runs: employees with a base each, retirees, the month's file,
and what the books say afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import world
from yibao.enrolment import service as enrolment
from yibao.enrolment.tables import Enrolment, Person
from yibao.kernel.money import apply_rate_bp, format_yuan
from yibao.ledger.tables import PersonalAccount
from yibao.runtime import Runtime

# 上海市 in the demo regions: 2% of the base; retirees 163.00 a month.
REGION = "310000"
RATE_BP = 200
RETIREE_FEN = 16300
HEADER = "id_number,month,base,employer_amount,personal_amount\n"


@dataclass(frozen=True)
class Member:
    person_id: int
    id_number: str
    base_fen: int
    retired: bool

    @property
    def credit_fen(self) -> int:
        return RETIREE_FEN if self.retired else apply_rate_bp(self.base_fen, RATE_BP)

    def line(self, month: str, base_fen: int | None = None) -> str:
        base = self.base_fen if base_fen is None else base_fen
        return (
            f"{self.id_number},{month},{format_yuan(base)},"
            f"{format_yuan(base * 8 // 100)},{format_yuan(base * 2 // 100)}\n"
        )


async def province(
    runtime: Runtime, session: AsyncSession, *, employees: int, retirees: int
) -> list[Member]:
    await world.define_regions(session)
    members = []
    for n in range(employees + retirees):
        retired = n >= employees
        id_number = world.new_id_number(
            birth=date(1950 if retired else 1975, 1 + n % 12, 1 + n % 28)
        )
        enrolled = await enrolment.enrol_person(
            session,
            runtime.cipher,
            runtime.clock,
            enrolment.NewPerson(
                name=f"划账{n}",
                id_number=id_number,
                phone=world.new_phone(),
                admdvs=REGION,
                insutype="310",
                psn_type="1201" if retired else "1101",
                employer=None if retired else f"划账单位{n % 2}",
                begin_date=date(2020, 1, 1),
            ),
        )
        members.append(Member(enrolled.person.id, id_number, 500_000 + 1_357 * n, retired))
    return members


def write_file(path: Path, month: str, members: list[Member], extra: str = "") -> Path:
    path.write_text(
        HEADER + "".join(m.line(month) for m in members if not m.retired) + extra, encoding="utf-8"
    )
    return path


async def balances(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(text("SELECT person_id, balance_fen FROM personal_accounts"))
    found = {r[0]: r[1] for r in rows}
    await session.commit()  # end the read: SQLite holds its write lock until then
    return found


async def entry_sums(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        text(
            "SELECT a.person_id, SUM(e.amount_fen) FROM ledger_entries e"
            " JOIN personal_accounts a ON a.id = e.account_id GROUP BY a.person_id"
        )
    )
    found = {r[0]: r[1] for r in rows}
    await session.commit()
    return found


async def count(session: AsyncSession, sql: str) -> int:
    found = int((await session.execute(text(sql))).scalar_one())
    await session.commit()
    return found


async def many_retirees(session: AsyncSession, n: int, start: int = 900_000) -> list[Member]:
    """`n` retirees written straight into the tables (a run's length, not enrolment, is under
    test): they need no ID number a file could name, so theirs are placeholders."""
    now = datetime.now(UTC)
    persons, enrolments, accounts = [], [], []
    for k in range(start, start + n):
        persons.append(
            {"id": k, "psn_no": f"R{k}", "name": f"退休{k}", "id_number_enc": b"-",
             "id_number_hash": f"retiree-{k}", "id_number_masked": "110***********000X",
             "gender": "1", "birth_date": date(1950, 1, 1), "created_at": now}
        )  # fmt: skip
        enrolments.append(
            {"person_id": k, "insutype": "310", "psn_type": "1201", "status": "1",
             "admdvs": REGION, "employer_id": None, "begin_date": date(2020, 1, 1)}
        )  # fmt: skip
        accounts.append(
            {"person_id": k, "balance_fen": 0, "status": "active", "opened_at": now,
             "updated_at": now}
        )  # fmt: skip
    await session.execute(insert(Person), persons)
    await session.execute(insert(Enrolment), enrolments)
    await session.execute(insert(PersonalAccount), accounts)
    await session.commit()
    return [Member(k, "", 0, True) for k in range(start, start + n)]
