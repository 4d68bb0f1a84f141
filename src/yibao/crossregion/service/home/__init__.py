"""The home region's side (参保地, A): what a treatment region (B) may ask of it.

person: who presents this certificate (1101 at B). policy: 参保地政策. treatment: 2001 at B. settle: assess the bill B
priced on its catalogue against the person's year and this region's policy, take the account
part from the ledger, record the fund part (a claim) — or, `dry_run`, only answer the figures
(2206/2101 at B). reverse: undo a settle message, whatever state it reached (2208/2103/2601 at B,
reconciliation). reconcile: B's list of a day against the claims. clearing: a month's totals.
cash: the record of a bill B settled in cash while it could not reach us (`elsewhere`).

Each use case commits once; a settle message's claim is its idempotency record (unique
`message_id`), and a reversal that arrives before its settle message leaves a reversed claim
with no money, so the late settle message is refused instead of debiting.

The use cases live in `answers` (person, policy), `settling` (settle, reverse) and
`reconciliation` (reconcile, clearing); this package keeps `yibao.crossregion.service.home` as
the one import path for them and for `HANDLERS`, the peer API's table of kinds.
"""

from __future__ import annotations

from yibao.crossregion.service.home.answers import person, policy, treatment
from yibao.crossregion.service.home.elsewhere import record_cash
from yibao.crossregion.service.home.reconciliation import clearing, reconcile
from yibao.crossregion.service.home.settling import reverse, reverse_claim_in, settle
from yibao.crossregion.service.inbound import Handler

HANDLERS: dict[str, Handler] = {
    "person": person,
    "policy": policy,
    "treatment": treatment,
    "settle": settle,
    "reverse": reverse,
    "reconcile": reconcile,
    "clearing": clearing,
    "cash": record_cash,
}

__all__ = [
    "HANDLERS",
    "clearing",
    "person",
    "policy",
    "reconcile",
    "record_cash",
    "reverse",
    "reverse_claim_in",
    "settle",
    "treatment",
]
