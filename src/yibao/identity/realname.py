"""Real-name verification (实名认证): does this face or ID-card photo belong to this name + ID?

The enrolment match (name + ID number of an enrolled person) is ours; the biometric or document
check is a provider's. `DevelopmentRealNameProvider` accepts any face check and any non-empty photo;
`HttpRealNameProvider` calls a real service configured by YIBAO_REALNAME_ENDPOINT / _KEY.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from typing import Protocol
from urllib import request

METHODS = {"photo": "身份证照片", "face": "人脸识别"}
# Shown for accounts opened at the counter, where staff checked the ID card in person.
METHOD_NAMES = {**METHODS, "counter": "柜台核验"}


@dataclass(frozen=True, slots=True)
class RealNameEvidence:
    method: str  # "photo" | "face"
    image: bytes = b""


@dataclass(frozen=True, slots=True)
class RealNameResult:
    passed: bool
    reason: str = ""


class RealNameProvider(Protocol):
    async def verify(
        self, name: str, id_number: str, evidence: RealNameEvidence
    ) -> RealNameResult: ...


class DevelopmentRealNameProvider:
    async def verify(self, name: str, id_number: str, evidence: RealNameEvidence) -> RealNameResult:
        if evidence.method == "photo" and not evidence.image:
            return RealNameResult(False, "请上传身份证人像面照片")
        return RealNameResult(True)


class HttpRealNameProvider:
    """POST {name, id_number, method, image (base64)} with a bearer key; expects {passed, reason}."""

    def __init__(self, endpoint: str, key: str, timeout: float = 10.0) -> None:
        self._endpoint = endpoint
        self._key = key
        self._timeout = timeout

    async def verify(self, name: str, id_number: str, evidence: RealNameEvidence) -> RealNameResult:
        body = json.dumps(
            {
                "name": name,
                "id_number": id_number,
                "method": evidence.method,
                "image": base64.b64encode(evidence.image).decode(),
            }
        ).encode()
        req = request.Request(  # noqa: S310 - the endpoint is the operator's configuration
            self._endpoint,
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._key}"},
            method="POST",
        )

        def _call() -> dict[str, object]:
            with request.urlopen(req, timeout=self._timeout) as resp:  # noqa: S310
                answer = json.loads(resp.read().decode())
            return answer if isinstance(answer, dict) else {}

        try:
            answer = await asyncio.to_thread(_call)
        except (OSError, ValueError):
            return RealNameResult(False, "实名认证服务暂时不可用，请稍后重试")
        if answer.get("passed") is True:
            return RealNameResult(True)
        return RealNameResult(False, str(answer.get("reason") or "人像与身份信息不一致"))


def make_realname_provider(endpoint: str, key: str) -> RealNameProvider:
    if endpoint:
        return HttpRealNameProvider(endpoint, key)
    return DevelopmentRealNameProvider()
