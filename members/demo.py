"""Demo workers: a dozen phone-registered accounts. The onboarding issue adds verification and agreements."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Kind, Role, User
from core.pii import blind_index

DEMO_WORKERS = [
    ("13800000001", "张伟"), ("13800000002", "王芳"), ("13800000003", "李娜"), ("13800000004", "刘洋"),
    ("13800000005", "陈静"), ("13800000006", "杨磊"), ("13800000007", "赵敏"), ("13800000008", "黄强"),
    ("13800000009", "周婷"), ("13800000010", "吴军"), ("13800000011", "徐丽"), ("13800000012", "孙涛"),
]


@transaction.atomic
def load(*, now) -> list[str]:
    for index, (phone, name) in enumerate(DEMO_WORKERS, start=1):
        if not User.objects.filter(phone_index=blind_index(phone, purpose="phone")).exists():
            User.objects.create_user(f"demo_worker_{index:02d}", role=Role.WORKER, kind=Kind.WORKER, phone=phone,
                                     full_name=name)
    return [
        f"灵工人员端 /m/  手机号 {DEMO_WORKERS[0][0]} … {DEMO_WORKERS[-1][0]}（共 {len(DEMO_WORKERS)} 人），"
        "点“获取验证码”，演示沙箱会在页面上显示验证码（运营后台“短信发件箱”也可查看）",
    ]
