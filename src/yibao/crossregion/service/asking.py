"""The treatment region's questions to the home region that carry no bill (就医地 B asks 参保地 A).

home_peer: which deployment serves a 参保地 (refused if the region is not in the directory).
home_policy: 参保地政策, fetched from the home deployment and kept for a TTL in this process
(forget_policies empties that cache; last_policy reads it whatever its age). person_in: who a certificate belongs to (1101). They are
used by `treatment`, which re-exports them under its own name as before.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.crossregion import repository
from yibao.crossregion.domain import HomePolicy, Peer, UnfiledRule, UnknownRegion
from yibao.crossregion.link import PeerLink
from yibao.settlement.domain import Caller


async def home_peer(session: AsyncSession, admdvs: str) -> Peer:
    peer = await repository.peer_of(session, admdvs)
    if peer is None:
        raise UnknownRegion(f"insuplc_admdvs {admdvs} 不在区划目录中，无法异地结算")
    return peer


_policies: dict[tuple[str, str], tuple[float, HomePolicy]] = {}


async def home_policy(
    link: PeerLink, peer: Peer, treatment_admdvs: str, ttl_seconds: int
) -> HomePolicy:
    """参保地政策, fetched from the home deployment and kept `ttl_seconds` in this process."""
    key = (peer.deployment, peer.admdvs)
    kept = _policies.get(key)
    if kept is not None and time.monotonic() - kept[0] < ttl_seconds:
        return kept[1]
    answer = await link.send(
        peer, "policy", {"treatment_admdvs": treatment_admdvs, "home_admdvs": peer.admdvs}
    )
    p = answer["policy"]
    found = HomePolicy(
        admdvs=str(p["admdvs"]),
        deductible_fen=int(p["deductible_fen"]),
        fund_ratio_bp=int(p["fund_ratio_bp"]),
        retiree_fund_ratio_bp=int(p["retiree_fund_ratio_bp"]),
        yearly_cap_fen=int(p["yearly_cap_fen"]),
        class_b_selfpay_bp=int(p["class_b_selfpay_bp"]),
        unfiled_rule=UnfiledRule(p["unfiled_rule"]),
        unfiled_ratio_cut_bp=int(p["unfiled_ratio_cut_bp"]),
    )
    _policies[key] = (time.monotonic(), found)
    return found


def last_policy(peer: Peer) -> HomePolicy | None:
    """The policy last fetched from `peer` by this process, however old: what prices a bill
    settled in cash while the home deployment cannot be asked (the fund pays nothing then, so
    only the 乙类 share of the informational split depends on it)."""
    kept = _policies.get((peer.deployment, peer.admdvs))
    return None if kept is None else kept[1]


def forget_policies() -> None:
    _policies.clear()


async def person_in(
    link: PeerLink, peer: Peer, caller: Caller, cert_type: str, cert_no: str, name: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "treatment_admdvs": caller.admdvs,
        "mdtrt_cert_type": cert_type,
        "mdtrt_cert_no": cert_no,
    }
    if name:
        body["psn_name"] = name
    return await link.send(peer, "person", body)
