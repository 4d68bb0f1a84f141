"""Rules of the open API (开放平台): partner apps, the person's grants, and their tokens.

- A partner app (合作应用: 支付宝, 微信 …) is registered by staff under maker-checker: one member
  proposes it, a different administrator approves it, and only then does it get a client secret.
  An operator at the CLI acts alone (the command line is itself the operator's privileged seat).
- A partner may ask only for the scopes it was registered with, and only send the person back to
  a redirect URI registered for it, compared character for character (no prefix, no wildcard):
  anything else is refused on yibao's own page and never redirected, so yibao is no open redirect.
- OAuth 2.0 authorisation code (RFC 6749) with PKCE S256 only (RFC 7636): the code lives one
  minute, works once, and a second use revokes every token it gave.
- Access tokens live at most 10 minutes; refresh tokens rotate on each use and are bound to the
  partner they were issued to; a refresh token used twice revokes its whole family.
- Tokens, codes and client secrets are random and only their SHA-256 is kept: they carry 256 bits
  of entropy, so a slow password hash would add nothing but latency.
- The person chooses among the scopes asked for (they may untick any), sees every grant, and may
  revoke one at any time: the next call with its tokens is refused. A grant nobody used for 180
  days ends by itself at that moment (every call checks); the worker's sweep then marks it
  ended, revokes its tokens and tells the person. Every grant of a suspended partner ends at once.
- A partner sees personal data masked, and every read is on the person's 查询记录.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from yibao.kernel.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied


def N_(message: str) -> str:
    """Marks words the pages translate (extracted by scripts/translations); returns them as is."""
    return message


ACCESS_TOKEN_TTL = timedelta(minutes=10)
REFRESH_TOKEN_TTL = timedelta(days=30)
CODE_TTL = timedelta(seconds=60)
GRANT_IDLE_LIMIT = timedelta(days=180)
DEFAULT_RATE_LIMIT = 60  # calls per minute per partner
MAX_RATE_LIMIT = 100_000

# Scope → (its name on the consent page, what it lets the partner see, in plain words).
SCOPES: dict[str, tuple[str, str]] = {
    "balance": (N_("账户余额"), N_("你的医保个人账户余额，以及今年划入和支出的合计")),
    "records": (
        N_("缴费和消费记录"),
        N_("你的缴费记录（每月划入）和消费记录（在医院、药店的每笔支付）"),
    ),
    "claims": (N_("报销进度"), N_("你提交的零星报销申请及其办理进度")),
    "family": (N_("家庭共济"), N_("你的家庭共济授权（给谁用、额度）和共济消费明细")),
    "voucher": (N_("医保电子凭证"), N_("在该应用内展示你的医保电子凭证二维码，用于看病购药")),
}
# Scopes that open account details: approving them needs a fresh verification (step-up).
DETAIL_SCOPES = frozenset({"balance", "records", "claims", "family"})


class PartnerStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


PARTNER_STATUS_NAMES = {
    "proposed": N_("待复核"),
    "active": N_("已启用"),
    "rejected": N_("已退回"),
    "suspended": N_("已停用"),
}

# Who may propose and approve a partner app (maker-checker, as for account adjustments).
PROPOSE_ROLES = frozenset({"clerk", "admin"})
APPROVE_ROLES = frozenset({"admin"})


# --- errors ------------------------------------------------------------------------------------
# `error` is the OAuth 2.0 error code (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1) the edge sends.


class OAuthError(DomainError):
    code = "oauth_error"
    error = "invalid_request"


class InvalidRequest(OAuthError):
    code = "oauth_invalid_request"
    error = "invalid_request"


class InvalidClient(OAuthError):
    code = "oauth_invalid_client"
    error = "invalid_client"


class InvalidGrant(OAuthError):
    code = "oauth_invalid_grant"
    error = "invalid_grant"


class UnsupportedGrantType(OAuthError):
    code = "oauth_unsupported_grant_type"
    error = "unsupported_grant_type"


class UnsupportedResponseType(OAuthError):
    code = "oauth_unsupported_response_type"
    error = "unsupported_response_type"


class InvalidScope(OAuthError):
    code = "oauth_invalid_scope"
    error = "invalid_scope"


class AccessDenied(OAuthError):
    code = "oauth_access_denied"
    error = "access_denied"


class InvalidToken(OAuthError):
    """Expired, revoked, unknown, or of a suspended partner or an ended grant: all look alike."""

    code = "invalid_token"
    error = "invalid_token"


class InsufficientScope(PermissionDenied):
    code = "insufficient_scope"


class PartnerRateLimited(DomainError):
    code = "rate_limited"


class InvalidPartner(InvalidInput):
    code = "invalid_partner"


class PartnerNotFound(NotFound):
    code = "partner_not_found"


class PartnerDecided(Conflict):
    code = "partner_decided"


class PartnerRoleNotAllowed(PermissionDenied):
    code = "partner_role_not_allowed"


class SelfApprovalRefused(PermissionDenied):
    code = "partner_self_approval_refused"


class GrantNotFound(NotFound):
    code = "grant_not_found"


# --- partner registration ----------------------------------------------------------------------

_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def check_redirect_uri(uri: str) -> str:
    """An absolute https URI (http only on the loopback, for a developer's machine), without a
    fragment (RFC 6749 §3.1.2) and without user info, which could dress one host as another."""
    uri = uri.strip()
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as exc:
        raise InvalidPartner(f"回调地址无效：{uri}") from exc
    host = parts.hostname or ""
    if (
        len(uri) > 500
        or not host
        or parts.fragment
        or "#" in uri
        or "@" in parts.netloc
        or any(c.isspace() or ord(c) < 33 for c in uri)
        or parts.scheme not in {"https", "http"}
        or (parts.scheme == "http" and host not in _LOOPBACK)
        or (port is not None and not 0 < port < 65536)
    ):
        raise InvalidPartner(
            f"回调地址须为 https 地址（本机调试可用 http://localhost），且不含 #：{uri}"
        )
    return uri


def check_registration(
    name: str,
    company: str,
    redirect_uris: Iterable[str],
    scopes: Iterable[str],
    rate_limit: int,
    public_keys: str | None,
) -> tuple[str, str, list[str], list[str], str | None]:
    name, company = name.strip(), company.strip()
    if not 1 <= len(name) <= 50:
        raise InvalidPartner("请填写应用名称（50字以内）")
    if not 1 <= len(company) <= 100:
        raise InvalidPartner("请填写所属公司（100字以内）")
    uris = [check_redirect_uri(u) for u in redirect_uris if u.strip()]
    if not uris or len(uris) > 10:
        raise InvalidPartner("请填写1至10个回调地址")
    wanted = sorted({s.strip() for s in scopes if s.strip()})
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown or not wanted:
        raise InvalidPartner(f"请选择可申请的授权范围（{'、'.join(SCOPES)}）")
    if not 1 <= rate_limit <= MAX_RATE_LIMIT:
        raise InvalidPartner(f"调用频率上限须在1至{MAX_RATE_LIMIT}次/分钟之间")
    return name, company, sorted(set(uris)), wanted, check_public_keys(public_keys)


def check_public_keys(text: str | None) -> str | None:
    """A JWK Set (RFC 7517 §5): kept for the partner's signed requests; never a private key."""
    if text is None or not text.strip():
        return None
    try:
        keys = json.loads(text)["keys"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidPartner('公钥须为 JWK Set（{"keys": [...]}）') from exc
    if not isinstance(keys, list) or not keys or len(keys) > 5:
        raise InvalidPartner("公钥须为含1至5个密钥的 JWK Set")
    for key in keys:
        if not isinstance(key, dict) or key.get("kty") not in {"RSA", "EC", "OKP"}:
            raise InvalidPartner("每个公钥须有 kty（RSA、EC 或 OKP）")
        if any(private in key for private in ("d", "p", "q", "dp", "dq", "qi")):
            raise InvalidPartner("这是私钥：只登记公钥，私钥留在合作方")
    return json.dumps({"keys": keys}, sort_keys=True, separators=(",", ":"))


def check_roles(roles: frozenset[str], allowed: frozenset[str], what: str) -> None:
    if not roles & allowed:
        raise PartnerRoleNotAllowed(f"您的岗位无权{what}")


def check_checker(proposer_staff_id: int | None, checker_staff_id: int) -> None:
    if proposer_staff_id == checker_staff_id:
        raise SelfApprovalRefused("不能复核自己登记的合作应用，须由另一位管理员复核")


# --- scopes ------------------------------------------------------------------------------------


def parse_scope(text: str | None) -> list[str]:
    """A space-separated scope (RFC 6749 §3.3), each known, in a stable order."""
    words = (text or "").split()
    if not words:
        return []
    unknown = [w for w in words if w not in SCOPES]
    if unknown:
        raise InvalidScope("请求了未知的授权范围")
    return [s for s in SCOPES if s in words]


def scope_text(scopes: Iterable[str]) -> str:
    chosen = set(scopes)
    return " ".join(s for s in SCOPES if s in chosen)


def requested_scopes(asked: str | None, registered: Iterable[str]) -> list[str]:
    """What the partner asks for: no scope means every scope it is registered for."""
    allowed = set(registered)
    wanted = parse_scope(asked) or [s for s in SCOPES if s in allowed]
    if not set(wanted) <= allowed:
        raise InvalidScope("请求的授权范围超出该应用登记的范围")
    return wanted


def chosen_scopes(asked: Iterable[str], ticked: Iterable[str]) -> list[str]:
    """What the person approves: only among those asked, at least one."""
    asked_set, ticked_set = set(asked), set(ticked)
    chosen = [s for s in SCOPES if s in asked_set and s in ticked_set]
    if not chosen:
        raise AccessDenied("没有勾选任何授权范围")
    return chosen


# --- PKCE (RFC 7636) ---------------------------------------------------------------------------

_PKCE_VALUE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def check_code_challenge(challenge: str | None, method: str | None) -> str:
    """S256 only: `plain` would give the code's thief the verifier too (RFC 7636 §4.2)."""
    if method != "S256":
        raise InvalidRequest("须使用 PKCE（code_challenge_method=S256）")
    if not challenge or not _PKCE_VALUE.match(challenge):
        raise InvalidRequest("code_challenge 格式不正确")
    return challenge


def check_code_verifier(verifier: str | None) -> str:
    if not verifier or not _PKCE_VALUE.match(verifier):
        raise InvalidGrant("授权码无效或已过期")
    return verifier


# --- grants and tokens -------------------------------------------------------------------------


def grant_idle_until(granted_at: datetime, last_used_at: datetime | None) -> datetime:
    """A grant ends by itself 180 days after its last use (or after it was given, if unused)."""
    return (last_used_at or granted_at) + GRANT_IDLE_LIMIT


def grant_expired_text(partner_name: str) -> str:
    days = GRANT_IDLE_LIMIT.days
    return (
        f"你授权「{partner_name}」读取医保信息，已超过{days}天未使用，授权已自动失效，"
        "该应用不能再读取你的信息。如需继续使用，请在该应用中重新授权。"
    )


def grant_is_live(
    granted_at: datetime, last_used_at: datetime | None, revoked_at: datetime | None, now: datetime
) -> bool:
    return revoked_at is None and now < grant_idle_until(granted_at, last_used_at)


class TokenKind(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True, slots=True)
class ConsentRequest:
    """A checked authorisation request: what the consent page shows and its form carries back."""

    client_id: str
    partner_name: str
    company: str
    redirect_uri: str
    scopes: list[str]
    state: str
    code_challenge: str


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    scope: str


@dataclass(frozen=True, slots=True)
class Admission:
    """A partner call let through: whose data, for which partner, under which grant."""

    person_id: int
    partner_id: int
    partner_name: str
    grant_id: int
    scopes: frozenset[str]


def masked_psn_no(psn_no: str) -> str:
    """个人编号: the region and the last four digits, enough to tell two of one's own apart."""
    if len(psn_no) <= 10:
        return "*" * len(psn_no)
    return psn_no[:6] + "*" * (len(psn_no) - 10) + psn_no[-4:]
