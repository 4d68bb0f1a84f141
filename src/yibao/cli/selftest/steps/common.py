"""What several steps send: the person's certificate, fee lines, a bill, the time of day."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from yibao.cli.selftest.registry import Run, expect

BEIJING = timezone(timedelta(hours=8))

# code, price (fen), count: a class-A and a class-B drug of the demo catalogue, and for a clinic
# the general consultation fee (一般诊疗费).
DRUGS = (("XJ01CA04A00134840396700", 1250, 2), ("XJ01DD08A00263042978827", 1800, 1))
CONSULTATION = ("001110001403409", 1000, 1)


def now_text() -> str:
    return f"{datetime.now(BEIJING):%Y-%m-%d %H:%M:%S}"


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def certificate(run: Run) -> dict[str, str]:
    """The person's ID number as the certificate (mdtrt_cert_type 02)."""
    return {"mdtrt_cert_type": "02", "mdtrt_cert_no": run.cert_no}


def lines(
    run: Run, *, prefix: str, mdtrt_id: str | None = None
) -> tuple[list[dict[str, Any]], str]:
    """The run's items as fee lines (feedetail / drugdetail) and their total in yuan."""
    chosen = [(code, 1000, 1) for code in run.items] if run.items else list(DRUGS)
    if run.tier == "clinic" and not run.items:
        chosen.append(CONSULTATION)
    rows, total = [], 0
    for n, (code, price_fen, count) in enumerate(chosen, start=1):
        amount = price_fen * count
        total += amount
        row: dict[str, Any] = {
            "feedetl_sn": f"{prefix}{n:03d}",
            "psn_no": run.need("psn_no"),
            "chrg_bchno": prefix,
            "rxno": f"RX{prefix}",
            "rx_circ_flag": "0",
            "fee_ocur_time": now_text(),
            "med_list_codg": code,
            "medins_list_codg": f"LOCAL{n:03d}",
            "det_item_fee_sumamt": yuan(amount),
            "cnt": str(count),
            "pric": yuan(price_fen),
            "sin_dos_dscr": "",
            "used_frqu_dscr": "",
            "prd_days": "1",
            "medc_way_dscr": "",
            "bilg_dept_codg": "A03",
            "bilg_dept_name": "内科",
            "bilg_dr_codg": "D001",
            "bilg_dr_name": "王医生",
            "hosp_appr_flag": "1",
        }
        if mdtrt_id is not None:
            row["mdtrt_id"] = mdtrt_id
        rows.append(row)
    return rows, yuan(total)


def serial(run: Run) -> str:
    """A fresh batch number (chrg_bchno / feedetl_sn prefix) for each bill of the run."""
    count = int(run.state.get("_serial", 0)) + 1
    run.keep("_serial", count)
    if "_run_tag" not in run.state:
        # Two runs in the same second (a retry, a second terminal) must not share numbers:
        # the stock and mapping steps find their records again by them.
        run.keep("_run_tag", f"{secrets.randbelow(1000):03d}")
    return f"ST{datetime.now(BEIJING):%H%M%S}{run.state['_run_tag']}{count:02d}"


def check_figures(infno: str, setlinfo: dict[str, Any], total: str) -> None:
    """The answer's split adds up: the bill's total, and the fund's part plus the person's."""
    medfee = Decimal(setlinfo["medfee_sumamt"])
    expect(medfee == Decimal(total), f"{infno} medfee_sumamt {medfee} 应为 {total}")
    paid = sum(
        Decimal(setlinfo[name])
        for name in ("fund_pay_sumamt", "acct_pay", "acct_mulaid_pay", "psn_cash_pay")
    )
    expect(paid == medfee, f"{infno} 基金、个人账户、共济与现金之和 {paid} 不等于总费用 {medfee}")
    expect(
        Decimal(setlinfo["psn_part_amt"]) == medfee - Decimal(setlinfo["fund_pay_sumamt"]),
        f"{infno} psn_part_amt 不等于总费用减基金支付",
    )


def summary(setlinfo: dict[str, Any]) -> str:
    return (
        f"总 {setlinfo['medfee_sumamt']} 统筹 {setlinfo['hifp_pay']} "
        f"账户 {setlinfo['acct_pay']} 现金 {setlinfo['psn_cash_pay']}"
    )
