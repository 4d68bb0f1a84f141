"""The transaction table decides: who needs the day's sign-in, which codes are transactions, and
how 2601 undoes each one. A transaction added as one row and one handler gets all of it.

Hospital kiosks and HIS clients send `sign_no: ""` and never call 9001 for look-ups and queries;
what writes a visit or money still needs the day's sign_no, and a region may require it always.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.support.fsi import Institution
from yibao.enrolment import repository as enrolment_repository
from yibao.fsi.call import Call, Original, Reply, Reversed
from yibao.fsi.transactions import TRANSACTIONS, Transaction
from yibao.runtime import Runtime

MUST_SIGN_IN = "请先调用 9001 签到"


class Scene:
    def __init__(self, w: settlement_world.World, id_number: str) -> None:
        self.w, self.id_number = w, id_number
        self.psn_no = w.person.person.psn_no

    def lookup(self) -> dict[str, Any]:
        return {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": self.id_number}}

    def sale(self) -> dict[str, Any]:
        return {
            "druginfo": {
                "psn_no": self.psn_no,
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": self.id_number,
                "med_type": "41",
                "medfee_sumamt": "30.00",
                "insutype": "310",
                "acct_used_flag": "1",
                "psn_setlway": "01",
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


@pytest.fixture
async def scene(runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient) -> Scene:
    w = await settlement_world.build(runtime, session, client)
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, w.person.person)
    await session.close()  # SQLite: hold no lock while the institutions call
    return Scene(w, id_number)


def _kiosk(institution: Institution) -> Institution:
    """What a kiosk sends: an empty sign_no, never a 9001."""
    institution.sign_no = ""
    return institution


async def test_look_ups_and_queries_answer_without_the_days_sign_in(scene: Scene) -> None:
    hospital = _kiosk(scene.w.hospital)
    person = await hospital.call("1101", scene.lookup())
    assert person["infcode"] == 0, person
    assert person["output"]["baseinfo"]["psn_no"] == scene.psn_no

    pharmacy = scene.w.pharmacy
    await pharmacy.sign_in()
    sold = await pharmacy.call("2102", scene.sale())
    assert sold["infcode"] == 0, sold
    setl_id = sold["output"]["setlinfo"]["setl_id"]
    query = {"data": {"psn_no": scene.psn_no, "setl_id": setl_id}}
    queried = await _kiosk(pharmacy).call("5203", query)
    assert queried["infcode"] == 0, queried
    assert queried["output"]["setlinfo"]["setl_id"] == setl_id
    # Pre-settlement writes nothing: a price check at the counter needs no sign-in either.
    priced = await pharmacy.call("2101", scene.sale())
    assert priced["infcode"] == 0, priced


async def test_what_moves_money_still_needs_the_days_sign_in(scene: Scene) -> None:
    pharmacy = _kiosk(scene.w.pharmacy)
    refused = await pharmacy.call("2102", scene.sale())
    assert refused["infcode"] == -1
    assert MUST_SIGN_IN in refused["err_msg"]
    undo = {"data": {"psn_no": scene.psn_no, "omsgid": pharmacy.new_msgid(), "oinfno": "2102"}}
    reversal = await pharmacy.call("2601", undo)
    assert reversal["infcode"] == -1
    assert MUST_SIGN_IN in reversal["err_msg"]
    # A stale sign_no on a transaction that needs it is refused too.
    pharmacy.sign_no = "20000101000000000000"
    stale = await pharmacy.call("2102", scene.sale())
    assert stale["infcode"] == -1
    assert "sign_no 无效或已过期" in stale["err_msg"]


async def test_a_region_can_require_the_sign_in_for_every_transaction(
    scene: Scene, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime.settings, "fsi_sign_in_always", True)
    hospital = _kiosk(scene.w.hospital)
    refused = await hospital.call("1101", scene.lookup())
    assert refused["infcode"] == -1
    assert MUST_SIGN_IN in refused["err_msg"]
    await hospital.sign_in()  # 9001 itself needs none
    answered = await hospital.call("1101", scene.lookup())
    assert answered["infcode"] == 0, answered


# 1306A and 100001 are answered now (tests/web/test_fsi_reference_*.py), and 3501A … 3507A
# (tests/web/test_fsi_stock.py).
@pytest.mark.parametrize("infno", ["3592B"])
async def test_codes_of_the_national_list_that_are_not_four_digits_are_transaction_codes(
    scene: Scene, infno: str
) -> None:
    """Not yet answered, but read as codes: refused as unsupported, not as malformed."""
    answer = await scene.w.hospital.call(infno, {"data": {}})
    assert answer["infcode"] == -1
    assert answer["err_msg"] == f"不支持的交易编号 infno={infno}"


@pytest.mark.parametrize(
    ("infno", "reason"),
    [
        ("1306a", "infno 应为交易编号"),
        ("13060", "infno 应为交易编号"),
        ("1306AB", "infno 应为交易编号"),
        ("１１０１", "infno 应为交易编号"),  # full-width digits
        ("1101234", "infno 过长（最多6位）"),
    ],
    ids=["small-letter", "five-digits", "two-letters", "full-width-digits", "seven-digits"],
)
async def test_other_shapes_are_refused(scene: Scene, infno: str, reason: str) -> None:
    answer = await scene.w.hospital.call(infno, {"data": {}})
    assert answer["infcode"] == -1
    assert reason in answer["err_msg"], answer["err_msg"]


async def test_a_transaction_added_as_one_row_and_one_handler_gets_the_rest(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the table changes (two made-up rows): routing, who may send it, the sign-in rule,
    msgid idempotency and 2601 come with the row."""
    runs: list[str] = []
    undone: list[Original] = []

    async def stamp(call: Call) -> Reply:
        runs.append(call.envelope.msgid)
        return Reply({"data": {"card_no": call.data().code("card_no"), "run": len(runs)}})

    async def unstamp(call: Call, original: Original) -> Reversed:
        undone.append(original)
        return Reversed("stamp")

    monkeypatch.setitem(
        TRANSACTIONS,
        "1399A",
        Transaction("盖章", stamp, kinds="H", sign_in="optional", reverse=unstamp),
    )
    monkeypatch.setitem(TRANSACTIONS, "139901", Transaction("盖章不可撤", stamp, kinds="H"))
    hospital = _kiosk(scene.w.hospital)
    card = {"data": {"card_no": "C001"}}

    # Routed, on both endpoints, to its handler; optional sign-in: an empty sign_no answers.
    msgid = hospital.new_msgid()
    first = await hospital.call("1399A", card, msgid=msgid)
    assert first["infcode"] == 0, first
    assert first["output"] == {"data": {"card_no": "C001", "run": 1}}
    by_path = await hospital.call("1399A", card, path="/fsi/api/1399A")
    assert by_path["output"]["data"]["run"] == 2
    # Idempotent by msgid: the stored answer (run 1), though the copy's handler ran (run 3) and
    # was rolled back (settlement/service/messages.py); other content under it is refused.
    again = await hospital.call("1399A", card, msgid=msgid)
    assert again == first
    assert len(runs) == 3
    reused = await hospital.call("1399A", {"data": {"card_no": "C002"}}, msgid=msgid)
    assert reused["infcode"] == -1
    assert "已用于另一笔内容不同的 1399A 报文" in reused["err_msg"]
    # Who may send it: its row's kinds.
    by_pharmacy = await _kiosk(scene.w.pharmacy).call("1399A", card)
    assert by_pharmacy["infcode"] == -1
    assert "1399A 盖章 仅限定点医院调用" in by_pharmacy["err_msg"]
    # A row that leaves the sign-in at its default needs the day's.
    unsigned = await hospital.call("139901", card)
    assert unsigned["infcode"] == -1
    assert MUST_SIGN_IN in unsigned["err_msg"]
    await hospital.sign_in()
    unstampable = hospital.new_msgid()
    signed = await hospital.call("139901", card, msgid=unstampable)
    assert signed["infcode"] == 0, signed

    # 2601 undoes it with its row's reverser …
    undo = {"data": {"psn_no": scene.psn_no, "omsgid": msgid, "oinfno": "1399A"}}
    reversed_ = await hospital.call("2601", undo)
    assert reversed_["infcode"] == 0, reversed_
    assert reversed_["output"]["data"]["rever_result"] == "stamp"
    assert reversed_["warn_msg"] is None
    assert undone == [Original("1399A", msgid, scene.psn_no)]
    # … refuses one whose row names none …
    undo = {"data": {"psn_no": scene.psn_no, "omsgid": unstampable, "oinfno": "139901"}}
    refused = await hospital.call("2601", undo)
    assert refused["infcode"] == -1
    assert refused["err_msg"] == "交易 139901（盖章不可撤）不能冲正"
    # … and answers "nothing" for a code yibao never answered.
    undo = {"data": {"psn_no": scene.psn_no, "omsgid": msgid, "oinfno": "1306A"}}
    nothing = await hospital.call("2601", undo)
    assert nothing["infcode"] == 0, nothing
    assert nothing["output"]["data"]["rever_result"] == "nothing"
    assert len(undone) == 1
