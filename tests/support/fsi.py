"""A test-side institution: signs requests like a national client and numbers its msgids."""

from __future__ import annotations

import hashlib
import itertools
import secrets
import time
from datetime import datetime
from typing import Any

import httpx

from yibao.kernel.clock import CHINA_TZ

_sequence = itertools.count(1)


def sign(timestamp: str, token: str, nonce: str) -> str:
    return hashlib.sha256(f"{timestamp}{token}{nonce}{timestamp}".encode()).hexdigest()


class Institution:
    def __init__(
        self, http: httpx.AsyncClient, code: str, name: str, token: str, admdvs: str
    ) -> None:
        self.http = http
        self.code = code
        self.name = name
        self.paasid = code.lower()
        self.token = token
        self.admdvs = admdvs
        self.sign_no: str | None = None

    def new_msgid(self) -> str:
        return f"{self.code}{datetime.now(CHINA_TZ):%Y%m%d%H%M%S}{next(_sequence) % 10000:04d}"

    def headers(self, **override: str) -> dict[str, str]:
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(8)
        headers = {
            "x-tif-paasid": self.paasid,
            "x-tif-timestamp": timestamp,
            "x-tif-nonce": nonce,
            "x-tif-signature": sign(timestamp, self.token, nonce),
        }
        headers.update(override)
        return headers

    def envelope(
        self, infno: str, payload: dict[str, Any], msgid: str | None = None
    ) -> dict[str, Any]:
        return {
            "infno": infno,
            "msgid": msgid or self.new_msgid(),
            "mdtrtarea_admvs": self.admdvs,
            "insuplc_admdvs": self.admdvs,
            "recer_sys_code": "FSI_LOCAL",
            "infver": "V1.0",
            "opter_type": "1",
            "opter": "001",
            "opter_name": "收费员",
            "inf_time": datetime.now(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"),
            "fixmedins_code": self.code,
            "fixmedins_name": self.name,
            "sign_no": self.sign_no,
            "input": payload,
        }

    async def post(
        self, infno: str, payload: dict[str, Any], *, msgid: str | None = None
    ) -> httpx.Response:
        """The HTTP answer as it comes (9102 answers a file's bytes, not JSON, when it succeeds)."""
        response = await self.http.post(
            "/fsi/api/rsfComIfsService/callService",
            json=self.envelope(infno, payload, msgid),
            headers=self.headers(),
        )
        assert response.status_code == 200, response.text
        return response

    async def call(
        self,
        infno: str,
        payload: dict[str, Any],
        *,
        msgid: str | None = None,
        path: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = await self.http.post(
            path or "/fsi/api/rsfComIfsService/callService",
            json=self.envelope(infno, payload, msgid),
            headers=headers or self.headers(),
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def sign_in(self) -> str:
        answer = await self.call("9001", {"signIn": {"opter_no": "001", "mac": "", "ip": ""}})
        assert answer["infcode"] == 0, answer
        self.sign_no = answer["output"]["signinoutb"]["sign_no"]
        assert self.sign_no
        return self.sign_no
