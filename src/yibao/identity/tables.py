"""Tables of identity: online accounts, passkeys, sessions, staff members, security events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class OnlineAccount(Base):
    """网上账户: one per insured person. The phone is encrypted; `phone_hash` finds it."""

    __tablename__ = "online_accounts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), unique=True)
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone_hash: Mapped[str] = mapped_column(String(64), unique=True)
    phone_masked: Mapped[str] = mapped_column(String(11))
    password_hash: Mapped[str] = mapped_column(String(200))
    # 医保卡密码 (query password), six digits, argon2id like the password.
    card_password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    real_name_method: Mapped[str] = mapped_column(String(10))
    real_name_verified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("failed_count >= 0", name="failed_count"),
        CheckConstraint(
            "real_name_method IN ('photo', 'face', 'counter')", name="real_name_method"
        ),
    )


class Passkey(Base):
    """通行密钥 (WebAuthn credential): fingerprint or face sign-in on the phone."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("online_accounts.id"), index=True)
    credential_id: Mapped[str] = mapped_column(String(400), unique=True)  # base64url
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SignInSession(Base):
    """A server-side session: the cookie or bearer token holds a secret whose SHA-256 is `id`.

    Server-side so that idle timeout and "sign out everywhere" hold across server processes.
    """

    __tablename__ = "sign_in_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(6))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("online_accounts.id"), nullable=True, index=True
    )
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_members.id"), nullable=True, index=True
    )
    via: Mapped[str] = mapped_column(String(6))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    step_up_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (
        CheckConstraint("kind IN ('person', 'staff')", name="kind"),
        CheckConstraint("via IN ('cookie', 'bearer')", name="via"),
        CheckConstraint(
            "(kind = 'person' AND account_id IS NOT NULL AND staff_id IS NULL)"
            " OR (kind = 'staff' AND staff_id IS NOT NULL AND account_id IS NULL)",
            name="owner",
        ),
    )


class StaffMember(Base):
    """经办系统账号: password + TOTP; roles clerk / reviewer / admin (comma separated)."""

    __tablename__ = "staff_members"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(200))
    totp_secret_enc: Mapped[bytes] = mapped_column(LargeBinary)
    roles: Mapped[str] = mapped_column(String(60))
    office: Mapped[str] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The last TOTP time step accepted, so a code cannot be replayed within its window.
    last_totp_step: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SecurityEvent(Base):
    """安全事件: sign-in, lockout, reset, verification, passkeys, sign-out. Append only."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(30))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("online_accounts.id"), nullable=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"), nullable=True)
    channel: Mapped[str] = mapped_column(String(10))
    detail: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_security_events_account_at", "account_id", "at"),
        Index("ix_security_events_staff_at", "staff_id", "at"),
    )
