"""The monthly crediting run on both databases: every employee credited from the file and every
retiree from enrolment, exactly once; a second run changes nothing; a 补缴 or corrected line
credits only the difference; every bad line is in the report with its reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.crediting import (
    REGION,
    RETIREE_FEN,
    Member,
    balances,
    count,
    entry_sums,
    province,
    write_file,
)
from yibao.crediting import service as crediting
from yibao.crediting.domain import InvalidRun, RunAlreadyOpen
from yibao.crediting.tables import CreditingRun
from yibao.kernel.clock import FixedClock
from yibao.runtime import Runtime

MONTH = "2026-11"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 12, 7, 2, 0, tzinfo=UTC))


async def _run(
    rt: Runtime, db: AsyncSession, path: Path, *, month: str = MONTH, batch: int = 3
) -> CreditingRun:
    started = await crediting.start_run(
        db, rt.clock, month=month, source=path, region=None, by="cli:test", approved=True
    )
    return await crediting.execute(
        db, rt.cipher, rt.clock, started.id, load_batch=batch, credit_batch=batch
    )


def _wrong_check_digit(id_number: str) -> str:
    """The same number with a check digit that is not its own (a fixed "0" is right 1 time in 11)."""
    return id_number[:17] + ("1" if id_number[17] == "0" else "0")


async def _report(db: AsyncSession, run: CreditingRun) -> dict[tuple[str, int], str]:
    return {(r.file, r.line_no): r.code async for r in crediting.refused_report(db, run)}


async def test_a_month_credits_employees_from_the_file_and_retirees_from_enrolment(
    rt: Runtime, db: AsyncSession, tmp_path: Path
) -> None:
    members = await province(rt, db, employees=7, retirees=3)
    path = write_file(tmp_path / "month.csv", MONTH, members)

    run = await _run(rt, db, path)

    assert run.state == "done"
    assert (run.credited_count, run.refused_count, run.unchanged_count) == (10, 0, 0)
    expected = {m.person_id: m.credit_fen for m in members}
    assert run.credited_fen == sum(expected.values())
    assert await balances(db) == expected
    assert await entry_sums(db) == expected
    assert await count(db, "SELECT COUNT(*) FROM contributions") == 10
    assert (
        await count(db, f"SELECT COUNT(*) FROM contributions WHERE credited_fen = {RETIREE_FEN}")
        >= 3
    )
    # One in-app notice per credit, nothing by SMS.
    assert await count(db, "SELECT COUNT(*) FROM outbox_messages WHERE channel = 'inapp'") == 10
    assert await count(db, "SELECT COUNT(*) FROM outbox_messages WHERE channel = 'sms'") == 0
    totals = await crediting.run_totals(db, run)
    assert sum(t.credited_fen for t in totals) == run.credited_fen
    assert {t.origin for t in totals} == {"file", "retiree"}
    assert all(t.admdvs == REGION for t in totals)


async def test_running_the_month_again_changes_nothing(
    rt: Runtime, db: AsyncSession, tmp_path: Path
) -> None:
    members = await province(rt, db, employees=5, retirees=2)
    path = write_file(tmp_path / "month.csv", MONTH, members)
    await _run(rt, db, path)
    before = (await balances(db), await count(db, "SELECT COUNT(*) FROM ledger_entries"))

    again = await _run(rt, db, path)

    assert (again.credited_count, again.credited_fen, again.unchanged_count) == (0, 0, 7)
    assert (await balances(db), await count(db, "SELECT COUNT(*) FROM ledger_entries")) == before
    assert await count(db, "SELECT COUNT(*) FROM outbox_messages") == 7


async def test_a_backpaid_or_corrected_line_credits_only_the_difference(
    rt: Runtime, db: AsyncSession, tmp_path: Path
) -> None:
    members = await province(rt, db, employees=3, retirees=0)
    a, b, c = members
    # October: a paid nothing (欠费), b paid on a base later corrected upwards.
    october = tmp_path / "october.csv"
    october.write_text(
        "id_number,month,base,employer_amount,personal_amount\n"
        f"{a.id_number},2026-10,5000.00,0,0\n" + b.line("2026-10"),
        encoding="utf-8",
    )
    await _run(rt, db, october, month="2026-10")
    credited_before = await balances(db)
    assert credited_before[a.person_id] == 0
    assert credited_before[b.person_id] == b.credit_fen

    # November's file carries a's 补缴 for October and b's corrected October base.
    november = tmp_path / "november.csv"
    november.write_text(
        "id_number,month,base,employer_amount,personal_amount\n"
        + a.line("2026-10")
        + b.line("2026-10", base_fen=b.base_fen + 100_000)
        + c.line(MONTH),
        encoding="utf-8",
    )
    run = await _run(rt, db, november)

    after = await balances(db)
    assert after[a.person_id] == a.credit_fen  # the whole month, now paid
    assert after[b.person_id] == b.credit_fen + 2_000  # 2% of the 1,000.00 more
    assert after[c.person_id] == c.credit_fen
    assert run.credited_count == 3
    assert (
        await count(
            db, f"SELECT COUNT(*) FROM ledger_entries WHERE idempotency_key LIKE '%run{run.id}'"
        )
        == 2
    )
    assert await entry_sums(db) == after
    # A decrease is not taken back by a run: refused, for staff to adjust.
    lower = tmp_path / "lower.csv"
    lower.write_text(
        "id_number,month,base,employer_amount,personal_amount\n"
        + b.line("2026-10", base_fen=b.base_fen),
        encoding="utf-8",
    )
    refused = await _run(rt, db, lower)
    assert refused.refused_count == 1
    assert await balances(db) == after


async def test_each_bad_line_is_reported_and_never_stops_the_others(
    rt: Runtime, db: AsyncSession, tmp_path: Path
) -> None:
    members = await province(rt, db, employees=4, retirees=1)
    good = [m for m in members if not m.retired]
    retiree = next(m for m in members if m.retired)
    from tests.support import world

    stranger = world.new_id_number(birth=datetime(1990, 3, 3).date())
    body = (
        good[0].line(MONTH)  # line 2: fine
        + good[1].line(MONTH)
        + good[1].line(MONTH)  # 3, 4: the same person-month twice
        + retiree.line(MONTH)  # 5: a retiree in the employee file
        + f"{stranger},{MONTH},5000.00,400.00,100.00\n"  # 6: not enrolled
        + f"{good[2].id_number},{MONTH},5000.001,400.00,100.00\n"  # 7: three decimals
        + f"{good[2].id_number},2027-01,5000.00,400.00,100.00\n"  # 8: a month in the future
        + f"{good[2].id_number},{MONTH}\n"  # 9: missing fields
        + f"{_wrong_check_digit(good[2].id_number)},{MONTH},5000.00,400.00,100.00\n"  # 10
    )
    path = tmp_path / "month.csv"
    path.write_bytes(
        (("id_number,month,base,employer_amount,personal_amount\n" + body).encode())
        + f"{good[3].id_number},{MONTH},5000.00,400.00,100.00,备注\n".encode("gbk")  # 11
    )
    run = await _run(rt, db, path)

    report = await _report(db, run)
    assert report == {
        ("month.csv", 3): "duplicate",
        ("month.csv", 4): "duplicate",
        ("month.csv", 5): "retiree_in_file",
        ("month.csv", 6): "not_enrolled",
        ("month.csv", 7): "amount",
        ("month.csv", 8): "future_month",
        ("month.csv", 9): "missing_field",
        ("month.csv", 10): "id_number",
        ("month.csv", 11): "encoding",
    }
    after = await balances(db)
    assert after[good[0].person_id] == good[0].credit_fen
    assert after[good[1].person_id] == 0  # nothing half-credited from a doubled line
    assert after[retiree.person_id] == RETIREE_FEN  # from enrolment, once
    assert run.refused_count == 9
    # No full ID number in the report.
    async for line in crediting.refused_report(db, run):
        assert line.id_number_masked == "" or "*" in line.id_number_masked


async def test_a_file_without_a_needed_column_or_in_another_encoding_is_one_refused_line(
    rt: Runtime, db: AsyncSession, tmp_path: Path
) -> None:
    members = await province(rt, db, employees=2, retirees=0)
    folder = tmp_path / "employers"
    folder.mkdir()
    write_file(folder / "a.csv", MONTH, members[:1])
    (folder / "b.csv").write_text(
        "id_number,month,base,employer_amount\n" + f"{members[1].id_number},{MONTH},1,1\n",
        encoding="utf-8",
    )
    (folder / "c.csv").write_bytes("身份证号,月份\n1,2\n".encode("gbk"))

    run = await _run(rt, db, folder)

    assert await _report(db, run) == {("b.csv", 1): "header", ("c.csv", 1): "encoding"}
    assert run.credited_count == 1
    lines = [r async for r in crediting.refused_report(db, run)]
    assert "personal_amount" in next(r.reason for r in lines if r.file == "b.csv")


async def test_only_one_run_is_open_and_a_future_month_is_refused(
    rt: Runtime, db: AsyncSession, tmp_path: Path
) -> None:
    members: list[Member] = await province(rt, db, employees=1, retirees=0)
    path = write_file(tmp_path / "month.csv", MONTH, members)
    await crediting.start_run(
        db, rt.clock, month=MONTH, source=path, region=None, by="a", approved=True
    )
    with pytest.raises(RunAlreadyOpen):
        await crediting.start_run(
            db, rt.clock, month=MONTH, source=path, region=None, by="a", approved=True
        )
    with pytest.raises(InvalidRun):
        await crediting.start_run(
            db, rt.clock, month="2027-01", source=path, region=None, by="a", approved=False
        )


async def test_a_run_of_one_region_credits_nobody_of_another(
    rt: Runtime, db: AsyncSession, tmp_path: Path
) -> None:
    members = await province(rt, db, employees=2, retirees=1)
    path = write_file(tmp_path / "month.csv", MONTH, members)
    started = await crediting.start_run(
        db, rt.clock, month=MONTH, source=path, region="440300", by="cli:test", approved=True
    )
    run = await crediting.execute(db, rt.cipher, rt.clock, started.id)

    assert (run.credited_count, run.refused_count) == (0, 2)
    assert set((await _report(db, run)).values()) == {"other_region"}
    assert set((await balances(db)).values()) == {0}
