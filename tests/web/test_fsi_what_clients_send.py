"""What real clients send, as they send it: amounts as JSON numbers or as text, and `infcode`
read as a number (yibao answers 0 and -1 as JSON numbers; the reference client accepts 0 or "0",
as some platforms answer).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.support.fsi import Institution
from yibao.cli.fsi_client import succeeded
from yibao.enrolment import repository as enrolment_repository
from yibao.runtime import Runtime


def _sale(psn_no: str, id_number: str, amount: Any, price: Any, count: Any) -> dict[str, Any]:
    return {
        "druginfo": {
            "psn_no": psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": id_number,
            "med_type": "41",
            "medfee_sumamt": amount,
            "insutype": "310",
            "acct_used_flag": "1",
            "psn_setlway": "01",
        },
        "drugdetail": [
            {
                "feedetl_sn": "1",
                "med_list_codg": "XA01ABD075A002010100483",
                "pric": price,
                "cnt": count,
                "det_item_fee_sumamt": amount,
            }
        ],
    }


async def _send_raw(pharmacy: Institution, body: str) -> dict[str, Any]:
    response = await pharmacy.http.post(
        "/fsi/api/rsfComIfsService/callService",
        content=body.encode(),
        headers={**pharmacy.headers(), "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_amounts_as_json_numbers_settle_like_amounts_as_text(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    w = await settlement_world.build(runtime, session, client)
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, w.person.person)
    await session.close()
    pharmacy, psn_no = w.pharmacy, w.person.person.psn_no
    await pharmacy.sign_in()

    as_text = await pharmacy.call("2101", _sale(psn_no, id_number, "30.50", "15.25", "2"))
    assert as_text["infcode"] == 0, as_text
    # Numbers exactly as a POS writes them: 30.50 and 15.25 (not re-rounded floats), 2.
    placeholder = _sale(psn_no, id_number, "@amount", "@price", "@count")
    envelope = json.dumps(pharmacy.envelope("2102", placeholder))
    numbers = (
        envelope.replace('"@amount"', "30.50").replace('"@price"', "15.25").replace('"@count"', "2")
    )
    settled = await _send_raw(pharmacy, numbers)
    assert settled["infcode"] == 0, settled
    assert type(settled["infcode"]) is int
    for name in ("medfee_sumamt", "hifp_pay", "acct_pay", "psn_cash_pay"):
        assert settled["output"]["setlinfo"][name] == as_text["output"]["setlinfo"][name]
    assert settled["output"]["setlinfo"]["medfee_sumamt"] == "30.50"
    # The same msgid resent with the amounts as text (written the same) is the same message.
    as_strings = envelope.replace("@amount", "30.50").replace("@price", "15.25")
    as_strings = as_strings.replace('"@count"', "2")
    retried = await _send_raw(pharmacy, as_strings)
    assert retried == settled

    refused = await pharmacy.call("2102", _sale(psn_no, id_number, 30.505, "15.25", "2"))
    assert refused["infcode"] == -1
    assert type(refused["infcode"]) is int
    assert "应为金额（元，最多13位整数、2位小数），收到 '30.505'" in refused["err_msg"]


def test_the_reference_client_reads_infcode_as_a_number_or_text() -> None:
    assert succeeded({"infcode": 0})
    assert succeeded({"infcode": "0"})
    assert not succeeded({"infcode": -1})
    assert not succeeded({"infcode": "-1"})
    assert not succeeded({})
