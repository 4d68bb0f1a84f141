"""2601 冲正 of a 2204 fee upload: the lines that message uploaded are withdrawn, nothing else.

A hospital sends 2601 when a 2204's answer was lost; the lines must then not be billed by a later
2207. Once the visit is settled the upload is part of a settlement and is refused until that is
cancelled; a second reversal finds nothing left to undo. A 2201's reversal withdraws the visit
once, and only under the patient's own psn_no.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.support.fsi import Institution
from yibao.enrolment import repository as enrolment_repository
from yibao.runtime import Runtime

# feedetl_sn, code, pric, cnt, total
FIRST = [
    ("1", "XA01ABD075A002010100483", "25.00", "2", "50.00"),
    ("2", "XC09AAD012A001010104291", "80.00", "1", "80.00"),
]
LATER = [("3", "XN06AXA063A001010101005", "30.00", "1", "30.00")]


class Visit:
    def __init__(
        self,
        hospital: Institution,
        psn_no: str,
        id_number: str,
        mdtrt_id: str,
        *,
        registration: str = "",
        other_psn_no: str = "",
    ) -> None:
        self.hospital, self.psn_no, self.id_number, self.mdtrt_id = (
            hospital,
            psn_no,
            id_number,
            mdtrt_id,
        )
        self.registration = registration  # the 2201's msgid
        self.other_psn_no = other_psn_no  # another insured person's, for a wrong psn_no

    async def upload(self, lines: list[tuple[str, str, str, str, str]]) -> str:
        msgid = self.hospital.new_msgid()
        feedetail = [
            {
                "feedetl_sn": sn,
                "mdtrt_id": self.mdtrt_id,
                "psn_no": self.psn_no,
                "med_list_codg": code,
                "pric": pric,
                "cnt": cnt,
                "det_item_fee_sumamt": total,
            }
            for sn, code, pric, cnt, total in lines
        ]
        answer = await self.hospital.call("2204", {"feedetail": feedetail}, msgid=msgid)
        assert answer["infcode"] == 0, answer
        return msgid

    async def reverse(
        self,
        omsgid: str,
        *,
        msgid: str | None = None,
        oinfno: str = "2204",
        psn_no: str | None = None,
    ) -> dict[str, Any]:
        return await self.hospital.call(
            "2601",
            {"data": {"psn_no": psn_no or self.psn_no, "omsgid": omsgid, "oinfno": oinfno}},
            msgid=msgid,
        )

    async def settle(self, medfee_sumamt: str, *, msgid: str | None = None) -> dict[str, Any]:
        bill = {
            "psn_no": self.psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": self.id_number,
            "med_type": "11",
            "medfee_sumamt": medfee_sumamt,
            "psn_setlway": "01",
            "mdtrt_id": self.mdtrt_id,
            "insutype": "310",
            "acct_used_flag": "1",
        }
        return await self.hospital.call("2207", {"data": bill}, msgid=msgid)


async def _visit(runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient) -> Visit:
    w = await settlement_world.build(runtime, session, client, balance_fen=50000)
    person = w.person.person
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, person)
    await session.close()  # SQLite: hold no lock while the hospital calls
    await w.hospital.sign_in()
    msgid = w.hospital.new_msgid()
    registered = await w.hospital.call(
        "2201",
        {
            "data": {
                "psn_no": person.psn_no,
                "insutype": "310",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": id_number,
                "med_type": "11",
            }
        },
        msgid=msgid,
    )
    assert registered["infcode"] == 0, registered
    return Visit(
        w.hospital,
        person.psn_no,
        id_number,
        registered["output"]["data"]["mdtrt_id"],
        registration=msgid,
        other_psn_no=w.resident.person.psn_no,
    )


async def _state(runtime: Runtime, mdtrt_id: str) -> dict[str, Any]:
    async with runtime.sessions() as s:
        lines = await s.execute(
            text(
                "SELECT f.feedetl_sn FROM fee_details f JOIN visits v ON v.id = f.visit_id"
                " WHERE v.mdtrt_id = :m ORDER BY f.feedetl_sn"
            ),
            {"m": mdtrt_id},
        )
        return {
            "lines": [row[0] for row in lines],
            "visit": await s.scalar(
                text("SELECT status FROM visits WHERE mdtrt_id = :m"), {"m": mdtrt_id}
            ),
            "settlements": [
                tuple(row)
                for row in await s.execute(
                    text("SELECT setl_id, status FROM settlements WHERE mdtrt_id = :m"),
                    {"m": mdtrt_id},
                )
            ],
            "balance": await s.scalar(text("SELECT sum(balance_fen) FROM personal_accounts")),
            "entries": await s.scalar(text("SELECT count(*) FROM ledger_entries")),
        }


async def test_reversing_an_upload_withdraws_its_lines_and_only_those(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    visit = await _visit(runtime, session, client)
    first = await visit.upload(FIRST)
    await visit.upload(LATER)

    reversed_ = await visit.reverse(first)
    assert reversed_["infcode"] == 0, reversed_
    assert reversed_["output"]["data"] == {
        "omsgid": first,
        "oinfno": "2204",
        "rever_result": "fees",
        "setl_id": None,
        "balc": None,
    }
    assert not reversed_["warn_msg"]
    assert (await _state(runtime, visit.mdtrt_id))["lines"] == ["3"]

    # The withdrawn lines are not billed: the old total no longer matches, the later upload's does.
    refused = await visit.settle("160.00")
    assert refused["infcode"] == -1 and "30.00" in refused["err_msg"], refused
    settled = await visit.settle("30.00")
    assert settled["infcode"] == 0, settled
    setl_id = settled["output"]["setlinfo"]["setl_id"]
    query = await visit.hospital.call(
        "5203", {"data": {"psn_no": visit.psn_no, "setl_id": setl_id}}
    )
    assert [line["feedetl_sn"] for line in query["output"]["feedetail"]] == ["3"]


async def test_a_visit_whose_only_upload_was_reversed_has_nothing_to_settle(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    visit = await _visit(runtime, session, client)
    upload = await visit.upload(FIRST)
    assert (await visit.reverse(upload))["output"]["data"]["rever_result"] == "fees"

    refused = await visit.settle("130.00")
    assert refused["infcode"] == -1 and "还没有上传费用明细" in refused["err_msg"], refused
    # The serial numbers are free again: the hospital may upload the corrected lines.
    await visit.upload(FIRST)
    assert (await visit.settle("130.00"))["infcode"] == 0


async def test_reversing_an_upload_of_a_settled_visit_is_refused_until_it_is_cancelled(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    visit = await _visit(runtime, session, client)
    upload = await visit.upload(FIRST)
    settled = await visit.settle("130.00")
    assert settled["infcode"] == 0, settled
    before = await _state(runtime, visit.mdtrt_id)

    msgid = visit.hospital.new_msgid()
    refused = await visit.reverse(upload, msgid=msgid)
    assert refused["infcode"] == -1, refused
    assert "已结算" in refused["err_msg"] and "2208" in refused["err_msg"], refused
    assert await _state(runtime, visit.mdtrt_id) == before
    async with runtime.sessions() as s:  # a refusal stores no answer: a retry is processed afresh
        stored = await s.scalar(
            text("SELECT count(*) FROM fsi_messages WHERE msgid = :m"), {"m": msgid}
        )
        assert stored == 0

    setl_id = settled["output"]["setlinfo"]["setl_id"]
    cancelled = await visit.hospital.call(
        "2208", {"data": {"setl_id": setl_id, "mdtrt_id": visit.mdtrt_id, "psn_no": visit.psn_no}}
    )
    assert cancelled["infcode"] == 0, cancelled
    # Once the settlement is cancelled the visit is open again and the upload can be reversed.
    retried = await visit.reverse(upload, msgid=msgid)
    assert retried["infcode"] == 0 and retried["output"]["data"]["rever_result"] == "fees"
    after = await _state(runtime, visit.mdtrt_id)
    assert after["lines"] == [] and after["visit"] == "open"
    assert after["settlements"] == [(setl_id, "cancelled")]


async def test_reversing_an_upload_twice(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    visit = await _visit(runtime, session, client)
    upload = await visit.upload(FIRST)
    msgid = visit.hospital.new_msgid()
    first = await visit.reverse(upload, msgid=msgid)
    assert first["infcode"] == 0 and first["output"]["data"]["rever_result"] == "fees", first

    # The same 2601 again (a retry after a lost answer): the first answer, word for word.
    assert await visit.reverse(upload, msgid=msgid) == first

    # A new 2601 of the same upload: nothing is left to undo, as for a cancelled settlement.
    await visit.upload(LATER)
    again = await visit.reverse(upload)
    assert again["infcode"] == 0, again
    assert again["output"]["data"]["rever_result"] == "nothing"
    assert again["warn_msg"] == "原交易未产生需要冲正的数据"
    assert (await _state(runtime, visit.mdtrt_id))["lines"] == ["3"]


async def _stored_answers(runtime: Runtime, msgid: str) -> int:
    async with runtime.sessions() as s:
        count = await s.scalar(
            text("SELECT count(*) FROM fsi_messages WHERE msgid = :m"), {"m": msgid}
        )
        return int(count or 0)


async def test_reversing_a_registration_twice(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    visit = await _visit(runtime, session, client)
    msgid = visit.hospital.new_msgid()
    first = await visit.reverse(visit.registration, msgid=msgid, oinfno="2201")
    assert first["infcode"] == 0, first
    assert first["output"]["data"]["rever_result"] == "visit"
    assert not first["warn_msg"]
    after_first = await _state(runtime, visit.mdtrt_id)
    assert after_first["visit"] == "cancelled"

    # The same 2601 again (a retry after a lost answer): the first answer, word for word.
    assert await visit.reverse(visit.registration, msgid=msgid, oinfno="2201") == first

    # A new 2601 of the same registration: the visit is already withdrawn, nothing to undo.
    again = await visit.reverse(visit.registration, oinfno="2201")
    assert again["infcode"] == 0, again
    assert again["output"]["data"] == {
        "omsgid": visit.registration,
        "oinfno": "2201",
        "rever_result": "nothing",
        "setl_id": None,
        "balc": None,
    }
    assert again["warn_msg"] == "原交易未产生需要冲正的数据"
    assert await _state(runtime, visit.mdtrt_id) == after_first


async def test_reversing_a_registration_under_another_persons_psn_no_is_refused(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    """As a 2601 of a 2207 naming someone else: refused, not answered "nothing", so the hospital
    does not take a visit that is still open for a withdrawn one."""
    visit = await _visit(runtime, session, client)
    await visit.upload(FIRST)
    before = await _state(runtime, visit.mdtrt_id)

    msgid = visit.hospital.new_msgid()
    refused = await visit.reverse(
        visit.registration, msgid=msgid, oinfno="2201", psn_no=visit.other_psn_no
    )
    assert refused["infcode"] == -1, refused
    assert "参保人不符" in refused["err_msg"], refused
    assert await _state(runtime, visit.mdtrt_id) == before
    assert before["visit"] == "open"
    assert await _stored_answers(runtime, msgid) == 0  # a refusal stores no answer

    # An unknown psn_no is refused as well; the patient's own undoes the registration.
    unknown = await visit.reverse(visit.registration, oinfno="2201", psn_no="9" * 20)
    assert unknown["infcode"] == -1, unknown
    assert await _state(runtime, visit.mdtrt_id) == before
    done = await visit.reverse(visit.registration, msgid=msgid, oinfno="2201")
    assert done["infcode"] == 0 and done["output"]["data"]["rever_result"] == "visit", done
    assert (await _state(runtime, visit.mdtrt_id))["visit"] == "cancelled"


async def test_reversing_a_cancelled_settlement_under_another_persons_psn_no_is_refused(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    """The person is checked before the settlement's state, as for a 2201: once the settlement
    is undone, another person's psn_no is still refused rather than answered "nothing"."""
    visit = await _visit(runtime, session, client)
    await visit.upload(FIRST)
    omsgid = visit.hospital.new_msgid()
    settled = await visit.settle("130.00", msgid=omsgid)
    assert settled["infcode"] == 0, settled
    undone = await visit.reverse(omsgid, oinfno="2207")
    assert undone["infcode"] == 0 and undone["output"]["data"]["rever_result"] == "settlement"
    before = await _state(runtime, visit.mdtrt_id)

    refused = await visit.reverse(omsgid, oinfno="2207", psn_no=visit.other_psn_no)
    assert refused["infcode"] == -1 and "参保人不符" in refused["err_msg"], refused
    assert await _state(runtime, visit.mdtrt_id) == before
    again = await visit.reverse(omsgid, oinfno="2207")
    assert again["infcode"] == 0 and again["output"]["data"]["rever_result"] == "nothing", again


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
async def test_a_reversal_racing_the_settlement_never_leaves_half_of_each(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    """Either the 2207 billed the lines and the 2601 is refused, or the 2601 withdrew them and
    the 2207 finds nothing to bill; never a settlement of lines that are gone."""
    first = await _visit(runtime, session, client)
    visits = [first]
    for _ in range(5):
        registered = await first.hospital.call(
            "2201",
            {
                "data": {
                    "psn_no": first.psn_no,
                    "insutype": "310",
                    "mdtrt_cert_type": "02",
                    "mdtrt_cert_no": first.id_number,
                }
            },
        )
        assert registered["infcode"] == 0, registered
        mdtrt_id = registered["output"]["data"]["mdtrt_id"]
        visits.append(Visit(first.hospital, first.psn_no, first.id_number, mdtrt_id))
    uploads = [await visit.upload(FIRST) for visit in visits]

    # Half the pairs send the reversal first, so both orders of arrival are raced.
    pairs = [
        (visit.settle("130.00"), visit.reverse(upload))
        if n % 2
        else (visit.reverse(upload), visit.settle("130.00"))
        for n, (visit, upload) in enumerate(zip(visits, uploads, strict=True))
    ]
    answers = await asyncio.gather(*(call for pair in pairs for call in pair))
    for n, visit in enumerate(visits):
        settled, reversed_ = answers[2 * n : 2 * n + 2][:: 1 if n % 2 else -1]
        state = await _state(runtime, visit.mdtrt_id)
        if settled["infcode"] == 0:
            assert reversed_["infcode"] == -1 and "已结算" in reversed_["err_msg"], reversed_
            assert state["lines"] == ["1", "2"] and state["visit"] == "settled"
        else:
            assert reversed_["output"]["data"]["rever_result"] == "fees", reversed_
            # Refused for want of lines, or (PostgreSQL: it read them before the lock came
            # free) because they changed under it: either way nothing was billed.
            assert settled["infcode"] == -1, settled
            assert any(m in settled["err_msg"] for m in ("还没有上传费用明细", "并发修改")), settled
            assert state["lines"] == [] and state["visit"] == "open"
            assert state["settlements"] == []
