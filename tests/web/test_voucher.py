"""医保电子凭证: the person's ecToken works once, for a short time, only for them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from yibao.kernel.clock import FixedClock
from yibao.runtime import Runtime
from yibao.settlement import service
from yibao.web.app import create_app
from yibao.web.auth import PersonPrincipal

Principal = dict[str, PersonPrincipal | None]


def with_principal(app: FastAPI, holder: Principal) -> None:
    @app.middleware("http")
    async def _set(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request.state.principal = holder["who"]
        return await call_next(request)


@pytest.fixture
async def person_client(runtime: Runtime) -> AsyncIterator[tuple[httpx.AsyncClient, Principal]]:
    holder: Principal = {"who": None}
    app = create_app(runtime=runtime)
    with_principal(app, holder)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c, holder


def signed_in(person_id: int, runtime: Runtime, *, stepped_up: bool = True) -> PersonPrincipal:
    until = runtime.clock.now() + timedelta(minutes=5) if stepped_up else None
    return PersonPrincipal(person_id, 1, "s1", until, "cookie")


async def test_an_ec_token_pays_once_and_only_for_its_holder(
    runtime: Runtime, session: AsyncSession, person_client: tuple[httpx.AsyncClient, Principal]
) -> None:
    http, holder = person_client
    w = await settlement_world.build(runtime, session, http, balance_fen=10_000)
    person_id, psn_no = w.person.person.id, w.person.person.psn_no
    other_psn_no = w.resident.person.psn_no
    await session.close()

    assert (await http.get("/api/v1/ec-token")).status_code == 401
    holder["who"] = signed_in(person_id, runtime, stepped_up=False)
    assert (await http.get("/api/v1/ec-token")).status_code == 403
    holder["who"] = signed_in(person_id, runtime)
    issued = (await http.get("/api/v1/ec-token")).json()
    token = issued["ec_token"]
    assert issued["qr_svg"].startswith("data:image/svg+xml")
    assert issued["refresh_seconds"] == 60

    pharmacy = w.pharmacy
    await pharmacy.sign_in()
    who = await pharmacy.call("1101", {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": token}})
    assert who["infcode"] == 0 and who["output"]["baseinfo"]["psn_no"] == psn_no

    def sale(psn: str) -> dict[str, object]:
        return {
            "druginfo": {
                "psn_no": psn,
                "mdtrt_cert_type": "01",
                "mdtrt_cert_no": token,
                "medfee_sumamt": "30.00",
                "insutype": "310",
                "acct_used_flag": "1",
            },
            "drugdetail": [
                {
                    "feedetl_sn": "1",
                    "med_list_codg": "XA01ABD075A002010100483",
                    "pric": "15.00",
                    "cnt": "2",
                    "det_item_fee_sumamt": "30.00",
                }
            ],
        }

    borrowed = await pharmacy.call("2102", sale(other_psn_no))
    assert borrowed["infcode"] == -1 and "不属于该参保人" in borrowed["err_msg"]
    paid = await pharmacy.call("2102", sale(psn_no))
    assert paid["infcode"] == 0, paid
    assert paid["output"]["setlinfo"]["acct_pay"] == "3.00"
    again = await pharmacy.call("2102", sale(psn_no))
    assert again["infcode"] == -1 and "已用于一次结算" in again["err_msg"]

    async with runtime.sessions() as s:
        old, _ = await service.issue_ec_token(
            s,
            person_id,
            FixedClock(runtime.clock.now() - timedelta(minutes=10)),
            timedelta(seconds=300),
        )
    stale = await pharmacy.call("1101", {"data": {"mdtrt_cert_type": "01", "mdtrt_cert_no": old}})
    assert stale["infcode"] == -1 and "无效或已过期" in stale["err_msg"]


async def test_the_voucher_page_shows_the_code(
    runtime: Runtime, session: AsyncSession, person_client: tuple[httpx.AsyncClient, Principal]
) -> None:
    http, holder = person_client
    w = await settlement_world.build(runtime, session, http)
    person_id = w.person.person.id
    await session.close()
    page = await http.get("/voucher")
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/voucher"
    holder["who"] = signed_in(person_id, runtime)
    page = await http.get("/voucher")
    assert page.status_code == 200
    assert "医保电子凭证" in page.text and "data:image/svg+xml" in page.text
    assert "张*" in page.text and 'data-refresh="60"' in page.text
