"""异地就医备案 use cases on SQLite and PostgreSQL: file, cover, change, cancel, audit, rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.support.family import employee, member, photo, world
from yibao.config import Settings
from yibao.filings import repository as filings_repository
from yibao.filings import service as filings
from yibao.filings.domain import (
    DocumentKind,
    FilingConflict,
    FilingKind,
    FilingNotAllowed,
    FilingState,
    InvalidFiling,
    RegionFilingRules,
    UnknownFiling,
)
from yibao.kernel.actors import StaffActor
from yibao.kernel.clock import FixedClock, china_today
from yibao.kernel.uploads import UploadRefused
from yibao.runtime import Runtime, build_runtime

ADMIN = StaffActor(staff_id=1, name="管理员", roles=frozenset({"admin"}), office="测试经办中心")
CLERK = StaffActor(staff_id=2, name="经办员乙", roles=frozenset({"clerk"}), office="测试经办中心")


def working_away(rt: Runtime, **over: object) -> filings.Application:
    args: dict[str, object] = {
        "kind": FilingKind.WORKING_AWAY,
        "treatment_admdvs": "460200",
        "treatment_name": "海南省三亚市",
        "begins": china_today(rt.clock),
        "document_kind": DocumentKind.DECLARATION,
        "document_note": "三亚市吉阳区迎宾路1号 某公司",
    }
    args.update(over)
    return filings.Application(**args)  # type: ignore[arg-type]


async def count(rt: Runtime, sql: str) -> int:
    async with rt.sessions() as s:
        return int((await s.execute(text(sql))).scalar_one())


async def test_a_filing_covers_treatment_in_its_region_until_cancelled(
    rt: Runtime, clock: FixedClock
) -> None:
    await world(rt)
    m = await employee(rt)
    actor = filings.person_actor(m.person_id, m.name)
    today = china_today(clock)
    async with rt.sessions() as s:
        made = await filings.file(s, clock, actor, m.person_id, working_away(rt))
    assert (
        made.state is FilingState.ACTIVE and made.ends is None and made.insured_admdvs == "310000"
    )
    async with rt.sessions() as s:
        found = await filings_repository.covering_filing(s, m.person_id, "460202", today)
        assert found is not None and found.id == made.id
        assert await filings_repository.covering_filing(s, m.person_id, "460100", today) is None
        assert (
            await filings_repository.covering_filing(
                s, m.person_id, "460200", today - timedelta(days=1)
            )
            is None
        )
    # Not yet six months: the region's default refuses a cancellation.
    async with rt.sessions() as s:
        with pytest.raises(FilingNotAllowed, match="6 个月"):
            await filings.cancel(s, clock, actor, m.person_id, made.id, "回上海了")
    clock.advance(timedelta(days=200))
    async with rt.sessions() as s:
        done = await filings.cancel(s, clock, actor, m.person_id, made.id, "回上海了")
    assert done.state is FilingState.CANCELLED
    async with rt.sessions() as s:
        assert (
            await filings_repository.covering_filing(s, m.person_id, "460200", china_today(clock))
            is None
        )
    assert await count(rt, "SELECT count(*) FROM audit_records WHERE action LIKE 'filings.%'") == 2


async def test_change_replaces_the_filing_in_one_step(rt: Runtime, clock: FixedClock) -> None:
    await world(rt)
    m = await employee(rt)
    counter = filings.staff_actor(CLERK)
    async with rt.sessions() as s:
        old = await filings.file(s, clock, counter, m.person_id, working_away(rt))
    clock.advance(timedelta(days=190))
    async with rt.sessions() as s:
        new = await filings.change(
            s,
            clock,
            counter,
            m.person_id,
            old.id,
            working_away(
                rt,
                treatment_admdvs="440300",
                treatment_name="广东省深圳市",
                begins=china_today(clock),
            ),
        )
    assert new.replaces_id == old.id
    async with rt.sessions() as s:
        states = {f.id: f.state for f in await filings.filings_of(s, m.person_id)}
    assert states == {old.id: FilingState.CHANGED, new.id: FilingState.ACTIVE}
    assert (
        await count(
            rt,
            "SELECT count(*) FROM audit_records WHERE action = 'filings.changed'"
            f" AND actor_type = 'staff' AND subject_person_id = {m.person_id}",
        )
        == 1
    )


async def test_refusals_leave_nothing_behind(rt: Runtime, clock: FixedClock) -> None:
    await world(rt)
    m = await employee(rt)
    other = await employee(rt, name="李雷")
    actor = filings.person_actor(m.person_id, m.name)
    async with rt.sessions() as s:
        with pytest.raises(InvalidFiling, match="个人承诺"):
            await filings.file(s, clock, actor, m.person_id, working_away(rt, document_note=""))
    async with rt.sessions() as s:
        with pytest.raises(FilingNotAllowed, match="退休人员"):
            await filings.file(
                s,
                clock,
                actor,
                m.person_id,
                working_away(rt, kind=FilingKind.RETIREE_RESETTLED),
            )
    async with rt.sessions() as s:
        made = await filings.file(s, clock, actor, m.person_id, working_away(rt))
    async with rt.sessions() as s:
        with pytest.raises(FilingConflict):
            await filings.file(s, clock, actor, m.person_id, working_away(rt))
    async with rt.sessions() as s:  # another person's 备案 is not found
        with pytest.raises(UnknownFiling):
            await filings.cancel(
                s,
                clock,
                filings.person_actor(other.person_id, other.name),
                other.person_id,
                made.id,
                "",
            )
    assert await count(rt, "SELECT count(*) FROM filings") == 1


async def test_an_uploaded_proof_is_stored_cleaned_and_a_bad_one_refused(
    rt: Runtime, clock: FixedClock
) -> None:
    await world(rt)
    m = await employee(rt)
    actor = filings.person_actor(m.person_id, m.name)
    store = filings.document_store(rt.settings.var_dir)
    upload = filings.Upload("居住证.png", photo())
    async with rt.sessions() as s:
        made = await filings.file(
            s,
            clock,
            actor,
            m.person_id,
            working_away(rt, document_kind=None, document_note="", upload=upload),
            store=store,
        )
    assert made.document_kind is DocumentKind.UPLOAD
    async with rt.sessions() as s:
        docs = await filings.documents_of(s, m.person_id, made.id)
    assert [d.label for d in docs] == ["居住证.png"] and docs[0].content_type == "image/png"
    assert await store.read(docs[0].storage_name)
    other = await member(rt, "张三", insutype="310")
    async with rt.sessions() as s:
        with pytest.raises(UploadRefused):
            await filings.file(
                s,
                clock,
                filings.person_actor(other.person_id, other.name),
                other.person_id,
                working_away(
                    rt, document_kind=None, upload=filings.Upload("x.png", b"not an image")
                ),
                store=store,
            )
    assert await count(rt, "SELECT count(*) FROM filings") == 1


async def test_region_rules_are_settings_with_defaults(rt: Runtime, clock: FixedClock) -> None:
    await world(rt)
    m = await employee(rt)
    async with rt.sessions() as s:
        assert await filings.rules_of(s, "310000") == RegionFilingRules()
    async with rt.sessions() as s:
        with pytest.raises(FilingNotAllowed, match="管理员"):
            await filings.set_rules(s, clock, CLERK, "310000", RegionFilingRules())
    rules = RegionFilingRules(
        allowed_kinds=frozenset({FilingKind.REFERRAL, FilingKind.EMERGENCY}),
        temporary_months=12,
    )
    async with rt.sessions() as s:
        await filings.set_rules(s, clock, ADMIN, "310000", rules)
    async with rt.sessions() as s:
        assert await filings.rules_of(s, "310000") == rules
    actor = filings.person_actor(m.person_id, m.name)
    async with rt.sessions() as s:
        with pytest.raises(FilingNotAllowed, match="不受理"):
            await filings.file(s, clock, actor, m.person_id, working_away(rt))
    async with rt.sessions() as s:
        made = await filings.file(
            s,
            clock,
            actor,
            m.person_id,
            working_away(rt, kind=FilingKind.EMERGENCY, document_kind=None, document_note=""),
        )
    today = china_today(clock)
    assert made.ends is not None and made.ends.year == today.year + 1


def test_the_cli_shows_and_sets_a_regions_rules(cli_env: Settings) -> None:
    import asyncio
    import json

    from typer.testing import CliRunner

    from yibao.cli.main import app

    async def regions() -> None:
        runtime = build_runtime(cli_env)
        try:
            await world(runtime)
        finally:
            await runtime.close()

    asyncio.run(regions())
    runner = CliRunner()
    shown = runner.invoke(app, ["filings", "rules", "310000", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["change_after_months"] == 6
    set_ = runner.invoke(
        app,
        ["filings", "rules", "310000", "--temporary-months", "12", "--kinds", "异地转诊,emergency"],
    )
    assert set_.exit_code == 0, set_.output
    assert "异地转诊、异地急诊抢救" in set_.output and "临时备案 12 个月" in set_.output
    refused = runner.invoke(app, ["filings", "rules", "310000", "--temporary-months", "3"])
    assert refused.exit_code != 0 and "至少六个月" in refused.output


async def test_two_filings_at_once_make_one(rt: Runtime, clock: FixedClock) -> None:
    """A double tap (or the phone and the counter at the same moment): the person's row lock
    makes the second see the first, and it is refused as a conflict."""
    import asyncio

    await world(rt)
    m = await employee(rt)
    actor = filings.person_actor(m.person_id, m.name)

    async def attempt() -> str:
        async with rt.sessions() as s:
            try:
                await filings.file(s, clock, actor, m.person_id, working_away(rt))
            except FilingConflict:
                return "conflict"
            return "filed"

    outcomes = await asyncio.gather(*(attempt() for _ in range(4)))
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "filed"]
    assert await count(rt, "SELECT count(*) FROM filings") == 1
