"""Signed GET URLs for objects in the local artifacts folder, served by the read API's
`/v1/artifacts/…` route: the key and an expiry time signed with HMAC-SHA256, as S3 presigns its
own. The secret is `WESSLEY_SIGNING_KEY`, or one generated once under the home."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import quote, urlencode

ARTIFACTS_ROUTE = "/v1/artifacts/"


class SignatureError(PermissionError):
    """A signed URL that is expired, altered or signed with another secret."""


def home_secret(path: Path) -> bytes:
    """This home's signing secret, created on first use, readable by its owner only."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


class UrlSigner:
    def __init__(self, secret: bytes, base_url: str) -> None:
        if len(secret) < 32:
            raise ValueError("the URL signing secret needs at least 32 bytes")
        self._secret, self.base_url = secret, base_url.rstrip("/")

    def _signature(self, key: str, expires: int) -> str:
        return hmac.new(self._secret, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def url(self, key: str, expires_in: int, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + expires_in)
        query = urlencode({"expires": expires, "signature": self._signature(key, expires)})
        return f"{self.base_url}{ARTIFACTS_ROUTE}{quote(key)}?{query}"

    def verify(self, key: str, expires: int, signature: str, now: float | None = None) -> None:
        # Compared as bytes: a signature of any characters is simply wrong, never an error.
        if not hmac.compare_digest(self._signature(key, expires).encode(), signature.encode("utf-8", "replace")):
            raise SignatureError("the signature does not match this URL")
        if (time.time() if now is None else now) > expires:
            raise SignatureError("the signed URL has expired")
