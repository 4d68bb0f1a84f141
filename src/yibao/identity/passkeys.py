"""Passkeys (WebAuthn) through the `webauthn` package: options out, signed answers checked.

Discoverable credentials with user verification, so a passkey alone signs a person in (the
phone's fingerprint or face is the user verification). Challenges live in the short-lived store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from yibao.identity.domain import PasskeyRejected


@dataclass(frozen=True, slots=True)
class RelyingParty:
    rp_id: str
    name: str
    origin: str


@dataclass(frozen=True, slots=True)
class NewCredential:
    credential_id: str
    public_key: bytes
    sign_count: int


def registration_options(
    rp: RelyingParty, user_handle: bytes, user_name: str, display_name: str, existing: list[str]
) -> tuple[str, bytes]:
    options = generate_registration_options(
        rp_id=rp.rp_id,
        rp_name=rp.name,
        user_id=user_handle,
        user_name=user_name,
        user_display_name=display_name,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in existing
        ],
    )
    return options_to_json(options), options.challenge


def verify_registration(rp: RelyingParty, credential: str, challenge: bytes) -> NewCredential:
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyRejected("通行密钥登记未通过，请重试") from exc
    return NewCredential(
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
    )


def authentication_options(rp: RelyingParty, allowed: list[str]) -> tuple[str, bytes]:
    options = generate_authentication_options(
        rp_id=rp.rp_id,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in allowed
        ],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options), options.challenge


def credential_id_of(credential: str) -> str:
    try:
        raw = json.loads(credential)
        value = str(raw["rawId"] if "rawId" in raw else raw["id"])
        return bytes_to_base64url(base64url_to_bytes(value))
    except (ValueError, KeyError, TypeError) as exc:
        raise PasskeyRejected("通行密钥数据无效") from exc


def verify_authentication(
    rp: RelyingParty, credential: str, challenge: bytes, public_key: bytes, sign_count: int
) -> int:
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origin,
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyRejected("通行密钥验证未通过，请重试") from exc
    return int(verified.new_sign_count)
