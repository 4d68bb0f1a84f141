"""The demo world loads fast enough for a first start, through the real use cases.

Not a timed test: what made the first start slow was the number of statements a contribution
import sent (several per person and per row), so the import's statement count is held here,
and the demo world it builds is checked for being complete and true.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from tests.support.world import define_regions, enrol, new_id_number
from yibao.cli.demo import DEMO_ID_NUMBER, DEMO_PASSWORD, DEMO_PHONE
from yibao.cli.main import app
from yibao.config import Settings
from yibao.contributions import service as contributions
from yibao.contributions.tables import Contribution
from yibao.enrolment.repository import person_by_id_number
from yibao.identity import service as identity
from yibao.ledger.tables import LedgerEntry, PersonalAccount
from yibao.runtime import Runtime, build_runtime
from yibao.settlement.tables import Settlement


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    """Every statement any engine of this process sends, while the block runs."""
    sent: list[str] = []

    def _count(*args: Any) -> None:
        sent.append(args[2])

    event.listen(Engine, "before_cursor_execute", _count)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", _count)


async def _ledger_is_true(session: AsyncSession) -> None:
    """Every account's balance is the sum of its entries, and every credited contribution has
    its entry of the same amount on its holder's account."""
    sums = dict(
        (
            await session.execute(
                select(LedgerEntry.account_id, func.sum(LedgerEntry.amount_fen)).group_by(
                    LedgerEntry.account_id
                )
            )
        ).all()
    )
    for account in (await session.execute(select(PersonalAccount))).scalars():
        assert account.balance_fen == sums.get(account.id, 0) >= 0
    credited = (
        await session.execute(
            select(Contribution, LedgerEntry, PersonalAccount)
            .join(LedgerEntry, LedgerEntry.id == Contribution.ledger_entry_id)
            .join(PersonalAccount, PersonalAccount.id == LedgerEntry.account_id)
            .where(Contribution.credited_fen > 0)
        )
    ).all()
    wanted = await session.scalar(
        select(func.count()).select_from(Contribution).where(Contribution.credited_fen > 0)
    )
    assert len(credited) == wanted
    for contribution, entry, account in credited:
        assert entry.amount_fen == contribution.credited_fen
        assert account.person_id == contribution.person_id
        assert entry.kind == "contribution_credit"


async def test_import_sends_a_few_statements_whatever_the_number_of_rows(
    runtime: Runtime, session: AsyncSession
) -> None:
    await define_regions(session)
    numbers = [new_id_number() for _ in range(30)]
    for number in numbers:
        await enrol(runtime, session, id_number=number)
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    rows = [
        (
            n,
            contributions.ContributionRow(
                id_number=number,
                month=month,
                base="8000.00",
                employer_amount="720.00",
                personal_amount="160.00",
                arrived_on=date(2026, 1, 15),
            ),
        )
        for n, (number, month) in enumerate(((i, m) for i in numbers for m in months), start=1)
    ]
    with counted_statements() as sent:
        report = await contributions.import_contributions(
            session, runtime.cipher, runtime.clock, rows
        )
    assert not report.errors and report.loaded == 360
    assert report.credited_fen == 360 * 16000  # 2% of 8000.00, credited to each account
    # Read the persons, their enrolments, their accounts (locked), what is recorded, the keys;
    # write the entries, read them back, move the balances, write the records; commit. One
    # statement per person or per row (as before: about 1,100 here) is what made the demo slow.
    assert len(sent) <= 20, sent
    await _ledger_is_true(session)
    balances = (await session.execute(select(PersonalAccount.balance_fen))).scalars().all()
    assert sorted(balances) == [12 * 16000] * 30

    # The same file again changes nothing and is as cheap.
    with counted_statements() as sent:
        again = await contributions.import_contributions(
            session, runtime.cipher, runtime.clock, rows
        )
    assert (again.loaded, again.unchanged, again.errors) == (0, 360, [])
    assert len(sent) <= 20, sent
    await _ledger_is_true(session)


def test_demo_world_is_complete_and_its_figures_true(cli_env: Settings) -> None:
    result = CliRunner().invoke(app, ["demo", "--persons", "30", "--json"])
    assert result.exit_code == 0, result.output
    made = json.loads(result.output)
    assert made["persons"] == 30 and made["settlements"] >= 12
    asyncio.run(_check_demo_world(cli_env, made))


async def _check_demo_world(cli_env: Settings, made: dict[str, Any]) -> None:
    runtime = build_runtime(cli_env)
    try:
        async with runtime.sessions() as s:
            me = await person_by_id_number(s, runtime.cipher, DEMO_ID_NUMBER)
            assert me is not None
            settled = await s.scalar(
                select(func.count()).select_from(Settlement).where(Settlement.person_id == me.id)
            )
            assert settled == 12
            assert made["settlements"] == await s.scalar(
                select(func.count()).select_from(Settlement)
            )
            # 24 months for the demo person, none skipped, each credited through the ledger.
            mine = await s.scalar(
                select(func.count())
                .select_from(Contribution)
                .where(Contribution.person_id == me.id, Contribution.ledger_entry_id.is_not(None))
            )
            assert mine == 24
            assert made["contributions"] == await s.scalar(
                select(func.count()).select_from(Contribution)
            )
            await _ledger_is_true(s)
        async with runtime.sessions() as s:
            issued = await identity.sign_in_with_password(
                runtime, s, DEMO_PHONE, DEMO_PASSWORD, via="cookie", client="127.0.0.1"
            )
            assert issued.session_id
    finally:
        await runtime.close()
