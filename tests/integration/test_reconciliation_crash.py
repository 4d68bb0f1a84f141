"""A settlement whose answer the hospital never got: the server is SIGKILLed once a 2207 has
committed and before the hospital reads its answer. After the restart the hospital's 3201 is
不平 and its 3202 lists the settlement (with the msgid that made it); the hospital resolves it
either way:
- 2601 of that msgid: the money comes back, the account's balance is as before the 2207, and the
  next 3201 is 平;
- or it books the settlement (5203) and lists it in its next 3202: confirmed once, paid once, and
  a resend of the 2207's msgid answers the same settlement without paying again.

A real server (uvicorn, two workers, its own process group) on a fresh PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest

from tests.support.crash import Holder, Server, build_world, dsn, fresh_database
from tests.support.fsi import Institution
from yibao.config import Settings
from yibao.kernel.clock import CHINA_TZ
from yibao.runtime import build_runtime
from yibao.settlement import service
from yibao_bench.server import free_port

pytestmark = pytest.mark.postgres

DATA_KEY = base64.b64encode(b"r" * 32).decode()
SECRET_KEY = "recon-secret-" + "r" * 20
HOSPITAL = ("H44030500012", "深圳市南山区人民医院", "440300")


def _settings(url: str, tmp: Path) -> Settings:
    return Settings(
        environment="production",
        database_url=url,
        data_key=DATA_KEY,
        secret_key=SECRET_KEY,
        var_dir=tmp / "var",
        _env_file=None,  # type: ignore[call-arg]
    )


def _server(url: str, tmp: Path) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")}
    env.update(
        YIBAO_ENVIRONMENT="production",
        YIBAO_DATABASE_URL=url,
        YIBAO_DATA_KEY=DATA_KEY,
        YIBAO_SECRET_KEY=SECRET_KEY,
        YIBAO_VAR_DIR=str(tmp / "var"),
        YIBAO_LOG_LEVEL="warning",
    )
    return Server(env, free_port(), tmp)


async def _add_hospital(settings: Settings) -> str:
    runtime = build_runtime(settings)
    try:
        async with runtime.sessions() as session:
            code, name, admdvs = HOSPITAL
            made = await service.add_institution(
                session,
                runtime.cipher,
                runtime.clock,
                service.NewInstitution(code, name, admdvs, level="三级甲等"),
            )
        return made.token
    finally:
        await runtime.close()


async def _fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn(url), timeout=10)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def _balance(url: str, person_id: int) -> int:
    [row] = await _fetch(
        url, "SELECT balance_fen FROM personal_accounts WHERE person_id = $1", person_id
    )
    return int(row["balance_fen"])


async def _ledger_sum(url: str, person_id: int) -> int:
    [row] = await _fetch(
        url,
        "SELECT coalesce(sum(e.amount_fen), 0) AS s FROM ledger_entries e"
        " JOIN personal_accounts a ON a.id = e.account_id WHERE a.person_id = $1",
        person_id,
    )
    return int(row["s"])


def _bill(holder: Holder, mdtrt_id: str) -> dict[str, Any]:
    return {
        "data": {
            "psn_no": holder.psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": holder.id_number,
            "med_type": "11",
            "medfee_sumamt": "25.00",
            "psn_setlway": "01",
            "mdtrt_id": mdtrt_id,
            "chrg_bchno": "B0001",
            "insutype": "310",
            "acct_used_flag": "1",
        }
    }


async def _visit(hospital: Institution, holder: Holder) -> str:
    registered = await hospital.call(
        "2201",
        {
            "data": {
                "psn_no": holder.psn_no,
                "insutype": "310",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": holder.id_number,
                "med_type": "11",
            }
        },
    )
    assert registered["infcode"] == 0, registered
    mdtrt_id = str(registered["output"]["data"]["mdtrt_id"])
    line = {
        "feedetl_sn": "1",
        "mdtrt_id": mdtrt_id,
        "psn_no": holder.psn_no,
        "chrg_bchno": "B0001",
        "med_list_codg": "XA01ABD075A002010100483",
        "pric": "12.50",
        "cnt": "2",
        "det_item_fee_sumamt": "25.00",
    }
    uploaded = await hospital.call("2204", {"feedetail": [line]})
    assert uploaded["infcode"] == 0, uploaded
    return mdtrt_id


async def _settle_and_crash(
    url: str, server: Server, hospital: Institution, holder: Holder
) -> tuple[str, str, dict[str, Any]]:
    """2207, then SIGKILL as soon as its settlement is committed; the answer is never read.
    Returns the 2207's msgid, the setl_id yibao made and the 2207's input."""
    mdtrt_id = await _visit(hospital, holder)
    msgid = hospital.new_msgid()
    bill = _bill(holder, mdtrt_id)
    sending = asyncio.create_task(hospital.call("2207", bill, msgid=msgid))
    for _ in range(400):
        rows = await _fetch(url, "SELECT setl_id FROM settlements WHERE msgid = $1", msgid)
        if rows:
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the 2207 never committed")
    server.kill()  # SIGKILL to the supervisor and both workers
    sending.cancel()  # whatever came back, the hospital never read it
    await asyncio.gather(sending, return_exceptions=True)
    return msgid, str(rows[0]["setl_id"]), bill


def _day() -> str:
    return f"{datetime.now(CHINA_TZ):%Y-%m-%d}"


async def _totals(hospital: Institution, cnt: int, medfee: str, fund: str, acct: str) -> str:
    data = {
        "stmt_begndate": _day(),
        "stmt_enddate": _day(),
        "insutype": "310",
        "clr_type": "11",
        "fixmedins_setl_cnt": cnt,
        "medfee_sumamt": medfee,
        "fund_pay_sumamt": fund,
        "acct_pay": acct,
    }
    answer = await hospital.call("3201", {"data": data})
    assert answer["infcode"] == 0, answer
    return str(answer["output"]["stmtinfo"]["stmt_rslt"])


async def _details(hospital: Institution, lines: list[list[str]]) -> dict[str, Any]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("detail.txt", "".join("\t".join(x) + "\n" for x in lines))
    uploaded = await hospital.call(
        "9101",
        {
            "fsUploadIn": {
                "filename": "d.txt.zip",
                "in": base64.b64encode(buffer.getvalue()).decode(),
            }
        },
    )
    assert uploaded["infcode"] == 0, uploaded
    medfee = sum(int(x[3].replace(".", "")) for x in lines)
    fund = sum(int(x[4].replace(".", "")) for x in lines)
    answer = await hospital.call(
        "3202",
        {
            "data": {
                "stmt_begndate": _day(),
                "stmt_enddate": _day(),
                "file_qury_no": uploaded["output"]["file_qury_no"],
                "fixmedins_setl_cnt": len(lines),
                "medfee_sumamt": f"{medfee / 100:.2f}",
                "fund_pay_sumamt": f"{fund / 100:.2f}",
                "cash_payamt": "0.00",
            }
        },
    )
    assert answer["infcode"] == 0, answer
    output: dict[str, Any] = answer["output"]
    return output


async def _scenario(url: str, tmp: Path) -> None:
    settings = _settings(url, tmp)
    w = await build_world(settings, 2)
    token = await _add_hospital(settings)
    reversed_one, confirmed_one = w.holders
    server = _server(url, tmp)
    try:
        server.start()
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            code, name, admdvs = HOSPITAL
            hospital = Institution(http, code, name, token, admdvs)
            await hospital.sign_in()
            first_msgid, first, _ = await _settle_and_crash(url, server, hospital, reversed_one)
            server.start()
            second_msgid, second, second_bill = await _settle_and_crash(
                url, server, hospital, confirmed_one
            )
            server.start()

            # The hospital booked nothing: its totals are 不平, its details list both.
            assert await _totals(hospital, 0, "0.00", "0.00", "0.00") == "1"
            found = await _details(hospital, [])
            listed = {d["setl_id"]: d for d in found["detail"]}
            assert set(listed) == {first, second}
            assert {d["stmt_rslt"] for d in listed.values()} == {"1"}
            assert listed[first]["msgid"] == first_msgid
            assert listed[second]["msgid"] == second_msgid

            # One way: 2601 of the 2207's msgid. The money comes back.
            paid = await _balance(url, reversed_one.person_id)
            assert paid < reversed_one.funded_fen
            undone = await hospital.call(
                "2601",
                {"data": {"psn_no": reversed_one.psn_no, "omsgid": first_msgid, "oinfno": "2207"}},
            )
            assert undone["output"]["data"]["rever_result"] == "settlement", undone
            assert await _balance(url, reversed_one.person_id) == reversed_one.funded_fen
            assert await _ledger_sum(url, reversed_one.person_id) == reversed_one.funded_fen

            # The other: 5203, book it, list it; the next 3202 confirms it, once.
            query = await hospital.call(
                "5203", {"data": {"setl_id": second, "psn_no": confirmed_one.psn_no}}
            )
            setlinfo = query["output"]["setlinfo"]
            booked = [
                second,
                setlinfo["mdtrt_id"],
                confirmed_one.psn_no,
                setlinfo["medfee_sumamt"],
                setlinfo["fund_pay_sumamt"],
                setlinfo["acct_pay"],
            ]
            matched = await _details(hospital, [booked])
            assert matched["stmtinfo"]["stmt_rslt"] == "0", matched
            assert matched["confirmed"] == [second]
            again = await _details(hospital, [booked])
            assert again["confirmed"] == []
            assert (
                await _totals(
                    hospital,
                    1,
                    setlinfo["medfee_sumamt"],
                    setlinfo["fund_pay_sumamt"],
                    setlinfo["acct_pay"],
                )
                == "0"
            )
            # A resend of the lost 2207 gets its first answer; nothing is paid twice.
            resent = await hospital.call("2207", second_bill, msgid=second_msgid)
            assert resent["infcode"] == 0, resent
            assert resent["output"]["setlinfo"]["setl_id"] == second
            acct_fen = int(setlinfo["acct_pay"].replace(".", ""))
            assert acct_fen > 0
            assert await _balance(url, confirmed_one.person_id) == (
                confirmed_one.funded_fen - acct_fen
            )
            assert await _ledger_sum(url, confirmed_one.person_id) == (
                confirmed_one.funded_fen - acct_fen
            )
            settled = await _fetch(
                url, "SELECT count(*) AS n FROM settlements WHERE msgid = $1", second_msgid
            )
            assert settled[0]["n"] == 1
            confirmations = await _fetch(url, "SELECT setl_id FROM settlement_confirmations")
            assert [r["setl_id"] for r in confirmations] == [second]
    finally:
        server.kill()


def test_a_settlement_whose_answer_was_lost_is_found_and_resolved(
    backend: str, tmp_path: Path
) -> None:
    if backend != "postgres":
        pytest.skip("a server process on a database of its own: PostgreSQL")
    with fresh_database() as url:
        asyncio.run(asyncio.wait_for(_scenario(url, tmp_path), timeout=180))
