"""Message signing shared by the platform's channel adapters and the channel sandbox.

The real channels sign with RSA (Alipay RSA2, WeChat Pay SHA256-RSA2048) or SM2 (banks); the sandbox keeps each
channel's *shape* — which headers or parameters carry the signature, what string is signed, the 300-second
timestamp window — but signs with HMAC-SHA256 under a per-channel key derived from ``CHANNEL_SANDBOX_SECRET``, so
no certificates are needed to run it. Swapping in the real algorithm changes ``sign``/``verify`` only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from django.conf import settings

TIMESTAMP_TOLERANCE_SECONDS = 300


def channel_key(channel: str, secret: str | None = None) -> bytes:
    secret = settings.CHANNEL_SANDBOX_SECRET if secret is None else secret
    return hmac.new(secret.encode(), f"linggong-channel:{channel}".encode(), hashlib.sha256).digest()


def sign(channel: str, message: bytes, *, secret: str | None = None) -> str:
    return base64.b64encode(hmac.new(channel_key(channel, secret), message, hashlib.sha256).digest()).decode()


def verify(channel: str, message: bytes, signature: str, *, secret: str | None = None) -> bool:
    if not signature:
        return False
    return hmac.compare_digest(sign(channel, message, secret=secret), signature)


def timestamp_fresh(timestamp: str, *, now: float | None = None) -> bool:
    """Within ±300 s of now (WeChat Pay's rule; the sandbox applies it to every channel)."""
    try:
        value = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    return abs(current - value) < TIMESTAMP_TOLERANCE_SECONDS


def header_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    """WeChat-style signed string: ``timestamp\\nnonce\\nbody\\n`` (the banks' notices use it too)."""
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def form_message(params: dict[str, str]) -> bytes:
    """Alipay-style signed string: parameters except ``sign``/``sign_type``, sorted, ``k=v`` joined by ``&``."""
    items = sorted((k, v) for k, v in params.items() if k not in ("sign", "sign_type") and v not in (None, ""))
    return "&".join(f"{k}={v}" for k, v in items).encode()
