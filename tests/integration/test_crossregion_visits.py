"""异地就医 at B's hospital around the bill, message by message, on SQLite and on two PostgreSQL
clusters: 2001 (asked of A), 2203, 2205, 2202, the 2601 of a 2201 or a 2203, and 5203, with the
refusals an HIS meets — an unknown visit, a settled one, another institution's — each with an
err_msg that says what to do (docs/cross-region.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.support.two_regions import (
    TREATMENT,
    CrossInstitution,
    Deployments,
    balance,
    deployments,
    fee_lines,
    file_filing,
    hospital_bill,
    registration,
    visit_info,
)
from yibao.crossregion import repository
from yibao.settlement import service as settlement


def _check(psn_no: str, med_type: str = "11") -> dict[str, Any]:
    return {
        "data": {
            "psn_no": psn_no,
            "insutype": "310",
            "med_type": med_type,
            "begntime": "2026-12-07 09:00:00",
        }
    }


async def _other_hospital(d: Deployments, client: httpx.AsyncClient) -> CrossInstitution:
    async with d.b.sessions() as session:
        made = await settlement.add_institution(
            session,
            d.b.cipher,
            d.b.clock,
            settlement.NewInstitution("H31010400099", "上海市另一医院", TREATMENT, level="二级"),
        )
    other = CrossInstitution(client, "H31010400099", "上海市另一医院", made.token, TREATMENT)
    await other.sign_in()
    return other


async def _register(d: Deployments, msgid: str | None = None) -> str:
    done = await d.hospital.call("2201", registration(d), msgid=msgid)
    assert done["infcode"] == 0, done
    return str(done["output"]["data"]["mdtrt_id"])


def _refused(answer: dict[str, Any], *words: str) -> None:
    assert answer["infcode"] == -1, answer
    for word in words:
        assert word in answer["err_msg"], answer["err_msg"]


async def test_2001_asks_the_home_region(databases: tuple[str, str], tmp_path: Path) -> None:
    async with deployments(*databases, tmp_path) as d:
        psn_no = d.person.person.psn_no
        # No 备案, and A's rule refuses treatment elsewhere without one: no fund pays.
        unfiled = await d.hospital.call("2001", _check(psn_no))
        assert unfiled["infcode"] == 0, unfiled
        rows = unfiled["output"]["trtinfo"]
        assert {r["trt_enjymnt_flag"] for r in rows} == {"0"}
        assert all("备案" in r["trt_chk_rslt"] for r in rows)
        await file_filing(d)
        filed = await d.hospital.call("2001", _check(psn_no))
        assert {r["trt_enjymnt_flag"] for r in filed["output"]["trtinfo"]} == {"1"}
        # The in-region rules hold across regions: a pharmacy settles only 41.
        at_pharmacy = await d.pharmacy.call("2001", _check(psn_no, "11"))
        assert "定点药店只能以医疗类别 41" in at_pharmacy["output"]["trtinfo"][0]["trt_chk_rslt"]
        unknown = await d.hospital.call("2001", _check("NOBODY0001"))
        _refused(unknown, "参保地未找到", "NOBODY0001")
        missing = await d.hospital.call("2001", {"data": {"psn_no": psn_no, "insutype": "310"}})
        _refused(missing)


async def test_visit_record_and_its_refusals(databases: tuple[str, str], tmp_path: Path) -> None:
    async with deployments(*databases, tmp_path) as d:
        await file_filing(d)
        opening = await balance(d)
        hospital = d.hospital
        await hospital.sign_in()
        psn_no = d.person.person.psn_no
        mdtrt_id = await _register(d)

        # 2203: kept with B's visit; a corrected whole replaces it; 2601 withdraws it.
        first_info = hospital.new_msgid()
        sent = await hospital.call("2203", visit_info(d, mdtrt_id, 1), msgid=first_info)
        assert sent["infcode"] == 0, sent
        again = await hospital.call("2203A", visit_info(d, mdtrt_id, 1, 2))
        assert again["infcode"] == 0, again
        async with d.b.sessions() as session:
            kept = await repository.visit(session, mdtrt_id)
            assert kept is not None and kept.info is not None
            assert [x["diag_srt_no"] for x in json.loads(kept.info)["diagnoses"]] == [1, 2]
        stale = await hospital.call(
            "2601", {"data": {"psn_no": psn_no, "omsgid": first_info, "oinfno": "2203"}}
        )
        assert stale["output"]["data"]["rever_result"] == "nothing"  # replaced already
        _refused(await hospital.call("2203", visit_info(d, mdtrt_id, 1, 1)), "diag_srt_no", "重复")
        wrong_type = visit_info(d, mdtrt_id, 1)
        wrong_type["mdtrtinfo"]["med_type"] = "13"
        _refused(await hospital.call("2203", wrong_type), "med_type 13", "不符")
        _refused(
            await hospital.call("2203", visit_info(d, "MNOSUCHVISIT", 1)),
            "本机构没有该参保人的就诊",
            "MNOSUCHVISIT",
        )

        # 2205: one charge batch, or 0000 for every line; an unknown batch is said plainly.
        up = await hospital.call("2204", fee_lines(d, mdtrt_id, ("F1", "B1"), ("F2", "B2")))
        assert up["infcode"] == 0, up
        _refused(
            await hospital.call(
                "2205", {"data": {"mdtrt_id": mdtrt_id, "chrg_bchno": "B9", "psn_no": psn_no}}
            ),
            "chrg_bchno=B9",
        )
        one = await hospital.call(
            "2205", {"data": {"mdtrt_id": mdtrt_id, "chrg_bchno": "B2", "psn_no": psn_no}}
        )
        assert one["output"]["data"]["cnt"] == 1, one
        # The withdrawn line is not billed: 2207 of 60.00 no longer adds up, 30.00 does.
        _refused(await hospital.call("2207", hospital_bill(d, mdtrt_id, "60.00")), "不符")

        # Another institution of B sees no such visit, whatever it sends.
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=d.b_app), base_url="http://b"
        ) as client:
            other = await _other_hospital(d, client)
            for infno, body in (
                ("2203", visit_info(d, mdtrt_id, 1)),
                ("2205", {"data": {"mdtrt_id": mdtrt_id, "chrg_bchno": "0000", "psn_no": psn_no}}),
                ("2202", {"data": {"mdtrt_id": mdtrt_id, "psn_no": psn_no}}),
            ):
                _refused(await other.call(infno, body), "本机构没有该参保人的就诊", mdtrt_id)

            # Settled: each change is refused until the settlement is cancelled (2208).
            register_msgid = hospital.new_msgid()
            settled_id = await _register(d, register_msgid)
            await hospital.call("2204", fee_lines(d, settled_id, ("S1", "B1")))
            done = await hospital.call("2207", hospital_bill(d, settled_id, "30.00"))
            assert done["infcode"] == 0, done
            setl_id = done["output"]["setlinfo"]["setl_id"]
            for infno, body in (
                ("2203", visit_info(d, settled_id, 1)),
                ("2205", {"data": {"mdtrt_id": settled_id, "chrg_bchno": "B1", "psn_no": psn_no}}),
                ("2202", {"data": {"mdtrt_id": settled_id, "psn_no": psn_no}}),
            ):
                _refused(await hospital.call(infno, body), "已结算", "2208")
            _refused(
                await hospital.call(
                    "2601",
                    {"data": {"psn_no": psn_no, "omsgid": register_msgid, "oinfno": "2201"}},
                ),
                "已结算",
                "2208",
            )

            # 5203: this institution's settlement of this person only.
            query = {"data": {"setl_id": setl_id, "psn_no": psn_no}}
            assert (await hospital.call("5203", query))["infcode"] == 0
            _refused(await other.call("5203", query), "本机构没有该参保人的结算", setl_id)
            _refused(
                await hospital.call("5203", {"data": {"setl_id": "SNONE", "psn_no": psn_no}}),
                "本机构没有该参保人的结算",
            )
            # Cancelled (2208): 5203 still answers it, as cancelled.
            await hospital.call(
                "2208", {"data": {"setl_id": setl_id, "mdtrt_id": settled_id, "psn_no": psn_no}}
            )
            cancelled = await hospital.call("5203", query)
            assert cancelled["output"]["setlinfo"]["setl_stas"] == "0"

        # 2202 cancels; a second 2202, a 2204 or a 2207 on it are refused as cancelled.
        gone = await hospital.call("2202", {"data": {"mdtrt_id": mdtrt_id, "psn_no": psn_no}})
        assert gone["infcode"] == 0, gone
        body = {"data": {"mdtrt_id": mdtrt_id, "psn_no": psn_no}}
        _refused(await hospital.call("2202", body), f"就诊 {mdtrt_id} 已撤销")
        _refused(await hospital.call("2204", fee_lines(d, mdtrt_id, ("F3", "B3"))), "已撤销")

        # 2601 of a 2201 cancels the visit as 2202 does; again, there is nothing left.
        mistaken = hospital.new_msgid()
        third = await _register(d, mistaken)
        reversal = {"data": {"psn_no": psn_no, "omsgid": mistaken, "oinfno": "2201"}}
        first = await hospital.call("2601", reversal)
        assert first["output"]["data"]["rever_result"] == "visit", first
        second = await hospital.call("2601", reversal)
        assert second["output"]["data"]["rever_result"] == "nothing", second
        _refused(await hospital.call("2207", hospital_bill(d, third, "30.00")), "已撤销")
        assert await balance(d) == opening  # nothing of it ever reached A
