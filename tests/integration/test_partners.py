"""Partner apps on real databases: maker-checker registration, the operator's commands, the
authorisation code with PKCE, refresh rotation, and what ends a partner's access."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from tests.support import partners as support
from tests.support.world import define_regions, enrol
from yibao.cli.main import app as cli
from yibao.config import Settings
from yibao.kernel.actors import StaffActor
from yibao.kernel.clock import FixedClock
from yibao.notifications.tables import OutboxMessage
from yibao.partners.domain import (
    GRANT_IDLE_LIMIT,
    InsufficientScope,
    InvalidClient,
    InvalidGrant,
    InvalidPartner,
    InvalidToken,
    PartnerRateLimited,
    PartnerRoleNotAllowed,
    SelfApprovalRefused,
)
from yibao.partners.service import access, authorise, registry
from yibao.partners.tables import Partner, PartnerGrant, PartnerToken
from yibao.runtime import Runtime

CLERK = StaffActor(301, "陈经办", frozenset({"clerk"}), "市医保中心")
ADMIN = StaffActor(302, "吴管理", frozenset({"admin"}), "市医保中心")
ADMIN_2 = StaffActor(303, "郑管理", frozenset({"admin"}), "市医保中心")

REG = registry.Registration(
    name="支付宝",
    company="支付宝（中国）网络技术有限公司",
    redirect_uris=[support.REDIRECT],
    scopes=["balance", "records"],
    rate_limit_per_minute=60,
)


async def _person(runtime: Runtime) -> int:
    async with runtime.sessions() as s:
        await define_regions(s)
        enrolled = await enrol(runtime, s, name="王芳")
        return enrolled.person.id


async def _admit(runtime: Runtime, token: str, scope: str = "balance") -> int:
    async with runtime.sessions() as s:
        admission = await access.admit(
            s, runtime.ephemeral, runtime.clock, token, scope=scope, data="account"
        )
        return admission.person_id


async def test_a_partner_is_enabled_only_when_another_administrator_approves(
    runtime: Runtime,
) -> None:
    async with runtime.sessions() as s:
        proposed = await registry.propose_partner(s, runtime.clock, ADMIN, REG)
        assert proposed.status == "proposed" and proposed.secret_hash is None
        partner_id = proposed.id
        with pytest.raises(SelfApprovalRefused):
            await registry.approve_partner(s, runtime.clock, ADMIN, partner_id)
        await s.rollback()
        with pytest.raises(PartnerRoleNotAllowed):
            await registry.approve_partner(s, runtime.clock, CLERK, partner_id)
        await s.rollback()
        credentials = await registry.approve_partner(s, runtime.clock, ADMIN_2, partner_id)
    assert credentials.partner.status == "active"
    async with runtime.sessions() as s:
        partner = await authorise.authenticate_client(
            s, credentials.partner.client_id, credentials.client_secret
        )
        # Only the secret's hash is kept.
        assert credentials.client_secret not in (partner.secret_hash or "")
        # The database itself refuses a self-approved registration.
        with pytest.raises(IntegrityError):
            await s.execute(text("UPDATE partners SET decided_by_staff_id = proposed_by_staff_id"))
            await s.flush()


@pytest.mark.parametrize(
    "uris",
    [
        ["http://partner.example/cb"],
        ["https://partner.example/cb#frag"],
        ["https://user@partner.example/cb"],
        ["javascript:alert(1)"],
        ["/relative"],
    ],
)
async def test_bad_redirect_uris_are_refused_at_registration(
    runtime: Runtime, uris: list[str]
) -> None:
    async with runtime.sessions() as s:
        with pytest.raises(InvalidPartner):
            await registry.propose_partner(
                s,
                runtime.clock,
                CLERK,
                registry.Registration("应用", "公司", uris, ["balance"], 60),
            )


async def test_private_keys_are_refused_and_public_keys_kept(runtime: Runtime) -> None:
    jwk = {"kty": "EC", "crv": "P-256", "x": "x", "y": "y"}
    async with runtime.sessions() as s:
        with pytest.raises(InvalidPartner):
            await registry.propose_partner(
                s, runtime.clock, CLERK,
                registry.Registration("应用", "公司", [support.REDIRECT], ["balance"], 60,
                                      json.dumps({"keys": [{**jwk, "d": "secret"}]})),
            )  # fmt: skip
        await s.rollback()
        partner = await registry.propose_partner(
            s, runtime.clock, CLERK,
            registry.Registration("应用", "公司", [support.REDIRECT], ["balance"], 60,
                                  json.dumps({"keys": [jwk]})),
        )  # fmt: skip
    assert json.loads(partner.public_keys_json or "")["keys"] == [jwk]


async def test_code_with_pkce_gives_tokens_that_read_only_what_was_granted(
    runtime: Runtime,
) -> None:
    person_id = await _person(runtime)
    partner = await support.app(runtime)
    tokens = await support.tokens_for(runtime, partner, person_id, ["balance", "records"])
    assert tokens.scope == "balance records" and tokens.expires_in <= 600
    assert await _admit(runtime, tokens.access_token) == person_id
    with pytest.raises(InsufficientScope):
        await _admit(runtime, tokens.access_token, "family")


async def test_wrong_or_missing_verifier_and_wrong_redirect_are_invalid_grant(
    runtime: Runtime,
) -> None:
    person_id = await _person(runtime)
    partner = await support.app(runtime)
    code, verifier = await support.code_for(runtime, partner, person_id)
    for redirect, given in (
        (support.REDIRECT, ""),
        (support.REDIRECT, support.pkce()[0]),
        ("https://partner.example/other", verifier),
    ):
        async with runtime.sessions() as s:
            client = await authorise.authenticate_client(s, partner.client_id, partner.secret)
            with pytest.raises(InvalidGrant):
                await authorise.exchange_code(
                    s, runtime.clock, client, code=code, redirect_uri=redirect,
                    code_verifier=given,
                )  # fmt: skip
    async with runtime.sessions() as s:
        client = await authorise.authenticate_client(s, partner.client_id, partner.secret)
        # The right verifier still works: failed tries did not spend the code.
        tokens = await authorise.exchange_code(
            s, runtime.clock, client, code=code, redirect_uri=support.REDIRECT,
            code_verifier=verifier,
        )  # fmt: skip
    assert tokens.access_token


async def test_a_reused_code_revokes_the_tokens_it_gave(runtime: Runtime) -> None:
    person_id = await _person(runtime)
    partner = await support.app(runtime)
    code, verifier = await support.code_for(runtime, partner, person_id)
    async with runtime.sessions() as s:
        client = await authorise.authenticate_client(s, partner.client_id, partner.secret)
        first = await authorise.exchange_code(
            s, runtime.clock, client, code=code, redirect_uri=support.REDIRECT,
            code_verifier=verifier,
        )  # fmt: skip
        with pytest.raises(InvalidGrant):
            await authorise.exchange_code(
                s, runtime.clock, client, code=code, redirect_uri=support.REDIRECT,
                code_verifier=verifier,
            )  # fmt: skip
    with pytest.raises(InvalidToken):
        await _admit(runtime, first.access_token)
    async with runtime.sessions() as s:
        with pytest.raises(InvalidGrant):
            await authorise.refresh(s, runtime.clock, client, refresh_token=first.refresh_token)


async def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(
    runtime: Runtime,
) -> None:
    person_id = await _person(runtime)
    partner = await support.app(runtime)
    other = await support.app(runtime, name="微信")
    first = await support.tokens_for(runtime, partner, person_id)
    async with runtime.sessions() as s:
        client = await authorise.authenticate_client(s, partner.client_id, partner.secret)
        intruder = await authorise.authenticate_client(s, other.client_id, other.secret)
        # Bound to the partner: another client's credentials get nothing.
        with pytest.raises(InvalidGrant):
            await authorise.refresh(s, runtime.clock, intruder, refresh_token=first.refresh_token)
        assert (await authorise.introspect(s, runtime.clock, intruder, first.access_token)) == {
            "active": False
        }
        second = await authorise.refresh(
            s, runtime.clock, client, refresh_token=first.refresh_token, scope="balance"
        )
    assert second.scope == "balance"
    with pytest.raises(InvalidToken):
        await _admit(runtime, first.access_token)  # the old pair's access token ended
    assert await _admit(runtime, second.access_token) == person_id
    async with runtime.sessions() as s:
        with pytest.raises(InvalidGrant):
            await authorise.refresh(s, runtime.clock, client, refresh_token=first.refresh_token)
    with pytest.raises(InvalidToken):
        await _admit(runtime, second.access_token)


async def test_access_tokens_expire_within_ten_minutes_and_grants_after_180_idle_days(
    rt: Runtime, clock: FixedClock
) -> None:
    person_id = await _person(rt)
    partner = await support.app(rt)
    tokens = await support.tokens_for(rt, partner, person_id)
    clock.advance(timedelta(minutes=10))
    with pytest.raises(InvalidToken):
        await _admit(rt, tokens.access_token)
    async with rt.sessions() as s:
        client = await authorise.authenticate_client(s, partner.client_id, partner.secret)
        fresh = await authorise.refresh(s, rt.clock, client, refresh_token=tokens.refresh_token)
    await _admit(rt, fresh.access_token)
    clock.advance(timedelta(days=180))
    async with rt.sessions() as s:
        with pytest.raises(InvalidGrant):
            await authorise.refresh(s, rt.clock, client, refresh_token=fresh.refresh_token)
        views = await access.grants_for_person(s, rt.clock, person_id)
    assert [(v.live, v.ended_reason) for v in views] == [(False, "idle")]


async def test_the_sweep_ends_grants_idle_180_days_and_tells_the_person(
    rt: Runtime, clock: FixedClock
) -> None:
    """Idle grants stop working at the moment they reach 180 days (every call checks); the
    worker's sweep then marks them, revokes their tokens and leaves one in-app notice."""
    person_id = await _person(rt)
    partner = await support.app(rt)
    tokens = await support.tokens_for(rt, partner, person_id)
    given = clock.now()
    clock.advance(GRANT_IDLE_LIMIT - timedelta(minutes=1))
    async with rt.sessions() as s:
        assert await access.sweep_idle_grants(s, rt.clock) == 0  # not yet
    clock.advance(timedelta(minutes=1))
    async with rt.sessions() as s:
        before = await access.grants_for_person(s, rt.clock, person_id)
    # Stopped working already, before any sweep: the partner's tokens are refused at once.
    async with rt.sessions() as s:
        client = await authorise.authenticate_client(s, partner.client_id, partner.secret)
        with pytest.raises(InvalidGrant):
            await authorise.refresh(s, rt.clock, client, refresh_token=tokens.refresh_token)
        assert (await authorise.introspect(s, rt.clock, client, tokens.refresh_token)) == {
            "active": False
        }
    clock.advance(timedelta(hours=3))  # the sweep comes by later
    async with rt.sessions() as s:
        assert await access.sweep_idle_grants(s, rt.clock) == 1
        assert await access.sweep_idle_grants(s, rt.clock) == 0  # marked once, told once
        after = await access.grants_for_person(s, rt.clock, person_id)
        grants = (await s.execute(select(PartnerGrant))).scalars().all()
        live_tokens = await s.execute(select(PartnerToken).where(PartnerToken.revoked_at.is_(None)))
        notices = (
            (await s.execute(select(OutboxMessage).where(OutboxMessage.person_id == person_id)))
            .scalars()
            .all()
        )
    assert [(g.revoked_reason, g.revoked_at) for g in grants] == [
        ("idle", given + GRANT_IDLE_LIMIT)
    ]
    assert live_tokens.first() is None
    # 已授权的应用 shows the same ending, with the same time, before and after the sweep.
    assert [(v.live, v.ended_reason, v.ended_at) for v in after] == [
        (v.live, v.ended_reason, v.ended_at) for v in before
    ]
    assert [(v.live, v.ended_reason) for v in after] == [(False, "idle")]
    assert [(n.channel, n.subject) for n in notices] == [("inapp", "应用授权已到期")]
    assert "支付宝" in notices[0].body and "180天" in notices[0].body


async def test_the_worker_runs_the_sweep(rt: Runtime, clock: FixedClock) -> None:
    import asyncio

    from yibao.cli.server import _sweep_idle_grants

    person_id = await _person(rt)
    partner = await support.app(rt)
    await support.tokens_for(rt, partner, person_id)
    clock.advance(GRANT_IDLE_LIMIT)
    stopped = asyncio.Event()
    stopped.set()  # one pass, then stop
    await _sweep_idle_grants(rt, stopped, every=0)
    async with rt.sessions() as s:
        grant = (await s.execute(select(PartnerGrant))).scalar_one()
    assert grant.revoked_reason == "idle"


async def test_the_rate_limit_counts_every_call_of_the_partner(runtime: Runtime) -> None:
    person_id = await _person(runtime)
    partner = await support.app(runtime, rate_limit=2)
    tokens = await support.tokens_for(runtime, partner, person_id)
    await _admit(runtime, tokens.access_token)
    await _admit(runtime, tokens.access_token)
    with pytest.raises(PartnerRateLimited) as refused:
        await _admit(runtime, tokens.access_token)
    assert 0 < int(str(refused.value.details["retry_after"])) <= 60


async def test_revoking_a_grant_or_suspending_a_partner_ends_access_at_once(
    runtime: Runtime,
) -> None:
    person_id = await _person(runtime)
    partner = await support.app(runtime)
    other = await support.app(runtime, name="微信")
    mine = await support.tokens_for(runtime, partner, person_id)
    theirs = await support.tokens_for(runtime, other, person_id)
    async with runtime.sessions() as s:
        views = await access.grants_for_person(s, runtime.clock, person_id)
        grant_id = next(v.grant_id for v in views if v.partner_name == "支付宝")
        await access.revoke_grant(s, runtime.clock, person_id, grant_id)
    with pytest.raises(InvalidToken):
        await _admit(runtime, mine.access_token)
    assert await _admit(runtime, theirs.access_token) == person_id
    async with runtime.sessions() as s:
        await registry.suspend_partner(s, runtime.clock, other.client_id)
    with pytest.raises(InvalidToken):
        await _admit(runtime, theirs.access_token)
    async with runtime.sessions() as s:
        with pytest.raises(InvalidClient):
            await authorise.authenticate_client(s, other.client_id, other.secret)
        revoked = (
            await s.execute(select(PartnerToken).where(PartnerToken.revoked_at.is_(None)))
        ).all()
    assert revoked == []


runner = CliRunner()


def test_the_operator_adds_lists_rotates_and_suspends_from_the_command_line(
    cli_env: Settings,
) -> None:
    result = runner.invoke(
        cli,
        ["partners", "add", "--name", "支付宝", "--company", "蚂蚁",
         "--redirect-uri", support.REDIRECT, "--scope", "balance", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    added = json.loads(result.output)
    listed = runner.invoke(cli, ["partners", "list", "--json"])
    assert listed.exit_code == 0 and added["client_secret"] not in listed.output
    assert json.loads(listed.output)[0]["status"] == "active"
    rotated = runner.invoke(cli, ["partners", "rotate", added["client_id"], "--json"])
    assert rotated.exit_code == 0
    assert json.loads(rotated.output)["client_secret"] != added["client_secret"]
    assert runner.invoke(cli, ["partners", "suspend", added["client_id"]]).exit_code == 0
    again = runner.invoke(cli, ["partners", "suspend", added["client_id"]])
    assert again.exit_code == 2 and "已启用" in again.output
    bad = runner.invoke(
        cli,
        ["partners", "add", "--name", "x", "--company", "y",
         "--redirect-uri", "http://evil.example/cb"],
    )  # fmt: skip
    assert bad.exit_code == 2 and "https" in bad.output


async def test_partner_rows_keep_no_secret(runtime: Runtime) -> None:
    partner = await support.app(runtime)
    async with runtime.sessions() as s:
        row = (await s.execute(select(Partner))).scalar_one()
    assert partner.secret not in json.dumps(
        {c.name: str(getattr(row, c.name)) for c in Partner.__table__.columns}
    )
