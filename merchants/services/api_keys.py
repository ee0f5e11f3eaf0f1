"""Partner API credentials: created and revoked by the enterprise admin. The secret is shown once."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils.translation import gettext

from accounts.permissions import require_capability
from core import audit
from core.tenancy import get_for_tenant
from merchants.exceptions import ChangeNotAllowed, MerchantNotActive
from merchants.models import ApiKey, Merchant

MAX_ACTIVE_KEYS = 5


def signing_key_of(secret: str) -> str:
    """The HMAC key of request signatures: the hex SHA-256 of the secret (what the platform stores, encrypted)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, merchant: Merchant, actor, label: str = "", now, ip: str = "") -> tuple[ApiKey, str]:
    """Create a key; returns (key, secret). The secret is never stored nor shown again.

    Raises RoleRequired, MerchantNotActive, ChangeNotAllowed (too many active keys).
    """
    merchant = Merchant.objects.get(pk=merchant.pk)  # the caller's copy may be stale
    require_capability(actor, "manage_api_keys")
    if merchant.status != Merchant.Status.ACTIVE:
        raise MerchantNotActive(gettext("开户后才能创建 API 密钥"))
    if ApiKey.objects.filter(merchant=merchant, revoked_at__isnull=True).count() >= MAX_ACTIVE_KEYS:
        raise ChangeNotAllowed(gettext("最多同时有 {MAX_ACTIVE_KEYS} 个有效密钥，请先吊销不用的密钥").format(MAX_ACTIVE_KEYS=MAX_ACTIVE_KEYS))
    key_id = "lgk_" + secrets.token_hex(10)
    secret = "lgs_" + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(merchant=merchant, key_id=key_id, label=(label or "").strip()[:100],
                                secret_hash=signing_key_of(secret), secret_hint=secret[-4:], created_by=actor,
                                issued_at=now)
    audit.record(event="merchants.api_key.created", now=now, actor=actor, subject=key, ip=ip,
                 after={"key_id": key_id, "label": key.label})
    return key, secret


@transaction.atomic
def api_key_revoke(*, merchant: Merchant, actor, key_id: str, now, ip: str = "") -> ApiKey:
    """Revoke a key at once; requests signed with it are refused from now on. Raises RoleRequired, NotFound."""
    require_capability(actor, "manage_api_keys")
    key = get_for_tenant(ApiKey.objects.select_for_update(), merchant=merchant, message=gettext("未找到该 API 密钥"),
                         key_id=key_id)
    if key.revoked_at is None:
        key.revoked_at, key.revoked_by = now, actor
        key.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
        audit.record(event="merchants.api_key.revoked", now=now, actor=actor, subject=key, ip=ip,
                     after={"key_id": key.key_id})
    return key


def api_nonces_purge(*, now) -> int:
    """Forget request nonces older than twice the timestamp window (an older replay is refused by its timestamp)."""
    import datetime as dt

    from merchants.api_auth import WINDOW_SECONDS
    from merchants.models import ApiNonce

    deleted, _ = ApiNonce.objects.filter(seen_at__lt=now - dt.timedelta(seconds=2 * WINDOW_SECONDS)).delete()
    return deleted
