"""The treatment region's side (就医地, B): a cross-region settlement undone (2208/2103/2601).

A reverses first (it is idempotent by the settle message's id); only then is this side's record
marked cancelled, so an A that cannot be reached leaves both sides as they were. Runs inside the
institution message's one transaction; nothing here commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.crossregion import repository
from yibao.crossregion.domain import settle_message_id
from yibao.crossregion.link import PeerLink
from yibao.crossregion.service.asking import home_peer
from yibao.kernel.clock import Clock
from yibao.settlement.domain import Caller, UnknownSettlement


@dataclass(frozen=True, slots=True)
class CrossCancelled:
    settlement: repository.Settlement
    figures: dict[str, Any]


async def cancel_in(
    link: PeerLink,
    session: AsyncSession,
    clock: Clock,
    caller: Caller,
    *,
    setl_id: str,
    psn_no: str,
    reason: str,
) -> CrossCancelled:
    """2208/2103: A reverses first (it is idempotent by the settle message's id); then ours."""
    found = await repository.settlement_by_setl_id(session, setl_id, lock=True)
    if found is None or found.fixmedins_code != caller.fixmedins_code or found.psn_no != psn_no:
        raise UnknownSettlement(f"本机构没有该参保人的异地结算 setl_id={setl_id}")
    if found.status != "settled":
        raise UnknownSettlement(f"异地结算 {setl_id} 已撤销")
    peer = await home_peer(session, found.home_admdvs)
    answer = await link.send(
        peer,
        "reverse",
        {"message_id": found.message_id, "treatment_admdvs": caller.admdvs, "reason": reason},
    )
    found.status = "cancelled"
    found.cancelled_at = clock.now()
    await session.flush()
    # A cash settlement's money is ours (A may never have received its record).
    figures: dict[str, Any] = (
        json.loads(found.answer) if found.mode == "cash" else answer["figures"]
    )
    return CrossCancelled(found, figures)


async def reverse_in(
    link: PeerLink,
    session: AsyncSession,
    clock: Clock,
    caller: Caller,
    *,
    home_admdvs: str,
    msgid: str,
    reason: str,
) -> CrossCancelled | None:
    """2601 of a cross-region 2207/2102, whatever state it reached: A reverses the message id
    (or keeps it refused if it never arrived), and our record, if any, is cancelled."""
    found = await repository.settlement_by_msgid(session, msgid)
    if found is not None:
        if found.fixmedins_code != caller.fixmedins_code:
            return None
        if found.status != "settled":
            return None
        return await cancel_in(
            link, session, clock, caller, setl_id=found.setl_id, psn_no=found.psn_no, reason=reason
        )
    peer = await home_peer(session, home_admdvs)
    await link.send(
        peer,
        "reverse",
        {
            "message_id": settle_message_id(link.deployment, msgid),
            "treatment_admdvs": caller.admdvs,
            "reason": reason,
        },
    )
    return None
