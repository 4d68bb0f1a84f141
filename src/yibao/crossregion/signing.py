"""Ed25519 keys and signatures of messages between deployments (`cryptography`)."""

from __future__ import annotations

import base64
import secrets

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from yibao.crossregion.domain import signing_text


class Signer:
    """This deployment's signing key (the 32-byte seed from YIBAO_PEER_KEY or var/peer.key)."""

    def __init__(self, deployment: str, seed: bytes) -> None:
        self.deployment = deployment
        self._key = Ed25519PrivateKey.from_private_bytes(seed)

    @property
    def public_key(self) -> str:
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()

    def headers(self, kind: str, timestamp: int, body: bytes) -> dict[str, str]:
        nonce = secrets.token_hex(12)
        text = signing_text(kind, self.deployment, str(timestamp), nonce, body)
        return {
            "x-yibao-peer": self.deployment,
            "x-yibao-timestamp": str(timestamp),
            "x-yibao-nonce": nonce,
            "x-yibao-signature": base64.b64encode(self._key.sign(text)).decode(),
        }


def new_seed() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def public_key_of(seed_b64: str) -> str:
    return Signer("", base64.b64decode(seed_b64)).public_key


def verify(public_key: str, signature: str, text: bytes) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(base64.b64decode(signature, validate=True), text)
    except (InvalidSignature, ValueError):
        return False
    return True
