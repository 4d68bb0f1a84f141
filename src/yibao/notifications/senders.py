"""Where the worker sends SMS: the log in development, a real gateway by configuration."""

from __future__ import annotations

import json
from typing import Protocol
from urllib import request

import structlog

log = structlog.get_logger("yibao.sms")


class SmsDeliveryFailed(Exception):
    pass


class SmsSender(Protocol):
    async def send(self, phone: str, text: str) -> None: ...


class LogSmsSender:
    """Development: the message goes to the log; the outbox row itself is what /dev/sms shows."""

    async def send(self, phone: str, text: str) -> None:
        log.info("sms", phone=phone[:3] + "****" + phone[-4:], text=text)


class HttpSmsSender:
    """A generic JSON-over-HTTPS gateway: POST {phone, text} with a bearer key.

    Fits gateways that accept a templated JSON call (most domestic SMS platforms offer one);
    the endpoint and key come from YIBAO_SMS_ENDPOINT / YIBAO_SMS_KEY.
    """

    def __init__(self, endpoint: str, key: str, timeout: float = 5.0) -> None:
        self._endpoint = endpoint
        self._key = key
        self._timeout = timeout

    async def send(self, phone: str, text: str) -> None:
        import asyncio

        body = json.dumps({"phone": phone, "text": text}).encode()
        req = request.Request(  # noqa: S310 - the endpoint is the operator's configuration
            self._endpoint,
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._key}"},
            method="POST",
        )

        def _call() -> int:
            with request.urlopen(req, timeout=self._timeout) as resp:  # noqa: S310
                return int(resp.status)

        try:
            status = await asyncio.to_thread(_call)
        except OSError as exc:
            raise SmsDeliveryFailed(str(exc)) from exc
        if status >= 300:
            raise SmsDeliveryFailed(f"gateway answered {status}")
