"""Factories for the tasks tests. Related rows share one tenant; money is integer fen; time is fixed."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from accounts.models import Kind, Role, User
from core.testing.factories import make_phone, make_resident_id
from members.models import Member, MemberMerchant
from tasks.inputs import TaskData
from tasks.models import MerchantCategory, Task, TaskCategory

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 3, 16, 10, 30, tzinfo=SHANGHAI)
# 天津站 and a few points around it, to order by distance.
TIANJIN_STATION = (Decimal("39.136000"), Decimal("117.210000"))
_seq = itertools.count(1)


def category(code: str = "delivery", *, name: str = "同城配送", modes=("PIECE", "HOUR", "FIXED"),
             min_fen: int = 100, max_fen: int = 50_000) -> TaskCategory:
    found = TaskCategory.objects.filter(code=code).first()
    if found:
        return found
    return TaskCategory.objects.create(code=code, name=name, pricing_modes=list(modes), min_unit_price_fen=min_fen,
                                       max_unit_price_fen=max_fen)


def approve_category(merchant, cat: TaskCategory) -> MerchantCategory:
    return MerchantCategory.objects.get_or_create(merchant=merchant, category=cat, defaults={"approved_at": NOW})[0]


def task_data(**overrides) -> TaskData:
    values = dict(
        title="午高峰同城配送", description="在和平区配送餐盒，按件计费，需自备电动车和头盔。",
        category_code="delivery", pricing_mode="PIECE", unit_price_fen=800, budget_fen=100_000, headcount=3,
        quantity_per_worker=Decimal("20"), take_mode="APPLY", skills=["骑行", "送餐"],
        is_remote=False, address="天津市和平区南京路 1 号", city="天津", latitude=TIANJIN_STATION[0],
        longitude=TIANJIN_STATION[1], radius_m=500,
        starts_at=NOW + dt.timedelta(days=1), ends_at=NOW + dt.timedelta(days=1, hours=4),
        deadline_at=NOW + dt.timedelta(hours=20), proof_kinds=["PHOTO", "QUANTITY"],
    )
    values.update(overrides)
    return TaskData(**values)


def worker(merchant=None, *, signed: bool = True, verified: bool = True, at=NOW) -> Member:
    n = next(_seq)
    user = User.objects.create_user(f"tw{n}", role=Role.WORKER, kind=Kind.WORKER,
                                    phone=make_phone(50_000 + n))
    if verified:
        member = Member(user=user, verification_status=Member.Verification.VERIFIED, verified_at=at)
        member.set_identity(name="测试人员", id_number=make_resident_id(n))
    else:
        member = Member(user=user)
    member.save()
    if merchant is not None:
        MemberMerchant.objects.create(merchant=merchant, member=member,
                                      status=MemberMerchant.Status.SIGNED if signed else MemberMerchant.Status.VERIFIED,
                                      signed_at=at if signed else None)
    return member


def published_task(merchant, actor, *, ops=None, **overrides) -> Task:
    from tasks import services

    approve_category(merchant, category())
    task = services.task_create(merchant=merchant, data=task_data(**overrides), actor=actor, now=NOW)
    services.task_submit(merchant=merchant, task_id=task.pk, actor=actor, now=NOW)
    return services.task_approve(task_id=task.pk, actor=ops, now=NOW)
