"""Tables of the open API: partner apps, the person's grants, authorisation codes and tokens.

Codes, tokens and client secrets are stored as their SHA-256 only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class Partner(Base):
    """A partner app (合作应用), proposed by one staff member and approved by another."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    company: Mapped[str] = mapped_column(String(100))
    redirect_uris_json: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(String(200))  # space-separated (RFC 6749 §3.3)
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer)
    public_keys_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(10))
    # NULL: added by an operator at the command line (no second person there).
    proposed_by_staff_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    proposed_by_name: Mapped[str] = mapped_column(String(100))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_staff_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decided_by_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        CheckConstraint("status IN ('proposed', 'active', 'rejected', 'suspended')", name="status"),
        CheckConstraint("rate_limit_per_minute > 0", name="rate_limit_positive"),
        # The database itself refuses a registration approved by the one who proposed it.
        CheckConstraint(
            "decided_by_staff_id IS NULL OR proposed_by_staff_id IS NULL"
            " OR decided_by_staff_id <> proposed_by_staff_id",
            name="no_self_approval",
        ),
        CheckConstraint(
            "status NOT IN ('active', 'suspended') OR secret_hash IS NOT NULL",
            name="active_has_secret",
        ),
    )


class PartnerGrant(Base):
    """What one person let one partner read (已授权的应用), until revoked or idle 180 days."""

    __tablename__ = "partner_grants"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    scopes: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # person (the person revoked it) | replaced (a new consent to the same partner) | idle (unused
    # 180 days: it stopped working then, by domain.grant_is_live; the worker's sweep marks it)
    revoked_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)

    __table_args__ = (
        Index("ix_partner_grants_person", "person_id", "granted_at"),
        Index("ix_partner_grants_partner_person", "partner_id", "person_id"),
    )


class PartnerCode(Base):
    """An authorisation code: one minute, one use, bound to its client, redirect URI and PKCE."""

    __tablename__ = "partner_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("partner_grants.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    code_challenge: Mapped[str] = mapped_column(String(128))
    family: Mapped[str] = mapped_column(String(64))  # the tokens this code gives
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PartnerToken(Base):
    """An access or refresh token. Tokens a code gave, and the refresh tokens that followed,
    share a `family`: a reused code or refresh token revokes the family."""

    __tablename__ = "partner_tokens"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    grant_id: Mapped[int] = mapped_column(ForeignKey("partner_grants.id"), index=True)
    family: Mapped[str] = mapped_column(String(64), index=True)
    scopes: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # refresh only
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (CheckConstraint("kind IN ('access', 'refresh')", name="kind"),)
