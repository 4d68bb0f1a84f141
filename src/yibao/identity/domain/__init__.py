"""Rules of identity (sign-up, sign-in, verification, sessions, staff).

- One online account per insured person; it is opened only after the phone is proven by an SMS
  code and the real name (name + ID number) matches an enrolled person, plus an ID-photo or face
  check through a provider.
- Passwords: 8+ characters with letters, digits and a symbol, and never the phone or the ID
  number (nor containing them). Stored with argon2id.
- Sign-in by phone, ID number or social-security card number, with the password, an SMS code or a
  passkey. An unknown identifier and a wrong password get the same answer, so nobody can probe
  which phones have accounts.
- Lockout: `max_failures` wrong passwords within `failure_window` hold back password sign-in for
  `lock_for`, counted apart for each device the account signed in on before (a device token) and
  together for all other devices; a held-back try is answered as a wrong password, so nobody
  learns that an account exists, and an attacker cannot lock the owner's own device out. SMS
  codes and passkeys are not held back. A password reset (ID number + SMS code) or staff clear it.
- Per client address: `address_max_failures` failed passwords, SMS codes or card passwords from
  one address within a stretch of `address_window` refuse that address every such check (even a
  right one) until the stretch ends; against one client trying many accounts once each. Asking
  for more than `address_max_sms` SMS codes in a stretch is refused alike (SMS bombing).
- SMS codes: 6 digits, valid `code_ttl`, `code_max_tries` tries, at most one per `sms_min_interval`
  and `sms_daily_limit` a day per phone; 找回密码 and SMS sign-in also count them per ID number
  or phone typed in, account or not. Kept hashed in the short-lived store; the outbox holds the
  text encrypted until delivery only.
- 找回密码 answers alike whether the ID number has an account or not, at every step; asking for
  an SMS sign-in code answers alike whether the phone has one.
- The card query password, a step-up method, locks by the same rule (`max_failures` within
  `failure_window` block it for `lock_for`), with SMS codes and passkeys still open meanwhile.
  One count per account whichever channel typed it (phone step-up, hotline keypad, kiosk
  keypad): `judge_card_password` is the one rule, identity/service/card_password.py the one path.
- Sessions end after `idle_timeout` without use (staff: `staff_idle_timeout`, at most 15 minutes),
  or everywhere at once on request. Account details need a verification (SMS code, card query
  password, passkey) younger than `step_up_window`, on that session only.
- Staff sign in with password + TOTP; roles: clerk 经办人员, reviewer 审核人员, admin 管理员.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from yibao.identity.domain.limits import (
    CardPasswordVerdict as CardPasswordVerdict,
)
from yibao.identity.domain.limits import (
    LockState as LockState,
)
from yibao.identity.domain.limits import (
    address_refused_until as address_refused_until,
)
from yibao.identity.domain.limits import (
    address_window as address_window,
)
from yibao.identity.domain.limits import (
    after_failure as after_failure,
)
from yibao.identity.domain.limits import (
    after_success as after_success,
)
from yibao.identity.domain.limits import (
    card_password_locked_message as card_password_locked_message,
)
from yibao.identity.domain.limits import (
    client_key as client_key,
)
from yibao.identity.domain.limits import (
    judge_card_password as judge_card_password,
)
from yibao.identity.domain.limits import (
    sms_throttled_message as sms_throttled_message,
)
from yibao.identity.domain.limits import (
    throttled_message as throttled_message,
)
from yibao.kernel.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from yibao.kernel.idnumber import is_valid_id_number


class Unauthenticated(DomainError):
    code = "unauthenticated"


class StepUpRequired(DomainError):
    code = "step_up_required"


class StaffRoleRequired(PermissionDenied):
    code = "staff_role_required"


class WeakPassword(InvalidInput):
    code = "weak_password"


class SignInFailed(DomainError):
    code = "sign_in_failed"


class RateLimited(DomainError):
    code = "rate_limited"


class CodeRejected(InvalidInput):
    code = "code_rejected"


class RealNameMismatch(InvalidInput):
    code = "real_name_mismatch"


class RealNameCheckFailed(InvalidInput):
    code = "real_name_check_failed"


class AlreadyRegistered(Conflict):
    code = "already_registered"


class RegistrationExpired(InvalidInput):
    code = "registration_expired"


class CardPasswordRejected(InvalidInput):
    code = "card_password_rejected"


class NoCardPassword(CardPasswordRejected):
    """The person has set no card password (or has no online account to hold one)."""

    code = "no_card_password"


class CardPasswordLocked(RateLimited):
    """Too many wrong card passwords: `until` (Beijing minute) and `retry_after` (seconds) say
    when. The code stays `rate_limited`: the API and pages answer it as any other 429."""


class PasskeyRejected(InvalidInput):
    code = "passkey_rejected"


class UnknownAccount(NotFound):
    code = "unknown_account"


class StaffExists(Conflict):
    code = "staff_exists"


SIGN_IN_FAILED_MESSAGE = "账号或密码错误"
# A password sign-in refused for any reason (no such account, a wrong password, held back by the
# lockout) gets these words, alike: the lockout must tell nobody that an account exists.
PASSWORD_REFUSED_MESSAGE = (
    "账号或密码错误。多次输错后将暂停用密码登录一段时间，可改用短信验证码登录或找回密码"  # noqa: S105
)


class StaffRole(StrEnum):
    CLERK = "clerk"
    REVIEWER = "reviewer"
    ADMIN = "admin"


STAFF_ROLE_NAMES = {
    StaffRole.CLERK: "经办人员",
    StaffRole.REVIEWER: "审核人员",
    StaffRole.ADMIN: "管理员",
}


class CodePurpose(StrEnum):
    REGISTER = "register"
    SIGN_IN = "sign_in"
    RESET = "reset"
    STEP_UP = "step_up"
    CARD_PASSWORD = "card_password"  # noqa: S105 - a purpose name


CODE_PURPOSE_NAMES = {
    CodePurpose.REGISTER: "注册",
    CodePurpose.SIGN_IN: "登录",
    CodePurpose.RESET: "找回密码",
    CodePurpose.STEP_UP: "身份验证",
    CodePurpose.CARD_PASSWORD: "设置医保卡密码",
}


class SecurityEventKind(StrEnum):
    SIGN_IN_OK = "sign_in_ok"
    SIGN_IN_FAILED = "sign_in_failed"
    LOCKED = "locked"
    UNLOCKED = "unlocked"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - an event name
    REGISTERED = "registered"
    REAL_NAME_VERIFIED = "real_name_verified"
    REAL_NAME_REFUSED = "real_name_refused"
    STEP_UP_OK = "step_up_ok"
    STEP_UP_FAILED = "step_up_failed"
    CARD_PASSWORD_SET = "card_password_set"  # noqa: S105 - an event name
    PASSKEY_ADDED = "passkey_added"
    PASSKEY_REMOVED = "passkey_removed"
    SIGNED_OUT = "signed_out"
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
    STAFF_CREATED = "staff_created"
    ADDRESS_THROTTLED = "address_throttled"
    ADDRESS_SMS_THROTTLED = "address_sms_throttled"


SECURITY_EVENT_NAMES = {
    SecurityEventKind.SIGN_IN_OK: "登录成功",
    SecurityEventKind.SIGN_IN_FAILED: "登录失败",
    SecurityEventKind.LOCKED: "账户锁定",
    SecurityEventKind.UNLOCKED: "账户解锁",
    SecurityEventKind.PASSWORD_RESET: "重置密码",
    SecurityEventKind.REGISTERED: "注册",
    SecurityEventKind.REAL_NAME_VERIFIED: "实名认证通过",
    SecurityEventKind.REAL_NAME_REFUSED: "实名认证未通过",
    SecurityEventKind.STEP_UP_OK: "身份验证通过",
    SecurityEventKind.STEP_UP_FAILED: "身份验证失败",
    SecurityEventKind.CARD_PASSWORD_SET: "设置医保卡密码",
    SecurityEventKind.PASSKEY_ADDED: "添加通行密钥",
    SecurityEventKind.PASSKEY_REMOVED: "删除通行密钥",
    SecurityEventKind.SIGNED_OUT: "退出登录",
    SecurityEventKind.SIGNED_OUT_EVERYWHERE: "退出所有设备",
    SecurityEventKind.STAFF_CREATED: "创建经办账号",
    SecurityEventKind.ADDRESS_THROTTLED: "来源地址验证失败过多，暂停验证",
    SecurityEventKind.ADDRESS_SMS_THROTTLED: "来源地址获取验证码过多，暂停发送",
}


@dataclass(frozen=True, slots=True)
class IdentityPolicy:
    code_ttl: timedelta = timedelta(minutes=5)
    code_max_tries: int = 5
    sms_min_interval: timedelta = timedelta(seconds=60)
    sms_daily_limit: int = 10
    max_failures: int = 5
    failure_window: timedelta = timedelta(minutes=15)
    lock_for: timedelta = timedelta(minutes=30)
    idle_timeout: timedelta = timedelta(minutes=15)
    staff_idle_timeout: timedelta = timedelta(minutes=15)
    step_up_window: timedelta = timedelta(minutes=10)
    registration_ttl: timedelta = timedelta(minutes=15)
    address_max_failures: int = 30
    address_window: timedelta = timedelta(minutes=15)
    address_max_sms: int = 20


# --- passwords -------------------------------------------------------------------------------

_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"\d")
_SYMBOL = re.compile(r"[^A-Za-z0-9\s]")
MIN_PASSWORD_LENGTH = 8
PASSWORD_RULE = "密码至少8位，须同时包含字母、数字和符号，且不能包含手机号或身份证号"  # noqa: S105


def check_password(
    password: str, *, phone: str | None = None, id_number: str | None = None
) -> None:
    """Refuse a weak password, naming the rule it broke."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"密码太短：至少{MIN_PASSWORD_LENGTH}位")
    if len(password) > 128:
        raise WeakPassword("密码太长：最多128位")
    if any(c.isspace() for c in password):
        raise WeakPassword("密码不能包含空格")
    if not _LETTER.search(password):
        raise WeakPassword("密码须包含字母")
    if not _DIGIT.search(password):
        raise WeakPassword("密码须包含数字")
    if not _SYMBOL.search(password):
        raise WeakPassword("密码须包含符号（如 @ # ! 等）")
    lowered = password.upper()
    if phone and phone in password:
        raise WeakPassword("密码不能包含手机号")
    if id_number and (id_number.upper() in lowered or id_number.upper()[-8:] in lowered):
        raise WeakPassword("密码不能包含身份证号")


CARD_PASSWORD = re.compile(r"^\d{6}$")


def check_card_password(value: str) -> None:
    if not CARD_PASSWORD.match(value):
        raise InvalidInput("医保卡密码应为6位数字")
    if len(set(value)) == 1:
        raise InvalidInput("医保卡密码不能是6位相同数字")


# --- sign-in identifiers -----------------------------------------------------------------------


class IdentifierKind(StrEnum):
    PHONE = "phone"
    ID_NUMBER = "id_number"
    CARD_NO = "card_no"


_PHONE = re.compile(r"^1[3-9]\d{9}$")
_CARD = re.compile(r"^[A-Za-z0-9]{6,20}$")


def classify_identifier(raw: str) -> tuple[IdentifierKind, str] | None:
    """Phone, ID number or social-security card number, told apart by their shape."""
    value = raw.strip().replace(" ", "")
    if value.startswith("+86"):
        value = value[3:]
    if _PHONE.match(value):
        return IdentifierKind.PHONE, value
    if len(value) == 18 and is_valid_id_number(value):
        return IdentifierKind.ID_NUMBER, value.upper()
    if _CARD.match(value):
        return IdentifierKind.CARD_NO, value.upper()
    return None


# --- SMS codes ---------------------------------------------------------------------------------


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def code_text(code: str, purpose: CodePurpose, minutes: int) -> str:
    return (
        f"【医保个人账户】您的{CODE_PURPOSE_NAMES[purpose]}验证码为 {code}，"
        f"{minutes}分钟内有效。请勿告诉他人。"
    )


def code_sent_text(purpose: CodePurpose, minutes: int) -> str:
    """What the outbox keeps in clear of a code's SMS: the same message without the code."""
    return f"【医保个人账户】您的{CODE_PURPOSE_NAMES[purpose]}验证码已发送，{minutes}分钟内有效。"


_CODE = re.compile(r"^\d{6}$")


def check_code_shape(code: str) -> str:
    value = code.strip()
    if not _CODE.match(value):
        raise CodeRejected("验证码应为6位数字")
    return value


def parse_roles(raw: list[str]) -> frozenset[str]:
    roles = set()
    for item in raw:
        for role in item.split(","):
            role = role.strip().lower()
            if not role:
                continue
            if role not in {r.value for r in StaffRole}:
                raise InvalidInput(f"未知岗位 {role}：可选 clerk / reviewer / admin")
            roles.add(role)
    if not roles:
        raise InvalidInput("至少指定一个岗位：clerk / reviewer / admin")
    return frozenset(roles)
