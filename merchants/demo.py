"""Demo enterprises with staff. The onboarding issue extends this with applications, agreements and configuration."""

from __future__ import annotations

from django.db import transaction

from accounts.demo import DEMO_PASSWORD
from accounts.models import Role, User
from core.validators import uscc_check_char
from merchants.models import Merchant


def demo_uscc(body17: str) -> str:
    return body17 + uscc_check_char(body17)


DEMO_MERCHANTS = [
    # (login prefix, name, USCC body)
    ("kuaisong", "天津快送同城配送有限公司", "91120116MA06K8QX1"),
    ("yunce", "北京云测数据科技有限公司", "91110108MA01YC7T2"),
]


@transaction.atomic
def load(*, now) -> list[str]:
    lines = []
    for prefix, name, body in DEMO_MERCHANTS:
        merchant, _ = Merchant.objects.get_or_create(
            uscc=demo_uscc(body), defaults={"name": name, "status": Merchant.Status.ACTIVE}
        )
        for suffix, role in (("admin", Role.ENT_ADMIN), ("finance", Role.ENT_FINANCE), ("ops", Role.ENT_OPERATOR)):
            username = f"{prefix}_{suffix}"
            if not User.objects.filter(username=username).exists():
                User.objects.create_user(username, DEMO_PASSWORD, role=role, merchant=merchant,
                                         email=f"{username}@example.com")
        lines.append(f"企业端 /enterprise/  {name}：{prefix}_admin / {prefix}_finance / {prefix}_ops  密码 {DEMO_PASSWORD}")
    return lines
