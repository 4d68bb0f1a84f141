"""The person's 电子结算凭证 on the 消费记录 detail page: shown and downloadable for their own
settlement only; another person's answers exactly as a settlement without a voucher (404)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.support.principals import install_test_principals, with_csrf
from tests.support.vouchers import PDF, sale, voucher
from yibao.enrolment import repository as enrolment_repository
from yibao.runtime import Runtime


@pytest.fixture
async def pages(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    from yibao.web.app import create_app

    app = create_app(runtime=runtime)
    install_test_principals(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield with_csrf(c)


async def test_the_person_sees_and_downloads_their_own_voucher_only(
    runtime: Runtime, session: AsyncSession, pages: httpx.AsyncClient
) -> None:
    w = await settlement_world.build(runtime, session, pages, balance_fen=2000)
    owner, intruder = w.person.person, w.resident.person
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, owner)
    await session.close()
    await w.pharmacy.sign_in()
    with_file = await sale(w.pharmacy, owner.psn_no, id_number)
    data_only = await sale(w.pharmacy, owner.psn_no, id_number)
    without = await sale(w.pharmacy, owner.psn_no, id_number)
    for setlinfo, document in ((with_file, PDF), (data_only, None)):
        answer = await w.pharmacy.call("4901", voucher(setlinfo, document=document))
        assert answer["infcode"] == 0, answer

    mine = {"x-test-person": f"{owner.id};stepped"}
    theirs = {"x-test-person": f"{intruder.id};stepped"}
    setl_id = with_file["setl_id"]

    page = await pages.get(f"/account/consumption/{setl_id}", headers=mine)
    assert page.status_code == 200
    assert "电子结算凭证" in page.text and "0000012345" in page.text
    assert f"/account/consumption/{setl_id}/voucher" in page.text
    download = await pages.get(f"/account/consumption/{setl_id}/voucher", headers=mine)
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in download.headers["content-security-policy"]

    # Data only: shown, and the download is a PDF made from the data. No voucher: no section.
    page = await pages.get(f"/account/consumption/{data_only['setl_id']}", headers=mine)
    assert "未上传凭证文件" in page.text and "/voucher" in page.text
    made = await pages.get(f"/account/consumption/{data_only['setl_id']}/voucher", headers=mine)
    assert made.status_code == 200 and made.content.startswith(b"%PDF-")
    assert "%E4%BF%A1%E6%81%AF" in made.headers["content-disposition"]  # 信息: made, not sent
    page = await pages.get(f"/account/consumption/{without['setl_id']}", headers=mine)
    assert "电子结算凭证" not in page.text

    # Another person: the same 404 as a settlement that has no voucher, word for word.
    stolen = await pages.get(f"/account/consumption/{setl_id}/voucher", headers=theirs)
    none = await pages.get(f"/account/consumption/{without['setl_id']}/voucher", headers=theirs)
    assert stolen.status_code == none.status_code == 404
    theirs_made = await pages.get(
        f"/account/consumption/{data_only['setl_id']}/voucher", headers=theirs
    )
    assert theirs_made.status_code == 404
    assert stolen.text.replace(setl_id, "X") == none.text.replace(without["setl_id"], "X")
    assert PDF not in stolen.content
    # Without the step-up (验证身份) the download is not given either.
    plain = await pages.get(
        f"/account/consumption/{setl_id}/voucher", headers={"x-test-person": str(owner.id)}
    )
    assert plain.status_code != 200 and PDF not in plain.content
