"""A pharmacy sale and its electronic settlement voucher, as the voucher tests send them."""

from __future__ import annotations

import base64
from typing import Any

from tests.support.fsi import Institution

# The smallest PDF the upload check accepts: a header, a catalogue, a trailer and %%EOF.
PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


async def sale(
    pharmacy: Institution, psn_no: str, id_number: str, *, msgid: str | None = None
) -> dict[str, Any]:
    """A 2102 of 60.00 (an account payment of 11.40 with 2000 fen in the account); its setlinfo."""
    body = {
        "druginfo": {
            "psn_no": psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": id_number,
            "med_type": "41",
            "medfee_sumamt": "60.00",
            "insutype": "310",
            "acct_used_flag": "1",
            "psn_setlway": "01",
        },
        "drugdetail": [
            {
                "feedetl_sn": "1",
                "med_list_codg": "XR05XAK122A001010101235",
                "pric": "15.00",
                "cnt": "2",
                "det_item_fee_sumamt": "30.00",
            },
            {
                "feedetl_sn": "2",
                "med_list_codg": "XA01ABD075A002010100483",
                "pric": "15.00",
                "cnt": "2",
                "det_item_fee_sumamt": "30.00",
            },
        ],
    }
    answer = await pharmacy.call("2102", body, msgid=msgid)
    assert answer["infcode"] == 0, answer
    setlinfo: dict[str, Any] = answer["output"]["setlinfo"]
    return setlinfo


def voucher(setlinfo: dict[str, Any], *, document: bytes | None = PDF, **override: Any) -> dict:
    """A 4901 input for the settlement its setlinfo describes."""
    data: dict[str, Any] = {
        "setl_id": setlinfo["setl_id"],
        "psn_no": setlinfo["psn_no"],
        "psn_name": setlinfo["psn_name"],
        "bill_code": "44030126",
        "bill_no": "0000012345",
        "bill_chkcode": "a1b2c3",
        "bill_time": setlinfo["setl_time"],
        "biller": "收费员",
        "rechker": "复核员",
        "medfee_sumamt": setlinfo["medfee_sumamt"],
        "bill_amt": setlinfo["medfee_sumamt"],
        "fund_pay_sumamt": setlinfo["fund_pay_sumamt"],
        "hifp_pay": setlinfo["hifp_pay"],
        "acct_pay": setlinfo["acct_pay"],
        "acct_mulaid_pay": setlinfo["acct_mulaid_pay"],
        "psn_cash_pay": setlinfo["psn_cash_pay"],
    }
    if document is not None:
        data["file_name"] = "电子结算凭证.pdf"
        data["file"] = base64.b64encode(document).decode()
    data.update(override)
    return {"data": data}
