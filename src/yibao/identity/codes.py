"""SMS codes and their rate limits, kept in the short-lived store (rule 11), never in memory.

Only a keyed hash of each code is stored. Expiry is judged by the Clock (so tests can move time);
the store's own time-to-live only clears the leftovers.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime, timedelta

from yibao.db.ephemeral import EphemeralStore
from yibao.identity.domain import CodePurpose, CodeRejected, IdentityPolicy, RateLimited
from yibao.kernel.clock import CHINA_TZ
from yibao.kernel.pii import PersonalDataCipher

_SLACK = timedelta(minutes=1)


def _hash(cipher: PersonalDataCipher, phone_hash: str, purpose: CodePurpose, code: str) -> str:
    return cipher.lookup_hash(code, purpose=f"sms-code:{purpose.value}:{phone_hash}")


async def reserve_sending(
    store: EphemeralStore,
    phone_hash: str,
    now: datetime,
    policy: IdentityPolicy,
    *,
    what: str = "该手机号",
) -> None:
    """One code per `sms_min_interval` and `sms_daily_limit` a (Beijing) day per phone, or per
    whatever `phone_hash` stands for (找回密码 and SMS sign-in also count what was typed in, an ID
    number or a phone, account or not; `what` names it)."""
    gap_seconds = int(policy.sms_min_interval.total_seconds())
    if gap_seconds > 0 and not await store.add(
        f"sms:gap:{phone_hash}", "1", policy.sms_min_interval
    ):
        raise RateLimited(f"验证码发送太频繁，请{gap_seconds}秒后再试")
    day = now.astimezone(CHINA_TZ).date().isoformat()
    count = await store.incr(f"sms:day:{phone_hash}:{day}", timedelta(days=1, hours=1))
    if count > policy.sms_daily_limit:
        raise RateLimited(f"{what}今日获取验证码已达{policy.sms_daily_limit}次上限，请明天再试")


async def remember_code(
    store: EphemeralStore,
    cipher: PersonalDataCipher,
    phone_hash: str,
    purpose: CodePurpose,
    code: str,
    now: datetime,
    policy: IdentityPolicy,
) -> None:
    value = json.dumps({"h": _hash(cipher, phone_hash, purpose, code), "at": now.isoformat()})
    await store.put(f"sms:code:{purpose.value}:{phone_hash}", value, policy.code_ttl + _SLACK)
    await store.delete(f"sms:tries:{purpose.value}:{phone_hash}")


async def consume_code(
    store: EphemeralStore,
    cipher: PersonalDataCipher,
    phone_hash: str,
    purpose: CodePurpose,
    code: str,
    now: datetime,
    policy: IdentityPolicy,
    *,
    keep: bool = False,
) -> None:
    """Accept the code once; a wrong one costs a try, and the last try voids the code. `keep`
    leaves a right code in place for the caller to `discard_code` once the rest of its checks
    pass (找回密码 can refuse the new password only after the code is proven)."""
    key = f"sms:code:{purpose.value}:{phone_hash}"
    raw = await store.get(key)
    if raw is None:
        raise CodeRejected("验证码已失效，请重新获取")
    stored = json.loads(raw)
    if now - datetime.fromisoformat(stored["at"]) > policy.code_ttl:
        await store.delete(key)
        raise CodeRejected("验证码已过期，请重新获取")
    tries = await store.incr(f"sms:tries:{purpose.value}:{phone_hash}", policy.code_ttl + _SLACK)
    if tries > policy.code_max_tries:
        await store.delete(key)
        raise CodeRejected("验证码错误次数过多，请重新获取")
    if not hmac.compare_digest(stored["h"], _hash(cipher, phone_hash, purpose, code)):
        left = policy.code_max_tries - tries
        if left <= 0:
            await store.delete(key)
            raise CodeRejected("验证码错误次数过多，请重新获取")
        raise CodeRejected(f"验证码不正确，还可尝试{left}次")
    if not keep:
        await discard_code(store, phone_hash, purpose)


async def discard_code(store: EphemeralStore, phone_hash: str, purpose: CodePurpose) -> None:
    await store.delete(f"sms:code:{purpose.value}:{phone_hash}")
    await store.delete(f"sms:tries:{purpose.value}:{phone_hash}")
