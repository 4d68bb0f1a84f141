"""异地就医 when the home region cannot be reached (docs/cross-region.md, "A unreachable"), on two
databases (SQLite, and PostgreSQL on two clusters), the deployments in one process:

- A's region refuses (the default): B answers a clear refusal and writes nothing;
- A's region allows cash: B settles the whole bill as the person's cash, answers in the usual
  shape with a note, keeps the record and offers it to A from its worker until A takes it, once;
  A shows it on 消费记录 with the way to 零星报销 (the claim form filled in);
- B timed out after A had debited: the record (or, before it, the day's reconciliation) gives A's
  account back, once; a late copy of the settle message is refused; clearing still agrees.
"""

from __future__ import annotations

import base64
import html
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.integration.test_crossregion import balance, drug_sale, file_filing
from tests.support.clusters import Cluster
from tests.support.principal import install_test_principal
from tests.support.two_regions import (
    HOME,
    TREATMENT,
    Deployments,
    deployments,
    directory_json,
    two_databases,
)
from yibao.crossregion import repository as crossregion_repository
from yibao.crossregion import service as crossregion
from yibao.crossregion.domain import Peer
from yibao.crossregion.service.unreachable import record_of
from yibao.crossregion.tables import Claim, Settlement
from yibao.kernel.clock import china_today


@pytest.fixture(scope="module")
def pg_databases(pg_clusters: tuple[Cluster, Cluster]) -> Iterator[tuple[str, str]]:
    a, b = pg_clusters
    yield from two_databases((a.admin_url, b.admin_url))


@pytest.fixture(params=["sqlite", "postgres"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "postgres":
        found: tuple[str, str] = request.getfixturevalue("pg_databases")
        return found
    template: Path = request.getfixturevalue("sqlite_template")
    urls = []
    for side in ("a", "b"):
        path = tmp_path / f"{side}.sqlite3"
        shutil.copy(template, path)
        urls.append(f"sqlite+aiosqlite:///{path}")
    return urls[0], urls[1]


class Down(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")


class CommitsThenTimesOut(httpx.AsyncBaseTransport):
    """A takes the settle message and commits; its answer never reaches B."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/settle"):
            raise httpx.ReadTimeout("read timed out")
        return response


async def allow_cash(d: Deployments, allowed: bool) -> None:
    """A's region's choice, as every deployment's directory carries it."""
    seeds = [base64.b64encode(r.settings.peer_key_bytes()).decode() for r in (d.a, d.b)]
    text = directory_json(*seeds, when_unreachable="cash" if allowed else "refuse")
    for runtime in (d.a, d.b):
        async with runtime.sessions() as session:
            await crossregion.load_directory(session, runtime, text)


async def claims(d: Deployments) -> list[Claim]:
    async with d.a.sessions() as session:
        return list((await session.execute(select(Claim).order_by(Claim.id))).scalars())


async def cash_rows(d: Deployments) -> list[Settlement]:
    async with d.b.sessions() as session:
        stmt = select(Settlement).where(Settlement.mode == "cash").order_by(Settlement.setl_id)
        return list((await session.execute(stmt)).scalars())


async def test_refused_or_paid_in_full_and_delivered_once(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    async with deployments(*databases, tmp_path) as d:
        await file_filing(d)
        opening = await balance(d)
        pharmacy = d.pharmacy
        await pharmacy.sign_in()
        working = d.b.peer_link
        # A policy fetched while A was up (B keeps it: it prices the cash bill's 乙类 share).
        assert (await pharmacy.call("2101", drug_sale(d)))["infcode"] == 0
        d.b.peer_link = d.link_for_b(Down())

        # The default: refused, nothing written.
        refused = await pharmacy.call("2102", drug_sale(d))
        assert refused["infcode"] == -1 and "未结算" in refused["err_msg"]
        assert await cash_rows(d) == []

        # A's region allows cash: the whole bill is the person's, in the usual answer's shape.
        await allow_cash(d, True)
        msgid = pharmacy.new_msgid()
        sold = await pharmacy.call("2102", drug_sale(d), msgid=msgid)
        assert sold["infcode"] == 0, sold
        info = sold["output"]["setlinfo"]
        assert info["medfee_sumamt"] == "25.00"
        assert info["fund_pay_sumamt"] == "0.00" and info["acct_pay"] == "0.00"
        assert info["psn_cash_pay"] == "25.00"
        assert info["setl_id"] and info["clr_type"] == "异地"
        assert "全额自付" in (sold["warn_msg"] or "") and "零星报销" in (sold["warn_msg"] or "")
        # 2101 while A is down: the same figures, nothing kept.
        pre = await pharmacy.call("2101", drug_sale(d))
        assert pre["infcode"] == 0 and pre["output"]["setlinfo"]["psn_cash_pay"] == "25.00"
        assert len(await cash_rows(d)) == 1
        assert await balance(d) == opening
        # The same msgid again: the stored answer.
        again = await pharmacy.call("2102", drug_sale(d), msgid=msgid)
        assert again["output"] == sold["output"]

        # The worker offers the record while A is still down: kept for later, not lost.
        assert await crossregion.deliver_records(d.b) == 1
        (row,) = await cash_rows(d)
        assert row.delivered_at is None and row.delivery_attempts == 1
        assert "无法连接" in (row.last_delivery_error or "")
        assert await crossregion.deliver_records(d.b) == 0  # backing off

        # A is back; the record is due again (as after the backoff): taken once.
        d.b.peer_link = working
        async with d.b.sessions() as session:
            found = await crossregion_repository.settlement_by_setl_id(session, row.setl_id)
            assert found is not None
            found.next_delivery_at = d.b.clock.now()
            await session.commit()
        assert await crossregion.deliver_records(d.b) == 1
        assert await crossregion.deliver_records(d.b) == 0
        (delivered,) = await cash_rows(d)
        assert delivered.delivered_at is not None
        # Offered again all the same (a lost answer): A keeps it once.
        link = crossregion.link_of(d.b)
        peer = await crossregion_repository_peer(d)
        answer = await link.send(peer, "cash", crossregion_record(delivered, TREATMENT))
        assert answer["status"] == "cash"
        (claim,) = await claims(d)
        assert claim.status == "cash" and claim.cash_pay_fen == 2500 and claim.acct_pay_fen == 0
        assert claim.message_id == f"shanghai:{msgid}" and claim.setl_id == info["setl_id"]
        assert await balance(d) == opening

        # A's 消费记录 shows it, with the 零星报销 form filled in.
        async with d.a.sessions() as session:
            shown = await crossregion.paid_elsewhere(session, d.person.person.id)
        assert [(p.setl_id, p.region_name, p.medfee_sumamt_fen) for p in shown] == [
            (info["setl_id"], "上海市", 2500)
        ]
        assert shown[0].claim_form["not_settled_reason"] == "home_unreachable"
        assert shown[0].claim_form["medfee_sumamt"] == "25.00"
        # The page itself, and its button into the claims feature's 零星报销 form, filled in.
        install_test_principal(d.a_app)
        me = {"x-test-person": str(d.person.person.id)}
        page = await d.a_http.get("/account/consumption", headers=me)
        assert page.status_code == 200
        assert "异地全额自付" in page.text and "上海徐汇大药房（异地·上海市）" in page.text
        button = re.search(r'href="(/claims/new\?[^"]+)"', page.text)
        assert button is not None
        form = await d.a_http.get(html.unescape(button.group(1)), headers=me)
        assert form.status_code == 200
        assert 'value="25.00"' in form.text and 'value="P31010400631"' in form.text
        assert 'value="home_unreachable" selected' in form.text

        # A late copy of the settle message never debits.
        late = await pharmacy.call("2102", drug_sale(d), msgid=msgid)
        assert late["output"] == sold["output"]
        statement = await crossregion.clearing(
            d.b, link, TREATMENT, HOME, china_today(d.b.clock).strftime("%Y-%m")
        )
        assert statement.agrees and statement.here.count == 0

        # 2208 of a cash bill: A marks it cancelled, no longer to claim back; B refunds its cash.
        cancelled = await pharmacy.call(
            "2103",
            {"data": {"setl_id": info["setl_id"], "psn_no": d.person.person.psn_no}},
        )
        assert cancelled["infcode"] == 0, cancelled
        assert cancelled["output"]["setlinfo"]["psn_cash_pay"] == "-25.00"
        assert [c.status for c in await claims(d)] == ["reversed"]
        async with d.a.sessions() as session:
            assert await crossregion.paid_elsewhere(session, d.person.person.id) == []
        assert await balance(d) == opening


async def test_a_debit_b_never_heard_of_is_given_back_once(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    async with deployments(*databases, tmp_path) as d:
        await file_filing(d)
        await allow_cash(d, True)
        opening = await balance(d)
        pharmacy = d.pharmacy
        await pharmacy.sign_in()
        working = d.b.peer_link
        assert (await pharmacy.call("2101", drug_sale(d)))["infcode"] == 0
        d.b.peer_link = d.link_for_b(CommitsThenTimesOut(httpx.ASGITransport(app=d.a_app)))

        # Two bills: A debits each, B times out and settles each in cash.
        first = await pharmacy.call("2102", drug_sale(d))
        second = await pharmacy.call("2102", drug_sale(d))
        for sold in (first, second):
            assert sold["infcode"] == 0 and sold["output"]["setlinfo"]["psn_cash_pay"] == "25.00"
        assert await balance(d) == opening - 2 * 250  # A's debits, for now
        d.b.peer_link = working
        link = crossregion.link_of(d.b)

        # The first record reaches A before any reconciliation: its debit is given back.
        rows = await cash_rows(d)
        peer = await crossregion_repository_peer(d)
        await link.send(peer, "cash", crossregion_record(rows[0], TREATMENT))
        assert await balance(d) == opening - 250
        # The day's reconciliation finds the second (its record not delivered yet).
        today = china_today(d.b.clock)
        found = await crossregion.reconcile(d.b, link, TREATMENT, today)
        assert [(x["message_id"], x["action"]) for r in found for x in r.differences] == [
            (rows[1].message_id, "to_cash")
        ]
        assert await balance(d) == opening
        # Then the worker delivers both: nothing moves again.
        assert await crossregion.deliver_records(d.b) == 2
        assert await balance(d) == opening
        again = await crossregion.reconcile(d.b, link, TREATMENT, today)
        assert [x for r in again for x in r.differences] == []
        assert sorted(c.status for c in await claims(d)) == ["cash", "cash"]
        statement = await crossregion.clearing(d.b, link, TREATMENT, HOME, today.strftime("%Y-%m"))
        assert statement.agrees and statement.there.count == 0
        async with d.a.sessions() as session:
            shown = await crossregion.paid_elsewhere(session, d.person.person.id)
        assert len(shown) == 2


async def crossregion_repository_peer(d: Deployments) -> Peer:
    async with d.b.sessions() as session:
        return await crossregion.home_peer(session, HOME)


def crossregion_record(row: Settlement, treatment: str) -> dict[str, Any]:
    return record_of(row, treatment)
