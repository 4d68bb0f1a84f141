"""The home region's reconciliation and clearing (参保地, A): B's day list and a month's totals.

reconcile: B's list of a day against the claims here — a claim B does not hold as settled is
reversed (through the settling use case's reversal), one B settled in cash (`cash`: we were
unreachable) becomes a claim paid elsewhere with its debit reversed, one B holds that this side
does not is reported; the answer is kept under the message id so a repeated list gets the same answer and a
different list under the same id is refused. clearing: a month's totals between the two regions,
read only.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from yibao.crossregion import repository
from yibao.crossregion.domain import BadPeerMessage, ClaimStatus, Difference
from yibao.crossregion.service.home.answers import _treatment_region
from yibao.crossregion.service.home.elsewhere import to_cash_in
from yibao.crossregion.service.home.settling import reverse_claim_in
from yibao.crossregion.service.inbound import Sender, text_field
from yibao.runtime import Runtime


async def reconcile(runtime: Runtime, sender: Sender, payload: dict[str, Any]) -> dict[str, Any]:
    """B's list of the day is what institutions were told: a claim B does not hold as settled
    is reversed here; one B holds that this side does not (or holds reversed) is reported."""
    treatment = _treatment_region(sender, payload)
    message_id = text_field(payload, "message_id", 80)
    day = date.fromisoformat(text_field(payload, "day", 10))
    items = payload.get("settled")
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise BadPeerMessage("报文字段 settled 应为结算报文编号的列表")
    settled_at_b = set(items)
    cash = payload.get("cash", [])
    if not isinstance(cash, list) or not all(isinstance(i, str) for i in cash):
        raise BadPeerMessage("报文字段 cash 应为全额自付结算报文编号的列表")
    cash_at_b = set(cash)
    digest = json.dumps(sorted(settled_at_b)) + (json.dumps(sorted(cash_at_b)) if cash else "")
    async with runtime.sessions() as session:
        kept = await repository.inbox(session, message_id)
        if kept is not None:
            if kept.digest != _hash(digest):
                raise BadPeerMessage(f"对账报文 {message_id} 已用于另一份清单")
            stored: dict[str, Any] = json.loads(kept.answer)
            return stored
        differences: list[Difference] = []
        for claim in await repository.claims_of_day(session, treatment, day):
            if claim.status == ClaimStatus.SETTLED and claim.message_id in cash_at_b:
                # B settled it in cash after timing out on us: our debit must not stand.
                await to_cash_in(
                    runtime,
                    session,
                    sender,
                    treatment,
                    claim,
                    f"{day} 对账：就医地已按全额自付结算",
                )
                differences.append(Difference(claim.message_id, "settled", "cash", "to_cash"))
            elif claim.status == ClaimStatus.SETTLED and claim.message_id not in settled_at_b:
                await reverse_claim_in(
                    runtime,
                    session,
                    sender,
                    treatment,
                    claim.message_id,
                    f"{day} 对账：就医地无此结算",
                )
                differences.append(
                    Difference(claim.message_id, "settled", None, "reversed_at_home")
                )
            elif claim.status == ClaimStatus.REVERSED and claim.message_id in settled_at_b:
                differences.append(Difference(claim.message_id, "reversed", "settled", "reported"))
            settled_at_b.discard(claim.message_id)
        for missing in sorted(settled_at_b):
            other = await repository.claim_by_message(session, missing)
            if other is None or other.status != ClaimStatus.SETTLED:
                differences.append(
                    Difference(missing, other.status if other else None, "settled", "reported")
                )
        answer = {
            "day": day.isoformat(),
            "differences": [
                {
                    "message_id": d.message_id,
                    "home": d.home,
                    "treatment": d.treatment,
                    "action": d.action,
                }
                for d in differences
            ],
        }
        session.add(
            repository.InboxMessage(
                message_id=message_id,
                kind="reconcile",
                sender=sender.deployment,
                digest=_hash(digest),
                answer=json.dumps(answer, ensure_ascii=False),
                created_at=runtime.clock.now(),
            )
        )
        await session.commit()
    return answer


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def clearing(runtime: Runtime, sender: Sender, payload: dict[str, Any]) -> dict[str, Any]:
    treatment = _treatment_region(sender, payload)
    month = text_field(payload, "month", 7)
    home = text_field(payload, "home_admdvs", 6)
    try:
        date.fromisoformat(f"{month}-01")
    except ValueError:
        raise BadPeerMessage("报文字段 month 应为 yyyy-MM") from None
    async with runtime.sessions() as session:
        totals = await repository.clearing_at_home(session, month, home, treatment)
    return {"totals": totals.as_dict()}
