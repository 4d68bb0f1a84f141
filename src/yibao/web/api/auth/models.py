"""Request and answer shapes of the identity JSON API (they are its OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

Short = Annotated[str, Field(max_length=64)]


class SmsCodeIn(BaseModel):
    phone: Short
    purpose: Literal["register", "sign_in"]


class SentOut(BaseModel):
    sent_to: str


class RegistrationIn(BaseModel):
    phone: Short
    code: Short
    password: Annotated[str, Field(max_length=128)]


class TicketOut(BaseModel):
    ticket: str


class RegistrationCompleteIn(BaseModel):
    ticket: Short
    name: Annotated[str, Field(max_length=50)]
    id_number: Short
    method: Literal["photo", "face"] = "face"
    image_base64: Annotated[str, Field(max_length=7_000_000)] = ""


class TokenOut(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme name
    # Keep it on the device and send it with the next password sign-in (`POST tokens`): wrong
    # passwords from this device then count apart from everyone else's (docs/identity.md).
    device_token: str = ""


class PasswordTokenIn(BaseModel):
    identifier: Short
    password: Annotated[str, Field(max_length=128)]
    device_token: Annotated[str, Field(max_length=200)] = ""


class CodeTokenIn(BaseModel):
    phone: Short
    code: Short


class ResetCodeIn(BaseModel):
    id_number: Short


class MessageOut(BaseModel):
    message: str


class ResetIn(BaseModel):
    id_number: Short
    code: Short
    new_password: Annotated[str, Field(max_length=128)]


class StepUpIn(BaseModel):
    method: Literal["sms", "card_password"]
    code: Short = ""
    card_password: Short = ""


class StepUpOut(BaseModel):
    step_up_until: datetime | None


class CardPasswordIn(BaseModel):
    id_number: Short
    code: Short
    card_password: Short


class MeOut(BaseModel):
    """The session's own facts always; the account's personal details only while a step-up holds
    on this session (docs/identity.md: account details need a step-up). Without one they are null
    and `stepped_up` is false: step up (`POST step-up…`) and ask again."""

    stepped_up: bool
    step_up_until: datetime | None
    name: str | None = None
    id_number_masked: str | None = None
    phone_masked: str | None = None
    real_name_method: str | None = None
    has_card_password: bool | None = None


class PasskeyOut(BaseModel):
    id: int
    name: str
    created: str


class EventOut(BaseModel):
    at: str
    kind: str
    channel: str


class SecurityOut(BaseModel):
    passkeys: list[PasskeyOut]
    events: list[EventOut]
    active_sessions: int


class SignedOutOut(BaseModel):
    sessions_ended: int


# --- passkeys (WebAuthn) ---------------------------------------------------------------------
# The credential fields are the browser's PublicKeyCredential.toJSON(): base64url without padding.

Base64Url = Annotated[str, Field(max_length=2048, pattern=r"^[A-Za-z0-9_-]*={0,2}$")]
LongBase64Url = Annotated[str, Field(max_length=16384, pattern=r"^[A-Za-z0-9_-]*={0,2}$")]
Attachment = Literal["platform", "cross-platform"]


class PasskeyOptionsOut(BaseModel):
    flow: str = Field(description="Send it back with the answer; valid once, for 5 minutes.")
    options: dict[str, Any] = Field(
        description="WebAuthn options as JSON (PublicKeyCredentialCreationOptionsJSON to register, "
        "PublicKeyCredentialRequestOptionsJSON to sign in or step up); binary fields in base64url."
    )


class AttestationIn(BaseModel):
    client_data_json: Base64Url = Field(alias="clientDataJSON")
    attestation_object: LongBase64Url = Field(alias="attestationObject")
    transports: Annotated[list[Annotated[str, Field(max_length=16)]], Field(max_length=8)] = []


class RegistrationCredentialIn(BaseModel):
    id: Base64Url
    raw_id: Base64Url = Field(alias="rawId")
    type: Literal["public-key"]
    response: AttestationIn
    authenticator_attachment: Attachment | None = Field(
        default=None, alias="authenticatorAttachment"
    )


class AssertionIn(BaseModel):
    client_data_json: Base64Url = Field(alias="clientDataJSON")
    authenticator_data: Base64Url = Field(alias="authenticatorData")
    signature: Base64Url
    user_handle: Base64Url | None = Field(default=None, alias="userHandle")


class AuthenticationCredentialIn(BaseModel):
    id: Base64Url
    raw_id: Base64Url = Field(alias="rawId")
    type: Literal["public-key"]
    response: AssertionIn
    authenticator_attachment: Attachment | None = Field(
        default=None, alias="authenticatorAttachment"
    )


class PasskeyRegistrationIn(BaseModel):
    flow: Short
    credential: RegistrationCredentialIn
    name: Annotated[str, Field(max_length=50)] = ""


class PasskeyAssertionIn(BaseModel):
    flow: Short
    credential: AuthenticationCredentialIn


class PasskeyListOut(BaseModel):
    passkeys: list[PasskeyOut]
