"""The treatment region's side (就医地, B): an institution here treats a person insured elsewhere.

These run inside the institution message's one transaction (`settlement.service.answering`,
which commits with the stored answer) and call the home region (A) on the way:

- 1101: A says who the certificate belongs to.
- 2201/2204: the visit and its fee lines are kept here; lines are priced on this region's
  catalogue (就医地目录) with A's 乙类 share (参保地政策, fetched and cached for a TTL).
- 2206/2101: A assesses without writing. 2207/2102: A takes the account part and records the fund
  part under a message id derived from the institution's msgid, then this side records what it
  owes the institution and is owed by A. A retried msgid reaches A under the same id and gets the
  same figures; a crash between A's commit and ours is repaired by that retry, by 2601, or by
  the day's reconciliation (A reverses what we never recorded).
- 2208/2103/2601: A reverses first; only then is this side marked cancelled (`cancelling`). A
  down: refused, nothing changed here.
- 2203, 2205, 2202, 2601 of a 2201 and 5203 change or read only this side's record of the visit
  and settlement (`visiting`); 2001 asks A (`visiting.check_in`).
- A unreachable on 2206/2207/2101/2102 and the home region allows it (`unreachable`): settled
  in cash (全额垫付) and the record delivered to A later.

The questions to A that carry no bill (home_peer, home_policy and its cache, person_in) live in
`asking` and are re-exported here under their old path.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.crossregion import repository
from yibao.crossregion.domain import (
    HomePolicy,
    Peer,
    PeerUnavailable,
    settle_message_id,
)
from yibao.crossregion.link import PeerLink
from yibao.crossregion.service.asking import forget_policies as forget_policies
from yibao.crossregion.service.asking import home_peer as home_peer
from yibao.crossregion.service.asking import home_policy as home_policy
from yibao.crossregion.service.asking import last_policy
from yibao.crossregion.service.asking import person_in as person_in
from yibao.crossregion.service.unreachable import cash_note, is_unreachable, settle_in_cash
from yibao.kernel.clock import Clock, china_today, to_china
from yibao.kernel.errors import InvalidInput
from yibao.kernel.money import MAX_FEN, format_yuan
from yibao.settlement import repository as settlement_repository
from yibao.settlement.domain import (
    Caller,
    FeeLine,
    InvalidBill,
    LineSplit,
    check_fee_line,
    split_line,
)
from yibao.settlement.visit_rules import check_open, no_such_visit


def new_id(prefix: str, now: datetime) -> str:
    return f"{prefix}{to_china(now):%Y%m%d%H%M%S}{secrets.randbelow(10**15):015d}"


async def priced(
    session: AsyncSession, clock: Clock, lines: list[FeeLine], policy: HomePolicy | None
) -> list[tuple[FeeLine, LineSplit, str]]:
    """就医地目录, 参保地政策: this region's catalogue, the home region's 乙类 share (none known:
    a bill settled in cash before any policy was fetched, where the fund pays nothing anyway)."""
    for line in lines:
        check_fee_line(line)
    rules = await settlement_repository.catalogue_rules(
        session, (line.med_list_codg for line in lines), china_today(clock)
    )
    result = []
    for line in lines:
        rule = rules.get(line.med_list_codg)
        result.append(
            (
                line,
                split_line(line, rule, policy.class_b_selfpay_bp if policy else 0),
                rule.name if rule else "目录外项目",
            )
        )
    return result


async def register_in(
    session: AsyncSession,
    clock: Clock,
    caller: Caller,
    peer: Peer,
    *,
    psn_no: str,
    insutype: str,
    med_type: str,
    msgid: str,
) -> repository.Visit:
    now = clock.now()
    visit = repository.Visit(
        mdtrt_id=new_id("M", now),
        fixmedins_code=caller.fixmedins_code,
        psn_no=psn_no,
        home_admdvs=peer.admdvs,
        insutype=insutype,
        med_type=med_type,
        status="open",
        msgid=msgid,
        fees="[]",
        begin_at=now,
    )
    session.add(visit)
    await session.flush()
    return visit


def _line_json(line: FeeLine, batch: str | None = None) -> dict[str, Any]:
    kept: dict[str, Any] = {
        "feedetl_sn": line.feedetl_sn,
        "med_list_codg": line.med_list_codg,
        "pric_fen": line.pric_fen,
        "cnt": str(line.cnt),
        "det_item_fee_sumamt_fen": line.det_item_fee_sumamt_fen,
    }
    if batch:
        kept["chrg_bchno"] = batch  # 收费批次: what a 2205 withdraws
    return kept


def priced_json(priced: list[tuple[FeeLine, LineSplit, str]]) -> str:
    """The lines as priced here, kept with the settlement for 5203's feedetail."""
    return json.dumps(
        [
            _line_json(line)
            | {
                "med_list_name": name,
                "chrgitm_lv": split.chrgitm_lv.value,
                "fulamt_ownpay_fen": split.fulamt_ownpay_fen,
                "overlmt_selfpay_fen": split.overlmt_selfpay_fen,
                "preselfpay_fen": split.preselfpay_fen,
                "inscp_scp_fen": split.inscp_scp_fen,
            }
            for line, split, name in priced
        ],
        ensure_ascii=False,
    )


def _line_of(row: dict[str, Any]) -> FeeLine:
    return FeeLine(
        feedetl_sn=row["feedetl_sn"],
        med_list_codg=row["med_list_codg"],
        pric_fen=int(row["pric_fen"]),
        cnt=Decimal(row["cnt"]),
        det_item_fee_sumamt_fen=int(row["det_item_fee_sumamt_fen"]),
    )


async def open_visit(
    session: AsyncSession, caller: Caller, mdtrt_id: str, psn_no: str, *, doing: str
) -> repository.Visit:
    """The institution's visit of the person, locked and still open; refused as an in-region
    visit would be (`settlement.visit_rules`)."""
    visit = await repository.visit(session, mdtrt_id.strip(), lock=True)
    if visit is None or visit.fixmedins_code != caller.fixmedins_code or visit.psn_no != psn_no:
        raise no_such_visit(mdtrt_id)
    check_open(visit.status, mdtrt_id, doing=doing)
    return visit


async def upload_in(
    link: PeerLink,
    session: AsyncSession,
    clock: Clock,
    caller: Caller,
    ttl_seconds: int,
    *,
    psn_no: str,
    mdtrt_id: str,
    lines: list[FeeLine],
    batches: list[str | None] | None = None,
) -> list[tuple[FeeLine, LineSplit, str]]:
    visit = await open_visit(session, caller, mdtrt_id, psn_no, doing="上传费用明细")
    peer = await home_peer(session, visit.home_admdvs)
    policy = await home_policy(link, peer, caller.admdvs, ttl_seconds)
    kept: list[dict[str, Any]] = json.loads(visit.fees)
    known = {str(r["feedetl_sn"]) for r in kept}
    repeated = sorted({line.feedetl_sn for line in lines if line.feedetl_sn in known})
    if repeated:
        raise InvalidBill(f"费用明细流水号重复：{', '.join(repeated)}")
    result = await priced(session, clock, lines, policy)
    added = [_line_json(x, b) for x, b in zip(lines, batches or [None] * len(lines), strict=True)]
    visit.fees = json.dumps([*kept, *added])
    await session.flush()
    return result


@dataclass(frozen=True, slots=True)
class CrossBill:
    psn_no: str
    mdtrt_cert_type: str
    mdtrt_cert_no: str
    med_type: str
    medfee_sumamt_fen: int
    insutype: str | None
    acct_used_flag: bool
    msgid: str
    mdtrt_id: str | None = None  # hospitals
    lines: tuple[FeeLine, ...] | None = None  # pharmacies


@dataclass(frozen=True, slots=True)
class CrossSettled:
    setl_id: str
    mdtrt_id: str
    figures: dict[str, Any]
    lines: list[tuple[FeeLine, LineSplit, str]]
    home: Peer
    setl_time: datetime
    psn_name: str


async def settle_in(
    link: PeerLink,
    session: AsyncSession,
    clock: Clock,
    caller: Caller,
    peer: Peer,
    ttl_seconds: int,
    bill: CrossBill,
    *,
    write: bool,
) -> CrossSettled:
    now = clock.now()
    visit: repository.Visit | None = None
    if bill.lines is None:
        visit = await open_visit(session, caller, bill.mdtrt_id or "", bill.psn_no, doing="结算")
        lines = [_line_of(r) for r in json.loads(visit.fees)]
        if not lines:
            raise InvalidBill(f"就诊 {visit.mdtrt_id} 还没有上传费用明细（2204）")
        if visit.home_admdvs != peer.admdvs:
            raise InvalidInput("insuplc_admdvs 与挂号时的参保地不符")
    else:
        lines = list(bill.lines)
        if not lines:
            raise InvalidBill("drugdetail 不能为空")
    unreachable = False
    try:
        policy: HomePolicy | None = await home_policy(link, peer, caller.admdvs, ttl_seconds)
    except PeerUnavailable as exc:
        if not is_unreachable(exc, peer):
            raise
        policy, unreachable = last_policy(peer), True
    split = await priced(session, clock, lines, policy)
    total = sum(line.det_item_fee_sumamt_fen for line in lines)
    if total > MAX_FEN:
        raise InvalidBill(f"费用明细合计 {format_yuan(total)} 超过金额上限（最多13位整数）")
    if total != bill.medfee_sumamt_fen:
        raise InvalidBill(
            f"medfee_sumamt {bill.medfee_sumamt_fen / 100:.2f} 与费用明细合计 {total / 100:.2f} 不符"
        )
    mdtrt_id = visit.mdtrt_id if visit else (bill.mdtrt_id or new_id("M", now))
    message_id = settle_message_id(link.deployment, bill.msgid)
    body: dict[str, Any] = {
        "message_id": message_id,
        "dry_run": not write,
        "treatment_admdvs": caller.admdvs,
        "setl_id": new_id("S", now),
        "psn_no": bill.psn_no,
        "mdtrt_cert_type": bill.mdtrt_cert_type,
        "mdtrt_cert_no": bill.mdtrt_cert_no,
        "insutype": bill.insutype or "",
        "med_type": bill.med_type,
        "acct_used_flag": bill.acct_used_flag,
        "fixmedins_code": caller.fixmedins_code,
        "fixmedins_name": caller.name,
        "lines": [
            {
                "chrgitm_lv": s.chrgitm_lv.value,
                "fulamt_ownpay_fen": s.fulamt_ownpay_fen,
                "overlmt_selfpay_fen": s.overlmt_selfpay_fen,
                "preselfpay_fen": s.preselfpay_fen,
                "inscp_scp_fen": s.inscp_scp_fen,
            }
            for _, s, _ in split
        ],
    }
    try:
        if unreachable:
            raise PeerUnavailable(cash_note(peer))
        answer = await link.send(peer, "settle", body)
    except PeerUnavailable as exc:
        if not is_unreachable(exc, peer):
            raise
        # 全额垫付 (the home region allows it): see `unreachable`.
        cash = await settle_in_cash(
            session, clock, caller, peer, body, split, total, bill.msgid, mdtrt_id, write=write
        )
        if write and visit is not None:
            visit.status = "settled"
            await session.flush()
        return CrossSettled(body["setl_id"], mdtrt_id, cash, split, peer, now, "")
    figures: dict[str, Any] = answer["figures"]
    setl_id = str(figures["setl_id"])  # a retry after a crash: the first attempt's setl_id
    psn_name = str(answer.get("psn_name") or "")
    if write:
        session.add(
            repository.Settlement(
                setl_id=setl_id,
                msgid=bill.msgid,
                message_id=message_id,
                status="settled",
                fixmedins_code=caller.fixmedins_code,
                home_admdvs=peer.admdvs,
                psn_no=bill.psn_no,
                psn_name=psn_name[:50],
                mdtrt_id=mdtrt_id,
                med_type=bill.med_type,
                insutype=str(figures["insutype"]),
                medfee_sumamt_fen=int(figures["medfee_sumamt_fen"]),
                fund_pay_fen=int(figures["fund_pay_fen"]),
                acct_pay_fen=int(figures["acct_pay_fen"]),
                cash_pay_fen=int(figures["cash_pay_fen"]),
                answer=json.dumps(figures),
                items=priced_json(split),
                person=json.dumps(
                    {k: answer.get(k) for k in ("gend", "brdy", "certno_masked")},
                    ensure_ascii=False,
                ),
                settled_on=china_today(clock),
                created_at=now,
            )
        )
        if visit is not None:
            visit.status = "settled"
        await session.flush()
    return CrossSettled(setl_id, mdtrt_id, figures, split, peer, now, psn_name)
