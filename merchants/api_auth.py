"""Partner API authentication: HMAC-SHA256 signed requests (see docs/api.md, "请求签名").

Headers::

    Authorization: LG1-HMAC-SHA256 KeyId=<key id>, Signature=<hex HMAC>
    X-LG-Timestamp: <Unix seconds>
    X-LG-Nonce: <16–64 characters [A-Za-z0-9_-], new for every request>

String to sign (lines joined by "\\n")::

    LG1-HMAC-SHA256
    <METHOD upper-case>
    <path with query string, exactly as sent>
    <timestamp>
    <nonce>
    <hex SHA-256 of the raw body (of b"" when there is none)>

Signing key: the hex SHA-256 of the secret (UTF-8), used as the HMAC key (UTF-8 bytes). The platform stores only that
digest (encrypted), never the secret. A request is refused when the timestamp is more than 300 s away from the server's
clock, when the nonce was already used with the key (replay), or when the key is revoked or the merchant not active.
Successful authentication sets ``request.merchant``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication

from merchants.exceptions import SignatureInvalid
from merchants.models import ApiKey, ApiNonce, Merchant

SCHEME = "LG1-HMAC-SHA256"
WINDOW_SECONDS = 300
_AUTH_RE = re.compile(rf"^{SCHEME}\s+KeyId=([A-Za-z0-9_]+),\s*Signature=([0-9a-fA-F]{{64}})$")
_NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def string_to_sign(*, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return "\n".join([SCHEME, method.upper(), path, timestamp, nonce, hashlib.sha256(body or b"").hexdigest()])


def signature(*, signing_key: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = string_to_sign(method=method, path=path, timestamp=timestamp, nonce=nonce, body=body)
    return hmac.new(signing_key.encode(), message.encode(), hashlib.sha256).hexdigest()


def sign_request(*, secret: str, key_id: str, method: str, path: str, body: bytes = b"",
                 timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """The headers a partner sends (used by tests, the demo and as the reference client)."""
    import secrets as _secrets

    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or _secrets.token_hex(16)
    signing_key = hashlib.sha256(secret.encode()).hexdigest()
    sig = signature(signing_key=signing_key, method=method, path=path, timestamp=ts, nonce=nonce, body=body)
    return {"Authorization": f"{SCHEME} KeyId={key_id}, Signature={sig}", "X-LG-Timestamp": ts, "X-LG-Nonce": nonce}


class ApiClient:
    """The authenticated principal of a signed request: the merchant's API key (not a person)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    kind = "API"
    role = "API"
    pk = None
    id = None

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.merchant = api_key.merchant
        self.merchant_id = api_key.merchant_id
        self.username = api_key.key_id

    def audit_label(self) -> str:
        return f"api:{self.api_key.key_id}"

    def has_role(self, *roles) -> bool:
        return False

    def __str__(self) -> str:
        return self.audit_label()


class MerchantSignatureAuthentication(authentication.BaseAuthentication):
    """DRF authentication for signed partner requests. Requests without our scheme are left to other classes."""

    def authenticate_header(self, request) -> str:
        return SCHEME

    def authenticate(self, request):
        header = request.headers.get("Authorization", "")
        if not header.startswith(SCHEME):
            return None
        match = _AUTH_RE.match(header.strip())
        if not match:
            raise SignatureInvalid(_("Authorization 格式应为 “{SCHEME} KeyId=<Key ID>, Signature=<64 位十六进制>”").format(SCHEME=SCHEME),
                                   code="api_signature_malformed")
        key_id, provided = match.group(1), match.group(2).lower()
        timestamp = request.headers.get("X-LG-Timestamp", "")
        nonce = request.headers.get("X-LG-Nonce", "")
        if not timestamp.isdigit():
            raise SignatureInvalid(_("缺少或错误的 X-LG-Timestamp（Unix 秒）"), code="api_timestamp_invalid")
        skew = abs(time.time() - int(timestamp))
        if skew > WINDOW_SECONDS:
            raise SignatureInvalid(_("请求时间戳与服务器时间相差 {skew} 秒，超过 {WINDOW_SECONDS} 秒：请校准时钟后重新签名").format(skew=int(skew), WINDOW_SECONDS=WINDOW_SECONDS),
                                   code="api_timestamp_stale")
        if not _NONCE_RE.match(nonce):
            raise SignatureInvalid(_("X-LG-Nonce 应为 16–64 位字母、数字、下划线或连字符，且每个请求不同"),
                                   code="api_nonce_invalid")
        key = ApiKey.objects.select_related("merchant").filter(key_id=key_id).first()
        if key is None or key.revoked_at is not None:
            raise SignatureInvalid(_("API 密钥不存在或已吊销"), code="api_key_invalid")
        expected = signature(signing_key=key.secret_hash, method=request.method,
                             path=request.get_full_path(), timestamp=timestamp, nonce=nonce, body=request.body)
        if not hmac.compare_digest(expected, provided):
            raise SignatureInvalid(_("签名不正确：请按 docs/api.md 的待签名串与签名密钥计算"), code="api_signature_mismatch")
        if key.merchant.status not in (Merchant.Status.ACTIVE, Merchant.Status.SUSPENDED):
            raise SignatureInvalid(_("企业账户未开通或已注销"), code="api_merchant_inactive")
        now = timezone.now()
        try:
            with transaction.atomic():
                ApiNonce.objects.create(api_key=key, nonce=nonce, seen_at=now)
        except IntegrityError:
            raise SignatureInvalid(_("该请求已处理过（X-LG-Nonce 重复），重放请求被拒绝；新请求请使用新的 Nonce"),
                                   code="api_nonce_replayed") from None
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        client = ApiClient(key)
        request.merchant = key.merchant
        request._request.merchant = key.merchant
        return client, key

