"""目录对照 (orders 52–53: 3301 upload, checked with 1317, then 3302 cancel) and 进销存 (orders
120–137, after settling, so a sale names the run's settlement): 3501 … 3507 and their A
variants on an item of the run's own, then the queries 3508 … 3511 that must find what was sent.

Each run uses fresh local codes and batch numbers (`serial`), so a suite run again against the
same yibao starts from an empty item."""

from __future__ import annotations

from typing import Any

from yibao.cli.selftest.registry import BOTH, Run, expect, step
from yibao.cli.selftest.steps.common import DRUGS, serial

TRACE_CODE = "81000000000000000001"


def _drug(run: Run) -> str:
    """A catalogue code: the run's first item, or the suite's first demo drug."""
    return run.items[0] if run.items else DRUGS[0][0]


def _item(run: Run) -> dict[str, str]:
    if "stock_item" not in run.state:
        run.keep("stock_item", serial(run))
    code = str(run.state["stock_item"])
    return {
        "med_list_codg": _drug(run),
        "fixmedins_hilist_id": code,
        "fixmedins_hilist_name": f"自测商品{code}",
        "rx_flag": "0",
    }


def _stock(run: Run, infno: str, wrapper: str, record: dict[str, Any], expected: str) -> str:
    """Send one record (an A variant sends it in an array); the stock after must be `expected`."""
    sent: Any = [record] if infno.endswith("A") else record
    result = run.call(infno, {wrapper: sent})["result"]
    expect(isinstance(result, list) and len(result) == 1, f"{infno} 应答 result 应为一条")
    expect(result[0]["inv_cnt"] == expected, f"{infno} 后库存应为 {expected}：{result[0]}")
    return f"批次 {record['fixmedins_bchno']}，库存 {expected}"


def _count(run: Run, infno: str, cnt: str, expected: str) -> str:
    record = {**_item(run), "invdate": "2026-01-01", "inv_cnt": cnt, "fixmedins_bchno": serial(run)}
    return _stock(run, infno, "invinfo", record, expected)


def _change(run: Run, infno: str, change_type: str, expected: str) -> str:
    record = {
        **_item(run),
        "inv_chg_type": change_type,
        "fixmedins_bchno": serial(run),
        "pric": "1.00",
        "cnt": "1",
        "inv_chg_time": "2026-01-01 09:00:00",
    }
    return _stock(run, infno, "invinfo", record, expected)


def _purchase(run: Run, infno: str, cnt: str, expected: str) -> str:
    bchno = serial(run)
    run.keep(f"purchase_{infno}", bchno)
    record = {
        **_item(run),
        "fixmedins_bchno": bchno,
        "spler_name": "自测供应商",
        "manu_lotnum": "L0001",
        "finl_trns_pric": "1.00",
        "purc_retn_cnt": cnt,
        "purc_retn_stoin_time": "2026-01-01 09:00:00",
        "drugtracinfo": [{"drug_trac_codg": TRACE_CODE}],
    }
    return _stock(run, infno, "purcinfo", record, expected)


def _sale(run: Run, infno: str, cnt: str, expected: str) -> str:
    record = {
        **_item(run),
        "fixmedins_bchno": serial(run),
        "sel_retn_cnt": cnt,
        "sel_retn_time": "2026-01-01 10:00:00",
        "sel_retn_opter_name": "自测",
        "drug_trac_codg": TRACE_CODE,
    }
    setl_id = run.state.get("setl_id")
    if setl_id and infno.startswith("3505"):
        record.update(setl_id=setl_id, psn_no=run.need("psn_no"))
    return _stock(run, infno, "selinfo", record, expected)


def _mapping(run: Run) -> dict[str, str]:
    if "mapping_item" not in run.state:
        run.keep("mapping_item", serial(run))
    return {
        "fixmedins_hilist_id": str(run.state["mapping_item"]),
        "list_type": "101",
        "med_list_codg": _drug(run),
    }


@step("3301", "目录对照上传", tiers=BOTH, order=52)
def map_item(run: Run) -> str:
    mapping = _mapping(run)
    run.call("3301", {"data": {**mapping, "fixmedins_hilist_name": "自测对照项目"}})
    found = run.call("1317", {"data": {"medins_list_codg": mapping["fixmedins_hilist_id"]}})
    rows = found["data"]
    expect(
        [(r["med_list_codg"], r["vali_flag"]) for r in rows] == [(mapping["med_list_codg"], "1")],
        f"1317 应查到刚上传的对照：{rows}",
    )
    return f"{mapping['fixmedins_hilist_id']} → {mapping['med_list_codg']}"


@step("3302", "目录对照撤销", tiers=BOTH, order=53)
def unmap_item(run: Run) -> str:
    mapping = _mapping(run)
    run.need("mapping_item")
    run.call("3302", {"data": mapping})
    found = run.call("1317", {"data": {"medins_list_codg": mapping["fixmedins_hilist_id"]}})
    flags = [r["vali_flag"] for r in found["data"]]
    expect(flags == ["0"], f"撤销后 1317 应查到已失效的对照（保留历史）：{flags}")
    again = run.send("3302", {"data": mapping})
    expect(again.get("infcode") == -1, "重复撤销同一对照应被拒绝")
    return "已撤销，历史保留"


# (infno, name, order, what it sends and the stock after): a count of 10, +1, +5 … in turn.
_RECORDS: tuple[tuple[str, str, Any], ...] = (
    ("3501", "商品盘存上传", lambda run: _count(run, "3501", "10", "10")),
    ("3501A", "商品盘存上传", lambda run: _count(run, "3501A", "10", "10")),
    ("3502", "商品库存变更", lambda run: _change(run, "3502", "106", "11")),
    ("3502A", "商品库存变更", lambda run: _change(run, "3502A", "107", "10")),
    ("3503", "商品采购", lambda run: _purchase(run, "3503", "5", "15")),
    ("3503A", "商品采购", lambda run: _purchase(run, "3503A", "2", "17")),
    ("3504", "商品采购退货", lambda run: _stock_return(run, "3504", "1", "16")),
    ("3504A", "商品采购退货", lambda run: _stock_return(run, "3504A", "1", "15")),
    ("3505", "商品销售", lambda run: _sale(run, "3505", "3", "12")),
    ("3505A", "商品销售", lambda run: _sale(run, "3505A", "2", "10")),
    ("3506", "商品销售退货", lambda run: _sale(run, "3506", "1", "11")),
    ("3506A", "商品销售退货", lambda run: _sale(run, "3506A", "1", "12")),
)


def _stock_return(run: Run, infno: str, cnt: str, expected: str) -> str:
    record = {
        **_item(run),
        "fixmedins_bchno": serial(run),
        "finl_trns_pric": "1.00",
        "purc_retn_cnt": cnt,
        "purc_retn_stoin_time": "2026-01-01 11:00:00",
    }
    return _stock(run, infno, "purcinfo", record, expected)


for _order, (_infno, _name, _send) in enumerate(_RECORDS, start=120):
    step(_infno, _name, tiers=BOTH, order=_order)(_send)


def _delete(run: Run, infno: str, purchase_of: str, expected: str) -> str:
    bchno = run.need(f"purchase_{purchase_of}")
    result = run.call(infno, {"data": {"fixmedins_bchno": bchno, "inv_data_type": "3"}})["result"]
    expect(result[-1]["inv_cnt"] == expected, f"{infno} 删除采购后库存应为 {expected}：{result}")
    again = run.send(infno, {"data": {"fixmedins_bchno": bchno, "inv_data_type": "3"}})
    expect(again.get("infcode") == -1, f"{infno} 重复删除同一批次应被拒绝")
    return f"采购批次 {bchno} 已删除（保留记录），库存 {expected}"


step("3507", "商品信息删除", tiers=BOTH, order=132)(lambda run: _delete(run, "3507", "3503A", "10"))
step("3507A", "商品信息删除", tiers=BOTH, order=133)(lambda run: _delete(run, "3507A", "3503", "5"))


def _query(run: Run, infno: str) -> list[dict[str, Any]]:
    item = _item(run)["fixmedins_hilist_id"]
    output = run.call(infno, {"data": {"fixmedins_hilist_id": item, "page_size": 100}})
    rows: list[dict[str, Any]] = output["data"]
    expect(output["recordCounts"] == len(rows), f"{infno} 分页计数不符")
    return rows


@step("3508", "定点医药机构商品库存信息查询", tiers=BOTH, order=134)
def stock_level(run: Run) -> str:
    rows = _query(run, "3508")
    expect([r["inv_cnt"] for r in rows] == ["5"], f"3508 库存应为 5：{rows}")
    return "库存 5"


@step("3509", "定点医药机构商品库存变更记录查询", tiers=BOTH, order=135)
def stock_changes(run: Run) -> str:
    rows = _query(run, "3509")
    expect(sorted(r["inv_chg_type"] for r in rows) == ["106", "107"], f"3509：{rows}")
    return f"{len(rows)} 条变更"


@step("3510", "定点医药机构商品采购信息查询", tiers=BOTH, order=136)
def purchases(run: Run) -> str:
    rows = _query(run, "3510")
    deleted = [r for r in rows if r["vali_flag"] == "0"]
    expect(len(rows) == 4 and len(deleted) == 2, f"3510 应有 4 条（2 条已删除）：{rows}")
    traced = [r for r in rows if r["drugtracinfo"] == [{"drug_trac_codg": TRACE_CODE}]]
    expect(len(traced) == 2, "3510 应返回采购时上传的追溯码")
    return f"{len(rows)} 条，其中已删除 {len(deleted)} 条"


@step("3511", "定点医药机构商品销售信息查询", tiers=BOTH, order=137)
def sales(run: Run) -> str:
    rows = _query(run, "3511")
    expect(len(rows) == 4, f"3511 应有 4 条销售及退货：{rows}")
    setl_id = run.state.get("setl_id")
    if setl_id:
        tied = [r for r in rows if r["setl_id"] == setl_id]
        expect(len(tied) == 2, f"3511 应能按结算 {setl_id} 找到销售记录")
    return f"{len(rows)} 条" + (f"，其中 2 条对应结算 {setl_id}" if setl_id else "")
