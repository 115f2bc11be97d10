"""Token seeds are encrypted at rest with AES-GCM.

The credential ID is bound in as associated data, so a ciphertext copied onto
another credential's row fails to decrypt instead of verifying its codes.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = 12


class SeedCipher:
    def __init__(self, key: bytes):
        if len(key) != 32:
            raise ValueError("the seed key must be 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def from_text(cls, text: str) -> SeedCipher:
        return cls(base64.urlsafe_b64decode(text.encode()))

    @staticmethod
    def new_key_text() -> str:
        return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()

    def seal(self, secret: str, credential_id: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, secret.encode(), credential_id.encode())

    def open(self, sealed: bytes, credential_id: str) -> str:
        nonce, body = sealed[:_NONCE], sealed[_NONCE:]
        return self._aead.decrypt(nonce, body, credential_id.encode()).decode()
