"""A msgid is one message: resent with the same content it gets its stored answer word for word;
resent with other content (another person, another bill) it is refused and writes nothing,
instead of being told the first message's answer as if it had been done."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from yibao.enrolment import repository as enrolment_repository
from yibao.ledger.tables import LedgerEntry, PersonalAccount
from yibao.notifications.tables import OutboxMessage
from yibao.runtime import Runtime
from yibao.settlement.service import messages
from yibao.settlement.tables import FeeDetail, InterfaceMessage, Settlement, Visit

REUSED = "已用于另一笔内容不同的"
COUNTED = [Settlement, LedgerEntry, InterfaceMessage, Visit, FeeDetail, OutboxMessage]


class Scene:
    def __init__(self, runtime: Runtime, w: settlement_world.World, ids: dict[str, str]) -> None:
        self.runtime = runtime
        self.w = w
        self.ids = ids  # psn_no -> ID number

    async def counts(self) -> dict[str, int]:
        async with self.runtime.sessions() as s:
            counts = {
                t.__tablename__: int(
                    (await s.execute(select(func.count()).select_from(t))).scalar_one()
                )
                for t in COUNTED
            }
            counts["balance"] = int(
                (await s.execute(select(func.sum(PersonalAccount.balance_fen)))).scalar_one()
            )
            return counts

    def lookup(self, psn_no: str) -> dict[str, Any]:
        return {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": self.ids[psn_no]}}

    def sale(self, yuan: str) -> dict[str, Any]:
        psn_no = self.w.person.person.psn_no
        return {
            "druginfo": {
                "psn_no": psn_no,
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": self.ids[psn_no],
                "med_type": "41",
                "medfee_sumamt": yuan,
                "insutype": "310",
                "acct_used_flag": "1",
            },
            "drugdetail": [  # 丙类: the whole amount falls to the person's account
                {
                    "feedetl_sn": "1",
                    "med_list_codg": "XN06AXA063A001010101005",
                    "pric": yuan,
                    "cnt": "1",
                    "det_item_fee_sumamt": yuan,
                }
            ],
        }

    async def visit(self, yuan: str) -> dict[str, Any]:
        """A registered visit with its fees uploaded; the 2207 that would settle it."""
        psn_no = self.w.person.person.psn_no
        reg = await self.w.hospital.call(
            "2201",
            {
                "data": {
                    "psn_no": psn_no,
                    "insutype": "310",
                    "mdtrt_cert_type": "02",
                    "mdtrt_cert_no": self.ids[psn_no],
                }
            },
        )
        mdtrt_id = reg["output"]["data"]["mdtrt_id"]
        line = {
            "feedetl_sn": "1",
            "mdtrt_id": mdtrt_id,
            "psn_no": psn_no,
            "med_list_codg": "XN06AXA063A001010101005",
            "pric": yuan,
            "cnt": "1",
            "det_item_fee_sumamt": yuan,
        }
        assert (await self.w.hospital.call("2204", {"feedetail": [line]}))["infcode"] == 0
        return {
            "data": {
                "psn_no": psn_no,
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": self.ids[psn_no],
                "med_type": "11",
                "medfee_sumamt": yuan,
                "mdtrt_id": mdtrt_id,
                "insutype": "310",
                "acct_used_flag": "1",
            }
        }


@pytest.fixture
async def scene(runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient) -> Scene:
    w = await settlement_world.build(runtime, session, client)
    ids = {
        e.person.psn_no: enrolment_repository.decrypt_id_number(runtime.cipher, e.person)
        for e in (w.person, w.resident)
    }
    await session.close()
    await w.hospital.sign_in()
    await w.pharmacy.sign_in()
    return Scene(runtime, w, ids)


def _refused(answer: dict[str, Any], msgid: str) -> None:
    assert answer["infcode"] == -1, answer
    assert REUSED in answer["err_msg"] and msgid in answer["err_msg"], answer["err_msg"]
    assert answer["output"] == {}


async def test_1101_for_another_person_under_a_used_msgid_is_refused(scene: Scene) -> None:
    hospital, a, b = scene.w.hospital, scene.w.person.person, scene.w.resident.person
    msgid = hospital.new_msgid()
    first = await hospital.call("1101", scene.lookup(a.psn_no), msgid=msgid)
    assert first["output"]["baseinfo"]["psn_no"] == a.psn_no
    before = await scene.counts()

    other = await hospital.call("1101", scene.lookup(b.psn_no), msgid=msgid)
    _refused(other, msgid)
    assert a.psn_no not in str(other)  # A's identity is not handed to the message about B
    assert await scene.counts() == before

    again = await hospital.call("1101", scene.lookup(a.psn_no), msgid=msgid)
    assert again == first  # a true retry (new send time, nonce and signature): word for word
    assert await scene.counts() == before


async def test_2102_of_another_bill_under_a_used_msgid_settles_nothing(scene: Scene) -> None:
    pharmacy = scene.w.pharmacy
    msgid = pharmacy.new_msgid()
    first = await pharmacy.call("2102", scene.sale("13.00"), msgid=msgid)
    assert first["infcode"] == 0, first
    before = await scene.counts()

    other = await pharmacy.call("2102", scene.sale("14.00"), msgid=msgid)
    _refused(other, msgid)
    assert await scene.counts() == before  # no settlement, entry, notice, answer or balance move

    again = await pharmacy.call("2102", scene.sale("13.00"), msgid=msgid)
    assert again == first
    assert await scene.counts() == before


async def test_2207_of_another_visit_or_bill_under_a_used_msgid_settles_nothing(
    scene: Scene,
) -> None:
    hospital = scene.w.hospital
    first_bill = await scene.visit("20.00")
    second_bill = await scene.visit("30.00")
    msgid = hospital.new_msgid()
    first = await hospital.call("2207", first_bill, msgid=msgid)
    assert first["infcode"] == 0, first
    before = await scene.counts()

    # Another visit: the handler would settle it; the stored msgid must stop that.
    _refused(await hospital.call("2207", second_bill, msgid=msgid), msgid)
    # The same visit with other content: the handler fails first (the visit is settled).
    changed = {"data": {**first_bill["data"], "acct_used_flag": "0"}}
    _refused(await hospital.call("2207", changed, msgid=msgid), msgid)
    assert await scene.counts() == before
    async with scene.runtime.sessions() as s:
        status = await s.scalar(
            text("SELECT status FROM visits WHERE mdtrt_id = :m"),
            {"m": second_bill["data"]["mdtrt_id"]},
        )
    assert status == "open"

    again = await hospital.call("2207", first_bill, msgid=msgid)
    assert again == first
    settled = await hospital.call("2207", second_bill)  # under its own msgid it settles
    assert settled["infcode"] == 0, settled


async def test_two_messages_with_one_msgid_at_once_settle_exactly_one(scene: Scene) -> None:
    pharmacy = scene.w.pharmacy
    before = await scene.counts()
    settled = 0
    for _ in range(4):
        msgid = pharmacy.new_msgid()
        answers = await asyncio.gather(
            pharmacy.call("2102", scene.sale("13.00"), msgid=msgid),
            pharmacy.call("2102", scene.sale("14.00"), msgid=msgid),
        )
        ok = [a for a in answers if a["infcode"] == 0]
        assert len(ok) == 1, answers
        _refused(next(a for a in answers if a["infcode"] != 0), msgid)
        settled += int(ok[0]["output"]["setlinfo"]["acct_pay"].replace(".", ""))
    after = await scene.counts()
    assert after["settlements"] - before["settlements"] == 4
    assert after["fsi_messages"] - before["fsi_messages"] == 4
    assert before["balance"] - after["balance"] == settled


async def test_a_retry_after_a_lost_connection_does_not_take_another_messages_answer(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crash-retry path (fsi/router.py): a message whose connection was lost is run again,
    and when its nonce is found spent it answers with the msgid's stored answer. That answer
    must be this message's, not that of another message under the same msgid."""
    hospital, a, b = scene.w.hospital, scene.w.person.person, scene.w.resident.person
    msgid = hospital.new_msgid()
    headers = hospital.headers()
    first = await hospital.call("1101", scene.lookup(a.psn_no), msgid=msgid, headers=headers)
    assert first["infcode"] == 0, first
    real = messages.remember_nonce
    lost: list[str] = []

    async def lose_the_connection_once(*args: Any, **kwargs: Any) -> None:
        if not lost:
            lost.append("once")
            raise DBAPIError("INSERT", None, ConnectionError("gone"), connection_invalidated=True)
        await real(*args, **kwargs)

    monkeypatch.setattr(messages, "remember_nonce", lose_the_connection_once)
    before = await scene.counts()
    other = await hospital.call("1101", scene.lookup(b.psn_no), msgid=msgid, headers=headers)
    assert lost
    _refused(other, msgid)
    assert await scene.counts() == before

    lost.clear()
    again = await hospital.call("1101", scene.lookup(a.psn_no), msgid=msgid, headers=headers)
    assert lost and again == first  # the same message's retry still gets its answer


async def test_another_institution_cannot_read_a_stored_answer_by_naming_its_msgid(
    scene: Scene,
) -> None:
    """The pharmacy signs with its own token but names the hospital in the envelope, with the
    hospital's msgid and the same content: refused at the gateway, never the hospital's answer."""
    hospital, pharmacy = scene.w.hospital, scene.w.pharmacy
    psn_no = scene.w.person.person.psn_no
    msgid = hospital.new_msgid()
    first = await hospital.call("1101", scene.lookup(psn_no), msgid=msgid)
    assert first["infcode"] == 0, first
    envelope = hospital.envelope("1101", scene.lookup(psn_no), msgid)
    response = await pharmacy.http.post(
        "/fsi/api/rsfComIfsService/callService", json=envelope, headers=pharmacy.headers()
    )
    answer = response.json()
    assert answer["infcode"] == -1, answer
    assert "与 x-tif-paasid 对应的机构不符" in answer["err_msg"]
    assert "output" not in answer or not answer["output"]
