"""Bad input of every kind answers infcode -1 with a precise err_msg, never a 500, and writes nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.support.fsi import Institution, sign
from yibao.enrolment import repository as enrolment_repository
from yibao.fsi.errors import INTERNAL_ERROR
from yibao.ledger import service as ledger_service
from yibao.ledger.tables import LedgerEntry
from yibao.notifications.tables import OutboxMessage
from yibao.runtime import Runtime
from yibao.settlement import service
from yibao.settlement.tables import FeeDetail, InterfaceMessage, Settlement, Visit

COUNTED = [Settlement, LedgerEntry, InterfaceMessage, Visit, FeeDetail, OutboxMessage]


async def _counts(runtime: Runtime) -> dict[str, int]:
    async with runtime.sessions() as s:
        return {
            t.__tablename__: int(
                (await s.execute(select(func.count()).select_from(t))).scalar_one()
            )
            for t in COUNTED
        }


class Scene:
    def __init__(self, runtime: Runtime, w: settlement_world.World, id_number: str, mdtrt_id: str):
        self.runtime = runtime
        self.w = w
        self.id_number = id_number
        self.mdtrt_id = mdtrt_id
        self.psn_no = w.person.person.psn_no
        self.person_id = w.person.person.id
        self.written: dict[str, int] = {}  # rows a case's own set-up wrote before its message

    def bill(self, **changes: Any) -> dict[str, Any]:
        data = {
            "psn_no": self.psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": self.id_number,
            "med_type": "11",
            "medfee_sumamt": "50.00",
            "psn_setlway": "01",
            "mdtrt_id": self.mdtrt_id,
            "insutype": "310",
            "acct_used_flag": "1",
        }
        data.update(changes)
        return {"data": {k: v for k, v in data.items() if v is not None}}


@pytest.fixture
async def scene(runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient) -> Scene:
    w = await settlement_world.build(runtime, session, client)
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, w.person.person)
    await session.close()
    await w.hospital.sign_in()
    await w.pharmacy.sign_in()
    reg = await w.hospital.call(
        "2201",
        {
            "data": {
                "psn_no": w.person.person.psn_no,
                "insutype": "310",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": id_number,
            }
        },
    )
    mdtrt_id = reg["output"]["data"]["mdtrt_id"]
    up = await w.hospital.call(
        "2204",
        {
            "feedetail": [
                {
                    "feedetl_sn": "1",
                    "mdtrt_id": mdtrt_id,
                    "psn_no": w.person.person.psn_no,
                    "med_list_codg": "XA01ABD075A002010100483",
                    "pric": "25.00",
                    "cnt": "2",
                    "det_item_fee_sumamt": "50.00",
                }
            ]
        },
    )
    assert up["infcode"] == 0, up
    return Scene(runtime, w, id_number, mdtrt_id)


async def _raw(
    client: httpx.AsyncClient,
    inst: Institution,
    body: bytes,
    path: str = "/fsi/api/rsfComIfsService/callService",
    **headers: str,
) -> dict[str, Any]:
    response = await client.post(
        path, content=body, headers={**inst.headers(**headers), "content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


Case = Callable[[Scene, httpx.AsyncClient], Awaitable[dict[str, Any]]]


async def bad_json(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await _raw(c, s.w.hospital, b'{"infno": "2207", ')


async def not_an_object(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await _raw(c, s.w.hospital, b"[1, 2]")


async def unknown_infno(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.hospital.call("9999", {"data": {}})


async def path_mismatch(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.hospital.call("2207", s.bill(), path="/fsi/api/2206")


async def missing_psn_no(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.hospital.call("2207", s.bill(psn_no=None))


async def three_decimals(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.hospital.call("2207", s.bill(medfee_sumamt="50.001"))


async def negative_amount(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.hospital.call("2207", s.bill(medfee_sumamt="-50.00"))


async def words_for_amount(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.hospital.call("2207", s.bill(medfee_sumamt="五十元"))


async def total_mismatch(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.hospital.call("2207", s.bill(medfee_sumamt="49.99"))


async def unknown_person(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.hospital.call("2207", s.bill(psn_no="440300999999999999"))


async def someone_elses_id(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.hospital.call("2207", s.bill(mdtrt_cert_no="11010519491231002X"))


async def bad_acct_flag(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.hospital.call("2207", s.bill(acct_used_flag="2"))


async def unknown_visit(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.hospital.call("2207", s.bill(mdtrt_id="M2026000000000000000000"))


async def stale_ec_token(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.hospital.call(
        "2207", s.bill(mdtrt_cert_type="01", mdtrt_cert_no="not-a-token")
    )


async def pharmacy_sends_2207(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.pharmacy.call("2207", s.bill())


async def no_sign_no(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    s.w.hospital.sign_no = None
    return await s.w.hospital.call("2207", s.bill())


async def bad_msgid(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.hospital.call("2207", s.bill(), msgid="12345")


async def bad_signature(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.hospital.call(
        "2207", s.bill(), headers=s.w.hospital.headers(**{"x-tif-signature": "0" * 64})
    )


async def old_timestamp(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    ts = str(int(time.time()) - 301)
    headers = s.w.hospital.headers(
        **{
            "x-tif-timestamp": ts,
            "x-tif-nonce": "n1",
            "x-tif-signature": sign(ts, s.w.hospital.token, "n1"),
        }
    )
    return await s.w.hospital.call("2207", s.bill(), headers=headers)


async def replayed_nonce(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    headers = s.w.hospital.headers()
    first = await s.w.hospital.call(
        "5203", {"data": {"psn_no": s.psn_no, "setl_id": "x"}}, headers=headers
    )
    assert first["infcode"] == -1  # no such settlement, but the nonce is now used
    return await s.w.hospital.call("2207", s.bill(), headers=headers)


async def missing_headers(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    body = json.dumps(s.w.hospital.envelope("2207", s.bill())).encode()
    response = await c.post("/fsi/api/rsfComIfsService/callService", content=body)
    answer: dict[str, Any] = response.json()
    return answer


async def other_institutions_code(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    envelope = s.w.pharmacy.envelope("2207", s.bill())
    return await _raw(c, s.w.hospital, json.dumps(envelope).encode())


async def suspended(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    async with s.runtime.sessions() as session:
        await service.suspend_institution(session, s.w.hospital.code, s.runtime.clock)
    return await s.w.hospital.call("2207", s.bill())


async def frozen_account(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    async with s.runtime.sessions() as session:
        await ledger_service.freeze_account(
            session, s.person_id, "违规使用：冒名就医", s.runtime.clock
        )
    return await s.w.hospital.call("2207", s.bill())


async def duplicate_fee_sn(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    line = {
        "feedetl_sn": "1",
        "mdtrt_id": s.mdtrt_id,
        "psn_no": s.psn_no,
        "med_list_codg": "XA01ABD075A002010100483",
        "pric": "1.00",
        "cnt": "1",
        "det_item_fee_sumamt": "1.00",
    }
    return await s.w.hospital.call("2204", {"feedetail": [line]})


async def price_times_count(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    line = {
        "feedetl_sn": "9",
        "mdtrt_id": s.mdtrt_id,
        "psn_no": s.psn_no,
        "med_list_codg": "XA01ABD075A002010100483",
        "pric": "2.00",
        "cnt": "3",
        "det_item_fee_sumamt": "7.00",
    }
    return await s.w.hospital.call("2204", {"feedetail": [line]})


async def unknown_setl_id(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.hospital.call(
        "2208", {"data": {"setl_id": "S000", "mdtrt_id": s.mdtrt_id, "psn_no": s.psn_no}}
    )


async def msgid_reused_for_other_infno(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    msgid = s.w.hospital.new_msgid()
    first = await s.w.hospital.call(
        "1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": s.id_number}}, msgid=msgid
    )
    assert first["infcode"] == 0
    return await s.w.hospital.call("2207", s.bill(), msgid=msgid)


def _line(s: Scene, **changes: Any) -> dict[str, Any]:
    line = {
        "feedetl_sn": "7",
        "mdtrt_id": s.mdtrt_id,
        "psn_no": s.psn_no,
        "med_list_codg": "XA01ABD075A002010100483",
        "pric": "2.00",
        "cnt": "1",
        "det_item_fee_sumamt": "2.00",
        "fee_ocur_time": "2026-11-25 09:15:30",
    }
    line.update(changes)
    return line


async def _upload(s: Scene, c: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    """A 2204 sent as raw JSON (escapes such as a lone surrogate pass as written)."""
    envelope = s.w.hospital.envelope("2204", {"feedetail": [_line(s, **changes)]})
    return await _raw(c, s.w.hospital, json.dumps(envelope, ensure_ascii=True).encode())


async def deep_nesting(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await _raw(c, s.w.hospital, b"[" * 100_000)


async def deep_nesting_in_input(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    nested: Any = "x"
    for _ in range(60):
        nested = {"x": nested}
    return await s.w.hospital.call("2207", {"data": {**s.bill()["data"], "memo": nested}})


def _timestamp_headers(s: Scene, timestamp: bytes) -> dict[str, Any]:
    # The server reads header bytes as Latin-1, as ASGI does; the signature is over that text.
    nonce = "n-timestamp"
    signed = sign(timestamp.decode("latin-1"), s.w.hospital.token, nonce)
    return {
        "x-tif-paasid": s.w.hospital.paasid,
        "x-tif-timestamp": timestamp,
        "x-tif-nonce": nonce,
        "x-tif-signature": signed,
    }


async def superscript_digit_timestamp(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    # '²' is a digit to str.isdigit() but not to int(): it used to reach the internal error.
    stamp = str(int(time.time()))[:-1].encode() + b"\xb2"
    return await s.w.hospital.call("2207", s.bill(), headers=_timestamp_headers(s, stamp))


async def huge_timestamp(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.hospital.call("2207", s.bill(), headers=_timestamp_headers(s, b"9" * 5000))


async def count_with_exponent(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await _upload(s, c, cnt="1E+30")


async def price_of_ten_to_the_twentieth(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await _upload(s, c, pric=10**20, det_item_fee_sumamt=10**20)


async def lone_surrogate(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await _upload(s, c, med_list_codg="XA01\ud800")


async def fourteen_digit_amount(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.hospital.call("2207", s.bill(medfee_sumamt=10**13))


async def visit_total_past_thirteen_digits(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    """Each line within the bound, their total past it: the 2206 must not compute it."""
    lines = [
        _line(s, feedetl_sn=sn, pric="9999999999999.50", det_item_fee_sumamt="9999999999999.50")
        for sn in ("21", "22")
    ]
    uploaded = await s.w.hospital.call("2204", {"feedetail": lines})
    assert uploaded["infcode"] == 0, uploaded
    s.written = {"fsi_messages": 1, "fee_details": 2}
    return await s.w.hospital.call("2206", s.bill(medfee_sumamt=19999999999999 + 50))


async def full_width_amount(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await s.w.hospital.call("2207", s.bill(medfee_sumamt="５０.００"))


async def full_width_code(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await _upload(s, c, feedetl_sn="７")


async def nul_in_code(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await _upload(s, c, med_list_codg="XA01ABD075A002010100483\u0000")


async def bidi_override_in_code(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await _upload(s, c, feedetl_sn="7\u202e8")


async def bidi_override_in_name(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    lookup = {"mdtrt_cert_type": "02", "mdtrt_cert_no": s.id_number, "psn_name": "\u202e张伟"}
    return await s.w.hospital.call("1101", {"data": lookup})


async def impossible_fee_time(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    return await _upload(s, c, fee_ocur_time="2026-13-45 99:99:99")


async def arabic_indic_msgid(s: Scene, c: httpx.AsyncClient) -> dict[str, Any]:
    digits = s.w.hospital.new_msgid()[12:].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    return await s.w.hospital.call("2207", s.bill(), msgid=s.w.hospital.code + digits)


CASES: list[tuple[Case, str]] = [
    (bad_json, "不是合法的 JSON"),
    (not_an_object, "报文 应为 JSON 对象"),
    (unknown_infno, "不支持的交易编号 infno=9999"),
    (path_mismatch, "请求路径的交易编号 2206 与报文 infno 2207 不一致"),
    (missing_psn_no, "input.data.psn_no 缺失"),
    (three_decimals, "input.data.medfee_sumamt 应为金额"),
    (negative_amount, "input.data.medfee_sumamt 不能为负数"),
    (words_for_amount, "input.data.medfee_sumamt 应为金额"),
    (total_mismatch, "medfee_sumamt 49.99 与费用明细合计 50.00 不符"),
    (unknown_person, "未找到人员编号"),
    (someone_elses_id, "身份证号与参保人不符"),
    (bad_acct_flag, "acct_used_flag 应为 0 或 1"),
    (unknown_visit, "本机构没有该参保人的就诊"),
    (stale_ec_token, "医保电子凭证无效或已过期"),
    (pharmacy_sends_2207, "仅限定点医院调用"),
    (no_sign_no, "请先调用 9001 签到"),
    (bad_msgid, "msgid 应为30位"),
    (bad_signature, "x-tif-signature 签名不正确"),
    (old_timestamp, "超过 300 秒"),
    (replayed_nonce, "x-tif-nonce 已使用过"),
    (missing_headers, "缺少请求头 x-tif-paasid"),
    (other_institutions_code, "与 x-tif-paasid 对应的机构不符"),
    (suspended, "已暂停医保结算资格"),
    (frozen_account, "个人账户已冻结"),
    (duplicate_fee_sn, "费用明细流水号重复：1"),
    (price_times_count, "det_item_fee_sumamt 应等于 pric × cnt"),
    (unknown_setl_id, "本机构没有结算 setl_id=S000"),
    (msgid_reused_for_other_infno, "已用于"),
    (deep_nesting, "报文嵌套过深"),
    (deep_nesting_in_input, "input.data.memo"),
    (superscript_digit_timestamp, "x-tif-timestamp 应为 Unix 秒数"),
    (huge_timestamp, "x-tif-timestamp 应为 Unix 秒数"),
    (count_with_exponent, "input.feedetail[0].cnt"),
    (price_of_ten_to_the_twentieth, "input.feedetail[0].pric"),
    (lone_surrogate, "input.feedetail[0].med_list_codg"),
    (fourteen_digit_amount, "input.data.medfee_sumamt 应为金额"),
    (visit_total_past_thirteen_digits, "input.data.medfee_sumamt 应为金额"),
    (full_width_amount, "input.data.medfee_sumamt 应为金额"),
    (full_width_code, "input.feedetail[0].feedetl_sn"),
    (nul_in_code, "input.feedetail[0].med_list_codg"),
    (bidi_override_in_code, "input.feedetail[0].feedetl_sn"),
    (bidi_override_in_name, "input.data.psn_name"),
    (impossible_fee_time, "input.feedetail[0].fee_ocur_time"),
    (arabic_indic_msgid, "msgid 应为30位"),
]


@pytest.mark.parametrize(("case", "reason"), CASES, ids=[c.__name__ for c, _ in CASES])
async def test_bad_input_answers_minus_one_and_writes_nothing(
    scene: Scene, client: httpx.AsyncClient, case: Case, reason: str
) -> None:
    before = await _counts(scene.runtime)
    answer = await case(scene, client)
    assert answer["infcode"] == -1, answer
    assert reason in answer["err_msg"], answer["err_msg"]
    assert answer["output"] == {}
    assert answer["err_msg"] != INTERNAL_ERROR
    after = await _counts(scene.runtime)
    if case is msgid_reused_for_other_infno:
        before["fsi_messages"] += 1  # the 1101 before it, answered once
    for table, rows in scene.written.items():
        before[table] += rows
    assert after == before


async def test_a_timestamp_in_another_scripts_digits_is_refused(scene: Scene) -> None:
    """int() reads Arabic-Indic or full-width digits; a timestamp written in them (signed as
    written) must not pass the gateway. HTTP headers arrive as Latin-1, so this is checked on
    the gateway's own use case, which any channel may call."""
    hospital = scene.w.hospital
    for digits in ("٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９"):
        stamp = str(int(time.time())).translate(str.maketrans("0123456789", digits))
        async with scene.runtime.sessions() as session:
            with pytest.raises(service.GatewayRefused, match="x-tif-timestamp 应为 Unix 秒数"):
                await service.verify_gateway(
                    session,
                    scene.runtime.cipher,
                    scene.runtime.clock,
                    paasid=hospital.paasid,
                    timestamp=stamp,
                    nonce="n-digits",
                    signed=sign(stamp, hospital.token, "n-digits"),
                )
