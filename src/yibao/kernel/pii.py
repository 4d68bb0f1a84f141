"""Personal data at rest: AES-GCM for the value, a keyed hash (HMAC-SHA256) to find it.

ID numbers and phones are never stored in clear (ARCHITECTURE rule 8). The lookup hash is keyed so
that a stolen table cannot be reversed by hashing every possible ID number.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12


class PersonalDataCipher:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the personal-data key must be 32 bytes")
        # Separate keys for encryption and lookup, derived from one secret.
        self._aead = AESGCM(hashlib.sha256(b"yibao-aead\x00" + key).digest())
        self._mac_key = hashlib.sha256(b"yibao-lookup\x00" + key).digest()

    def encrypt(self, plaintext: str, *, purpose: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), purpose.encode())

    def decrypt(self, blob: bytes, *, purpose: str) -> str:
        nonce, sealed = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
        return self._aead.decrypt(nonce, sealed, purpose.encode()).decode()

    def lookup_hash(self, value: str, *, purpose: str) -> str:
        return hmac.new(self._mac_key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()
