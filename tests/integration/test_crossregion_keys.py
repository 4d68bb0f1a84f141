"""Key rotation between deployments (docs/cross-region.md, "Rolling a key"): the directory lists
a deployment's next public key beside its current one, and a message or an answer signed with
either verifies; one signed with a key the directory does not list is refused."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

import httpx
import pytest

from tests.integration.test_crossregion_unreachable import databases as databases
from tests.integration.test_crossregion_unreachable import pg_databases as pg_databases
from tests.support.two_regions import A_URL, HOME, TREATMENT, deployments, directory_json
from yibao.crossregion import service as crossregion
from yibao.crossregion.domain import PeerUnavailable
from yibao.crossregion.link import HttpPeerLink
from yibao.crossregion.signing import Signer, public_key_of
from yibao.runtime import Runtime


async def load(runtime: Runtime, rows: dict[str, dict[str, str]], base: str) -> None:
    data = json.loads(base)
    for region in data["regions"]:
        region.update(rows.get(region["admdvs"], {}))
    async with runtime.sessions() as session:
        await crossregion.load_directory(session, runtime, json.dumps(data, ensure_ascii=False))


async def test_either_key_of_a_rolling_deployment_verifies(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    async with deployments(*databases, tmp_path) as d:
        seeds = [base64.b64encode(r.settings.peer_key_bytes()).decode() for r in (d.a, d.b)]
        base = directory_json(*seeds)
        new_b = secrets.token_bytes(32)
        new_b_public = public_key_of(base64.b64encode(new_b).decode())
        rolled = HttpPeerLink(
            Signer("shanghai", new_b), timeout=5.0, mounts={A_URL: httpx.ASGITransport(app=d.a_app)}
        )
        async with d.b.sessions() as session:
            peer = await crossregion.home_peer(session, HOME)
        ask = {"treatment_admdvs": TREATMENT, "home_admdvs": HOME}

        # B signs with its new key before A's directory knows it: refused.
        with pytest.raises(PeerUnavailable):
            await rolled.send(peer, "policy", ask)
        # A's directory lists it as B's next key: both B's keys are taken.
        await load(d.a, {TREATMENT: {"next_public_key": new_b_public}}, base)
        assert (await rolled.send(peer, "policy", ask))["policy"]["admdvs"] == HOME
        assert (await crossregion.link_of(d.b).send(peer, "policy", ask))["ok"]
        # Rolled: the new key is current, the old one no longer listed.
        await load(d.a, {TREATMENT: {"public_key": new_b_public}}, base)
        assert (await rolled.send(peer, "policy", ask))["ok"]
        with pytest.raises(PeerUnavailable):
            await crossregion.link_of(d.b).send(peer, "policy", ask)

        # Answers too: B's directory names another key as A's current and A's real one as next.
        stranger = public_key_of(base64.b64encode(secrets.token_bytes(32)).decode())
        await load(d.b, {HOME: {"public_key": stranger}}, base)
        async with d.b.sessions() as session:
            wrong = await crossregion.home_peer(session, HOME)
        with pytest.raises(PeerUnavailable, match="签名无效"):
            await rolled.send(wrong, "policy", ask)
        await load(
            d.b, {HOME: {"public_key": stranger, "next_public_key": public_key_of(seeds[0])}}, base
        )
        async with d.b.sessions() as session:
            rolling = await crossregion.home_peer(session, HOME)
        assert (await rolled.send(rolling, "policy", ask))["ok"]
        await rolled.close()
