"""The client side of the API between deployments: sign, post, check the answer's signature.

`PeerLink` is the small interface the use cases call; `HttpPeerLink` is the real one (httpx).
Tests hand it transports that reach another app in the same process.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from yibao.crossregion.domain import (
    BadPeerMessage,
    Peer,
    PeerRefused,
    PeerUnavailable,
    signing_text,
    within_window,
)
from yibao.crossregion.signing import Signer, verify


class PeerLink(Protocol):
    deployment: str

    async def send(self, peer: Peer, kind: str, body: dict[str, Any]) -> dict[str, Any]: ...


def dumps(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class HttpPeerLink:
    def __init__(
        self,
        signer: Signer,
        *,
        timeout: float,
        window_seconds: int = 300,
        mounts: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self.signer = signer
        self.deployment = signer.deployment
        self.window_seconds = window_seconds
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout), mounts=dict(mounts or {}), follow_redirects=False
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def send(self, peer: Peer, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        raw = dumps(body)
        headers = self.signer.headers(kind, int(time.time()), raw)
        headers["content-type"] = "application/json"
        url = f"{peer.base_url.rstrip('/')}/peer/v1/{kind}"
        try:
            response = await self._client.post(url, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            raise PeerUnavailable(
                f"参保地 {peer.region_name}（{peer.admdvs}）医保平台暂时无法连接"
                f"（{type(exc).__name__}），本笔未结算，请稍后重试"
            ) from None
        if response.status_code != 200:
            raise PeerUnavailable(
                f"参保地 {peer.region_name}（{peer.admdvs}）医保平台拒绝了本平台的请求"
                f"（HTTP {response.status_code}），本笔未结算，请稍后重试"
            )
        self._check_answer(peer, kind, response)
        answer: dict[str, Any] = response.json()
        if not answer.get("ok"):
            raise PeerRefused(
                str(answer.get("err_msg") or f"参保地 {peer.region_name} 医保平台拒绝办理")
            )
        return answer

    def _check_answer(self, peer: Peer, kind: str, response: httpx.Response) -> None:
        """The answer must be signed by the deployment the directory names for that region:
        a man in the middle cannot tell B that A debited."""
        h = response.headers
        text = signing_text(
            f"answer:{kind}",
            h.get("x-yibao-peer", ""),
            h.get("x-yibao-timestamp", ""),
            h.get("x-yibao-nonce", ""),
            response.content,
        )
        if (
            h.get("x-yibao-peer") != peer.deployment
            or not within_window(
                h.get("x-yibao-timestamp", ""), int(time.time()), self.window_seconds
            )
            or not any(
                verify(key, h.get("x-yibao-signature", ""), text) for key in peer.public_keys
            )
        ):
            raise PeerUnavailable(
                f"参保地 {peer.region_name}（{peer.admdvs}）的应答签名无效，本笔未结算"
            )


def answer_headers(signer: Signer, kind: str, body: bytes) -> dict[str, str]:
    return signer.headers(f"answer:{kind}", int(time.time()), body)


__all__ = ["BadPeerMessage", "HttpPeerLink", "PeerLink", "answer_headers", "dumps"]
