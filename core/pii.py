"""Personal information: encryption at rest, blind indexes for lookups, masking for display and logs.

- ``EncryptedTextField`` stores ``v1:<key id>:<base64(nonce ‖ AES-GCM ciphertext)>``. Keys come from
  ``settings.PII_KEYS`` (key id → 32-byte key); new values use ``settings.PII_ACTIVE_KEY_ID``; old rows stay
  readable with their key id until ``manage.py pii_rotate`` re-encrypts them.
- ``blind_index(value, purpose=...)`` is an HMAC-SHA256 of the normalised value with ``settings.PII_BLIND_INDEX_KEY``,
  stored beside the ciphertext so exact lookups ("is this ID number already registered?") need no decryption.
- ``mask_*`` helpers are the default way any of it is shown.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import models

_PREFIX = "v1"


class PIIKeyError(RuntimeError):
    pass


@lru_cache(maxsize=8)
def _keys_cached(keys_repr: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for kid, encoded in settings.PII_KEYS.items():
        raw = base64.b64decode(encoded) if isinstance(encoded, str) else bytes(encoded)
        if len(raw) != 32:
            raise PIIKeyError(f"PII key {kid!r} must be 32 bytes (base64 of 32 random bytes)")
        keys[kid] = raw
    return keys


def _keys() -> dict[str, bytes]:
    return _keys_cached(repr(sorted(settings.PII_KEYS.items())))


@lru_cache(maxsize=16)
def _cipher(key: bytes) -> AESGCM:
    return AESGCM(key)  # reusable and stateless; creating one costs more than decrypting a name


def encrypt(plaintext: str) -> str:
    kid = settings.PII_ACTIVE_KEY_ID
    key = _keys().get(kid)
    if key is None:
        raise PIIKeyError(f"active PII key id {kid!r} is not in PII_KEYS")
    nonce = os.urandom(12)
    sealed = _cipher(key).encrypt(nonce, plaintext.encode("utf-8"), kid.encode())
    return f"{_PREFIX}:{kid}:{base64.b64encode(nonce + sealed).decode('ascii')}"


def decrypt(token: str) -> str:
    try:
        prefix, kid, payload = token.split(":", 2)
    except ValueError:
        raise PIIKeyError("stored value is not an encrypted PII token") from None
    if prefix != _PREFIX:
        raise PIIKeyError(f"unknown PII token version {prefix!r}")
    key = _keys().get(kid)
    if key is None:
        raise PIIKeyError(f"PII key id {kid!r} is not configured; it is needed to read this value")
    raw = base64.b64decode(payload)
    return _cipher(key).decrypt(raw[:12], raw[12:], kid.encode()).decode("utf-8")


def key_id_of(token: str) -> str:
    return token.split(":", 2)[1]


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed hash of ``value`` for exact lookups. ``purpose`` separates namespaces (``"id_number"``, ``"phone"``)."""
    normalised = "".join(value.split()).upper()  # every whitespace character removed
    mac = _blind_base(settings.PII_BLIND_INDEX_KEY).copy()
    mac.update(f"{purpose}:{normalised}".encode())
    return mac.hexdigest()[:40]


@lru_cache(maxsize=4)
def _blind_base(key: str) -> hmac.HMAC:
    """The keyed HMAC before any message (copied per value: the key schedule is computed once)."""
    return hmac.new(key.encode(), digestmod=hashlib.sha256)


class EncryptedTextField(models.TextField):
    """A text field encrypted with AES-GCM at rest. Not queryable by value: pair it with a blind index."""

    description = "AES-GCM encrypted text"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        if value.startswith(f"{_PREFIX}:") and value.count(":") >= 2 and _looks_encrypted(value):
            return value
        return encrypt(value)


def _looks_encrypted(value: str) -> bool:
    try:
        decrypt(value)
    except Exception:
        return False
    return True


# --- Masking ----------------------------------------------------------------------------------------------


def mask_id_number(value: str | None) -> str:
    """``11010519491231002X`` → ``1101**********002X``."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_bank_card(value: str | None) -> str:
    """``6228480402564890018`` → ``6228 **** **** 0018``."""
    if not value:
        return ""
    digits = re.sub(r"\s", "", value)
    if len(digits) <= 8:
        return "*" * len(digits)
    return f"{digits[:4]} **** **** {digits[-4:]}"


def mask_phone(value: str | None) -> str:
    """``13812345678`` → ``138****5678``."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str | None) -> str:
    """``张三`` → ``张*``; ``欧阳娜娜`` → ``欧***``; ``Li`` → ``L*``."""
    if not value:
        return ""
    return value[0] + "*" * max(1, len(value) - 1)


def mask_account(value: str | None) -> str:
    """An Alipay account (phone or e-mail) or an openid: keep only its ends."""
    if not value:
        return ""
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if re.fullmatch(r"1\d{10}", value):
        return mask_phone(value)
    return value[:3] + "***" + value[-3:] if len(value) > 6 else "*" * len(value)


# --- Logs ---------------------------------------------------------------------------------------------------

_LOG_PATTERNS = [
    (re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])"), lambda m: mask_id_number(m.group(0))),
    (re.compile(r"(?<!\d)(\d{12,19})(?!\d)"), lambda m: mask_bank_card(m.group(0))),
    (re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)"), lambda m: mask_phone(m.group(0))),
]


def mask_text(text: str) -> str:
    """Mask anything in free text that looks like an ID number, a card number or a mobile number."""
    for pattern, replace in _LOG_PATTERNS:
        text = pattern.sub(replace, text)
    return text


class PIIMaskingFilter(logging.Filter):
    """Logging filter: the formatted message is masked before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # pragma: no cover - a broken log call must not break the caller
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
