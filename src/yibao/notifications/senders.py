"""Where the worker sends SMS: the development inbox (/dev/sms), or a real gateway by
configuration."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib import request

import structlog

from yibao.db.ephemeral import EphemeralStore

log = structlog.get_logger("yibao.sms")

_DELIVERED_KEY = "dev-sms:delivered"
_KEEP_AT_MOST = 30


class SmsDeliveryFailed(Exception):
    pass


class SmsSender(Protocol):
    async def send(self, phone: str, text: str) -> None: ...


def _masked(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:]


@dataclass(frozen=True, slots=True)
class DeliveredSms:
    at: datetime
    phone_masked: str
    text: str


class DevelopmentSmsSender:
    """Development: no phone is texted. Each message is kept, text and all, in the short-lived
    store for `keep_for` (an SMS code's lifetime), where /dev/sms reads it; the outbox erases a
    code once delivered, and the log gets only that a message went to a masked phone: a code
    written to the log would outlive its use in every log file and backup."""

    def __init__(self, store: EphemeralStore, keep_for: timedelta) -> None:
        self._store = store
        self._keep_for = keep_for

    async def send(self, phone: str, text: str) -> None:
        now = datetime.now(UTC)
        kept = [m for m in await _delivered(self._store) if now - m.at < self._keep_for]
        kept.insert(0, DeliveredSms(at=now, phone_masked=_masked(phone), text=text))
        value = [
            {"at": m.at.isoformat(), "phone": m.phone_masked, "text": m.text}
            for m in kept[:_KEEP_AT_MOST]
        ]
        await self._store.put(_DELIVERED_KEY, json.dumps(value, ensure_ascii=False), self._keep_for)
        log.info("sms_delivered_to_dev_inbox", phone=_masked(phone))


async def _delivered(store: EphemeralStore) -> list[DeliveredSms]:
    raw = await store.get(_DELIVERED_KEY)
    return [
        DeliveredSms(at=datetime.fromisoformat(m["at"]), phone_masked=m["phone"], text=m["text"])
        for m in (json.loads(raw) if raw else [])
    ]


async def delivered_in_development(
    store: EphemeralStore, keep_for: timedelta
) -> list[DeliveredSms]:
    """What `DevelopmentSmsSender` delivered within `keep_for`, newest first."""
    now = datetime.now(UTC)
    return [m for m in await _delivered(store) if now - m.at < keep_for]


class UnconfiguredSmsSender:
    """Production without YIBAO_SMS_ENDPOINT: nothing can be sent, and nothing is shown or logged
    instead; the messages wait, retried with backoff, then stay visible as failed."""

    async def send(self, phone: str, text: str) -> None:
        raise SmsDeliveryFailed("no SMS gateway: set YIBAO_SMS_ENDPOINT and YIBAO_SMS_KEY")


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
