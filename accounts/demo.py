"""Demo platform staff: one operator per platform role. Their TOTP secret is fixed so the demo can print it."""

from __future__ import annotations

import base64

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User

DEMO_PASSWORD = "Linggong-demo-2026"
# A fixed, public TOTP key: only ever used for demo accounts (base32 shown for authenticator apps).
DEMO_TOTP_HEX = "3132333435363738393031323334353637383930"
DEMO_TOTP_BASE32 = base64.b32encode(bytes.fromhex(DEMO_TOTP_HEX)).decode()

OPERATORS = [
    ("ops_admin", Role.OPS_ADMIN, True),
    ("ops_reviewer", Role.OPS_REVIEWER, False),
    ("ops_finance", Role.OPS_FINANCE, False),
    ("ops_risk", Role.OPS_RISK, False),
    ("ops_support", Role.OPS_SUPPORT, False),
]


@transaction.atomic
def load(*, now) -> list[str]:
    for username, role, superuser in OPERATORS:
        user = User.objects.filter(username=username).first()
        if user is None:
            if superuser:
                user = User.objects.create_superuser(username, DEMO_PASSWORD, email=f"{username}@linggong.example")
            else:
                user = User.objects.create_user(username, DEMO_PASSWORD, role=role, is_staff=True,
                                                email=f"{username}@linggong.example")
        TOTPDevice.objects.get_or_create(user=user, name="demo", defaults={"key": DEMO_TOTP_HEX, "confirmed": True})
    return [
        "运营后台 /ops/  登录名 ops_admin（另有 ops_reviewer / ops_finance / ops_risk / ops_support）"
        f"  密码 {DEMO_PASSWORD}",
        f"  动态口令：验证器 App 添加密钥 {DEMO_TOTP_BASE32}，或运行 .venv/bin/python manage.py totp_code ops_admin",
    ]
