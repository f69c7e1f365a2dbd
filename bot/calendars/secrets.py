"""The feed URL is a secret: encrypted at rest with a key derived from the operator's setting.

``FOLLOWTHROUGH_ENCRYPTION_KEY`` is any string of 32 or more characters; HKDF-SHA256 turns it
into the 32-byte key Fernet needs (AES-128-CBC with an HMAC-SHA256, so a tampered token is
refused rather than decrypted into something else).
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_MIN_LENGTH = 32
_SALT = b"followthrough/calendar-feeds/v1"
_INFO = b"calendar feed url"

NO_KEY = (
    "Calendar feeds are turned off here: the operator has not set FOLLOWTHROUGH_ENCRYPTION_KEY, "
    "which keeps feed addresses encrypted, so nothing was added."
)


class SecretBox:
    """Encrypts and decrypts feed URLs with the key derived from ``passphrase``."""

    def __init__(self, passphrase: str) -> None:
        if len(passphrase) < KEY_MIN_LENGTH:
            raise ValueError(f"the encryption key needs at least {KEY_MIN_LENGTH} characters")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(
            passphrase.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, url: str) -> str:
        return self._fernet.encrypt(url.encode()).decode("ascii")

    def open(self, token: str) -> str | None:
        """The URL, or None when the key changed since it was sealed (or the row was altered)."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            return None


def mask_url(url: str) -> str:
    """``https://calendar.google.com/…s.ics``: the host and the path's last four characters at
    most (none of a short path), never the query: enough to tell feeds apart, not to read one."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    tail = parts.path[-4:] if len(parts.path) >= 16 else ""
    return f"{parts.scheme}://{host}/…{tail}"
