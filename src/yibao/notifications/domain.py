"""Rules of delivery.

- A side effect beyond the database (an SMS, a call to a partner) is written to the outbox in the
  same transaction as the business change, and delivered after commit by the worker. A rolled
  back transaction therefore sends nothing, and a failing gateway never fails the transaction.
- A message carrying a secret (an SMS code) keeps it only until delivery: the text to send is
  stored encrypted beside words without the secret, and erased once delivered or given up.
- Each message has a dedup key: the same business event enqueued twice is delivered once.
- Failed deliveries are retried with exponential backoff (30 s, 1 min, 2 min … capped at 1 h)
  and given up after `MAX_ATTEMPTS`, staying visible as failed.
- 消息 (in-app notices) belong to one person: nobody else reads them or marks them read. Opening
  a notice marks it read once; the first reading time is kept.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from yibao.kernel.errors import NotFound

MAX_ATTEMPTS = 8
# An SMS whose text holds a secret (a verification code) keeps that text encrypted under this
# purpose until it is delivered, then erased; `body` holds words without the secret.
SEALED_BODY_PURPOSE = "outbox-sealed-body"


class Channel(StrEnum):
    SMS = "sms"
    INAPP = "inapp"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


NOTICES_PAGE_SIZE = 20
MAX_NOTICES_PAGE_SIZE = 100


class UnknownNotice(NotFound):
    code = "unknown_notice"
