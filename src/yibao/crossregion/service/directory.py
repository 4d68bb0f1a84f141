"""The directory of regions and this deployment's link to the others."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.crossregion import repository
from yibao.crossregion.domain import BadPeerMessage, Peer, UnfiledRule, WhenUnreachable
from yibao.crossregion.link import HttpPeerLink, PeerLink
from yibao.crossregion.signing import Signer
from yibao.runtime import Runtime


def signer_of(runtime: Runtime) -> Signer:
    settings = runtime.settings
    return Signer(settings.peer_id or "local", settings.peer_key_bytes())


def link_of(runtime: Runtime) -> PeerLink:
    """The process's link (built once); tests and the demo may set `runtime.peer_link`."""
    if runtime.peer_link is None:
        runtime.peer_link = HttpPeerLink(
            signer_of(runtime),
            timeout=runtime.settings.peer_timeout_seconds,
            window_seconds=runtime.settings.peer_window_seconds,
        )
    link: PeerLink = runtime.peer_link
    return link


def read_directory(text: str, deployment: str) -> list[Peer]:
    """`{"regions": [{"admdvs", "region_name", "deployment", "base_url", "public_key",
    "when_unreachable"?}]}`; a region is local when its deployment is this one.
    `when_unreachable` (refuse, the default, or cash) is the region's own choice of what another
    deployment does for its insured when it cannot be reached; `next_public_key` the key its
    deployment is rolling to, accepted beside `public_key` while it rolls."""
    try:
        data: Any = json.loads(text)
        rows = data["regions"]
        peers = [
            Peer(
                admdvs=str(r["admdvs"]),
                region_name=str(r["region_name"]),
                deployment=str(r["deployment"]),
                base_url=str(r["base_url"]),
                public_key=str(r["public_key"]),
                local=str(r["deployment"]) == deployment,
                when_unreachable=WhenUnreachable(str(r.get("when_unreachable", "refuse"))),
                next_public_key=str(r["next_public_key"]) if r.get("next_public_key") else None,
            )
            for r in rows
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadPeerMessage(f"区划目录文件格式不对：{type(exc).__name__}") from None
    for p in peers:
        if len(p.admdvs) != 6 or not p.admdvs.isdigit():
            raise BadPeerMessage(f"区划目录：admdvs 应为6位数字，收到 {p.admdvs!r}")
        if not p.base_url.startswith(("https://", "http://")):
            raise BadPeerMessage(f"区划目录：{p.admdvs} 的 base_url 应以 https:// 开头")
    return peers


async def load_directory(session: AsyncSession, runtime: Runtime, text: str) -> list[Peer]:
    """The directory file's `text` (the CLI reads the file) into the table."""
    try:
        peers = read_directory(text, runtime.settings.peer_id or "local")
        for peer in peers:
            await repository.put_peer(session, peer)
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    forget_directory()
    return peers


async def directory(session: AsyncSession) -> list[Peer]:
    return await repository.all_peers(session)


async def pages_of(session: AsyncSession, admdvs: str) -> str | None:
    """Where a person insured in `admdvs` signs in: this deployment's /login, or the home
    deployment's; None for a region the directory does not list."""
    peer = await repository.peer_of(session, admdvs)
    if peer is None:
        return None
    return "/login" if peer.local else f"{peer.base_url.rstrip('/')}/login"


async def set_home_rule(session: AsyncSession, admdvs: str, rule: UnfiledRule, cut_bp: int) -> None:
    try:
        await repository.put_home_rule(session, admdvs, rule, cut_bp)
        await session.commit()
    except BaseException:
        await session.rollback()
        raise


_cached: dict[str, tuple[float, dict[str, Peer]]] = {}
_TTL = 30.0


def forget_directory() -> None:
    _cached.clear()


async def served_elsewhere(runtime: Runtime, admdvs: str) -> Peer | None:
    """The peer serving `admdvs` when it is not this deployment (cached per process for a few
    seconds: the interface asks this for every message naming another insured region)."""

    key = runtime.settings.effective_database_url
    kept = _cached.get(key)
    if kept is None or time.monotonic() - kept[0] > _TTL:
        async with runtime.sessions() as session:
            peers = {p.admdvs: p for p in await repository.all_peers(session)}
        kept = (time.monotonic(), peers)
        _cached[key] = kept
    peer = kept[1].get(admdvs)
    return None if peer is None or peer.local else peer
