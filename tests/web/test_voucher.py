"""医保电子凭证: the person's ecToken works once, for a short time, only for them."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.support.identity import CARD_PASSWORD, PASSWORD
from yibao.enrolment import repository as enrolment_repository
from yibao.identity import service as identity
from yibao.kernel.clock import FixedClock
from yibao.runtime import Runtime
from yibao.settlement import service
from yibao.web.app import create_app
from yibao.web.auth import PersonPrincipal, stepped_up_person


def signed_in(person_id: int, runtime: Runtime) -> PersonPrincipal:
    return PersonPrincipal(person_id, 1, "s1", runtime.clock.now() + timedelta(minutes=5), "cookie")


async def bearer_for(
    runtime: Runtime, http: httpx.AsyncClient, id_number: str, phone: str
) -> dict[str, str]:
    """An online account opened at the counter, signed in over the identity API."""
    async with runtime.sessions() as s:
        await identity.open_account_at_counter(
            runtime,
            s,
            id_number=id_number,
            phone=phone,
            password=PASSWORD,
            card_password=CARD_PASSWORD,
            by="test",
        )
    answer = await http.post(
        "/api/v1/auth/tokens", json={"identifier": phone, "password": PASSWORD}
    )
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


async def test_an_ec_token_pays_once_and_only_for_its_holder(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    http = client
    w = await settlement_world.build(runtime, session, http, balance_fen=10_000)
    person_id, psn_no = w.person.person.id, w.person.person.psn_no
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, w.person.person)
    phone = enrolment_repository.decrypt_phone(runtime.cipher, w.person.person)
    assert phone
    other_psn_no = w.resident.person.psn_no
    await session.close()

    assert (await http.get("/api/v1/ec-token")).status_code == 401
    auth = await bearer_for(runtime, http, id_number, phone)
    gated = await http.get("/api/v1/ec-token", headers=auth)
    assert gated.status_code == 403 and gated.json()["error"]["code"] == "step_up_required"
    stepped = await http.post(
        "/api/v1/auth/step-up",
        headers=auth,
        json={"method": "card_password", "card_password": CARD_PASSWORD},
    )
    assert stepped.status_code == 200, stepped.text
    issued = (await http.get("/api/v1/ec-token", headers=auth)).json()
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


async def test_the_voucher_page_shows_the_code(runtime: Runtime, session: AsyncSession) -> None:
    app = create_app(runtime=runtime)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        w = await settlement_world.build(runtime, session, http)
        person_id = w.person.person.id
        await session.close()
        page = await http.get("/voucher")
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/voucher"
        # Signed in and verified again (identity's own tests cover how).
        app.dependency_overrides[stepped_up_person] = lambda: signed_in(person_id, runtime)
        page = await http.get("/voucher")
        assert page.status_code == 200
        assert "医保电子凭证" in page.text and "data:image/svg+xml" in page.text
        assert "张*" in page.text and 'data-refresh="60"' in page.text
