"""The treatment region's side when the home region cannot be reached (参保地平台无法连接).

The home region chooses, in the directory (`Peer.when_unreachable`): `refuse` (the default: the
institution is told 本笔未结算，请稍后重试 and nothing is written) or `cash` (全额垫付). With `cash`
the bill is settled here with no fund part and no account part: the person pays the whole
amount, the institution gets its usual answer with a note, and this side keeps the settlement
(`mode` cash) as the outbox entry of a record the home region must receive: `deliver_records`
(run by `yibao worker`) offers it to A until A takes it (A keeps it by the settle message id, so
a record offered twice is kept once) and A's 消费记录 shows it as paid in full elsewhere, to be
claimed back there (零星报销).

Never twice: B may have timed out after A committed its debit under the same message id. The
record reverses that debit when A receives it, and the day's reconciliation lists cash
settlements apart (`cash`), so A reverses such a debit even before the record arrives.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.crossregion import repository
from yibao.crossregion.domain import (
    Peer,
    PeerRefused,
    PeerUnavailable,
    SettlementMode,
    delivery_backoff_seconds,
    paid_in_full,
)
from yibao.crossregion.link import PeerLink
from yibao.crossregion.service.directory import link_of
from yibao.kernel.clock import Clock, china_today
from yibao.runtime import Runtime
from yibao.settlement.domain import Caller, FeeLine, LineSplit

CASH_NOTE = (
    "参保地 {region}（{admdvs}）医保平台暂时无法连接：本笔按全额自付结算（统筹基金、个人账户均未支付），"
    "请参保人凭票据回参保地申请零星报销"
)


def cash_note(peer: Peer) -> str:
    return CASH_NOTE.format(region=peer.region_name, admdvs=peer.admdvs)


def cash_figures(
    setl_id: str,
    psn_no: str,
    insutype: str,
    split: list[tuple[FeeLine, LineSplit, str]],
    total_fen: int,
) -> dict[str, Any]:
    """The figures of a bill settled in cash, in the shape A's settle answer has."""
    return {
        "setl_id": setl_id,
        "psn_no": psn_no,
        "insutype": insutype,
        "medfee_sumamt_fen": total_fen,
        "fulamt_ownpay_fen": sum(s.fulamt_ownpay_fen for _, s, _ in split),
        "overlmt_selfpay_fen": sum(s.overlmt_selfpay_fen for _, s, _ in split),
        "preselfpay_fen": sum(s.preselfpay_fen for _, s, _ in split),
        "inscp_scp_fen": sum(s.inscp_scp_fen for _, s, _ in split),
        **paid_in_full(total_fen),
        "filed": True,
        "paid_in_full": True,
        "lines": [
            {
                "feedetl_sn": line.feedetl_sn,
                "med_list_codg": line.med_list_codg,
                "name": name,
                "det_item_fee_sumamt_fen": line.det_item_fee_sumamt_fen,
                "chrgitm_lv": s.chrgitm_lv.value,
            }
            for line, s, name in split
        ],
    }


def is_unreachable(exc: BaseException, peer: Peer) -> bool:
    """Whether a failure to reach `peer` settles in cash rather than being refused."""
    return isinstance(exc, PeerUnavailable) and peer.when_unreachable.value == "cash"


def record_of(row: repository.Settlement, treatment_admdvs: str) -> dict[str, Any]:
    """The record A receives (kind `cash`): everything A shows and a 零星报销 needs."""
    figures: dict[str, Any] = json.loads(row.answer)
    return {
        "message_id": row.message_id,
        "treatment_admdvs": treatment_admdvs,
        "setl_id": row.setl_id,
        "psn_no": row.psn_no,
        "insutype": row.insutype,
        "med_type": row.med_type,
        "fixmedins_code": row.fixmedins_code,
        "fixmedins_name": str(figures.get("fixmedins_name") or ""),
        "settled_on": row.settled_on.isoformat(),
        "medfee_sumamt_fen": row.medfee_sumamt_fen,
        "fulamt_ownpay_fen": int(figures["fulamt_ownpay_fen"]),
        "overlmt_selfpay_fen": int(figures["overlmt_selfpay_fen"]),
        "preselfpay_fen": int(figures["preselfpay_fen"]),
        "inscp_scp_fen": int(figures["inscp_scp_fen"]),
        "cash_pay_fen": row.cash_pay_fen,
        "lines": figures.get("lines", []),
    }


async def deliver_records(
    runtime: Runtime, link: PeerLink | None = None, *, limit: int = 20
) -> int:
    """Offer A the cash records it has not taken (one committed batch); returns how many were
    offered. Rows are locked and skipped by another worker; A keeps a record once by its id,
    so a record offered again after a lost answer changes nothing there. The link (and the
    peer key it needs) is made only when something is due."""
    now = runtime.clock.now()
    async with runtime.sessions() as session:
        due = await repository.undelivered_cash(session, now, limit)
        if due:
            sending = link or link_of(runtime)
            for row in due:
                await _offer(session, runtime.clock, sending, row)
        await session.commit()
    return len(due)


async def _offer(
    session: AsyncSession, clock: Clock, link: PeerLink, row: repository.Settlement
) -> None:
    home = await repository.peer_of(session, row.home_admdvs)
    institution_region = json.loads(row.answer).get("treatment_admdvs") or ""
    row.delivery_attempts += 1
    try:
        if home is None or home.local:
            raise PeerRefused(f"参保地 {row.home_admdvs} 不在区划目录中")
        await link.send(home, "cash", record_of(row, str(institution_region)))
    except (PeerUnavailable, PeerRefused) as exc:
        row.last_delivery_error = str(exc)[:200]
        row.next_delivery_at = clock.now() + timedelta(
            seconds=delivery_backoff_seconds(row.delivery_attempts)
        )
        return
    row.delivered_at = clock.now()
    row.last_delivery_error = None


async def settle_in_cash(
    session: AsyncSession,
    clock: Clock,
    caller: Caller,
    peer: Peer,
    body: dict[str, Any],
    split: list[tuple[FeeLine, LineSplit, str]],
    total_fen: int,
    msgid: str,
    mdtrt_id: str,
    *,
    write: bool,
) -> dict[str, Any]:
    """The bill `body` (the settle message A could not take) settled in cash here: its figures,
    and with `write` the settlement kept as the record owed to A."""
    figures = cash_figures(
        str(body["setl_id"]), str(body["psn_no"]), str(body["insutype"] or "310"), split, total_fen
    )
    if write:
        session.add(
            cash_row(
                setl_id=str(body["setl_id"]),
                msgid=msgid,
                message_id=str(body["message_id"]),
                fixmedins_code=caller.fixmedins_code,
                fixmedins_name=caller.name,
                treatment_admdvs=caller.admdvs,
                home_admdvs=peer.admdvs,
                psn_no=str(body["psn_no"]),
                mdtrt_id=mdtrt_id,
                med_type=str(body["med_type"]),
                figures=figures,
                settled_on=china_today(clock),
                now=clock.now(),
            )
        )
        await session.flush()
    return figures


def cash_row(
    *,
    setl_id: str,
    msgid: str,
    message_id: str,
    fixmedins_code: str,
    fixmedins_name: str,
    treatment_admdvs: str,
    home_admdvs: str,
    psn_no: str,
    mdtrt_id: str,
    med_type: str,
    figures: dict[str, Any],
    settled_on: date,
    now: datetime,
) -> repository.Settlement:
    kept = figures | {"fixmedins_name": fixmedins_name, "treatment_admdvs": treatment_admdvs}
    return repository.Settlement(
        setl_id=setl_id,
        msgid=msgid,
        message_id=message_id,
        status="settled",
        fixmedins_code=fixmedins_code,
        home_admdvs=home_admdvs,
        psn_no=psn_no,
        psn_name="",
        mdtrt_id=mdtrt_id,
        med_type=med_type,
        insutype=str(figures["insutype"]),
        medfee_sumamt_fen=int(figures["medfee_sumamt_fen"]),
        fund_pay_fen=0,
        acct_pay_fen=0,
        cash_pay_fen=int(figures["cash_pay_fen"]),
        answer=json.dumps(kept, ensure_ascii=False),
        settled_on=settled_on,
        created_at=now,
        mode=SettlementMode.CASH.value,
        delivery_attempts=0,
        next_delivery_at=now,
    )
