"""Demo data for tasks: the category catalogue, approved scenarios for the two demo enterprises, tasks in every state
(draft, in review, sent back, published, split into sub-tasks, completed), proofs, a dispute, ratings, and accepted
work ready to pay. Idempotent: a second run changes nothing.

The demo workers come from members/demo.py (verified and signed there). If they are missing, workers are created
here, verified and signed, so this module also works on its own.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction

from accounts.models import Kind, Role, User
from core.exceptions import DomainError
from core.pii import blind_index
from core.validators import id_check_char
from members.models import Member, MemberMerchant
from members.selectors import worker_eligibility
from merchants.models import Merchant
from tasks import services
from tasks.inputs import PartData, TaskData
from tasks.models import BannedWord, Task, TaskCategory, WorkerProfile

KUAISONG = "天津快送同城配送有限公司"
YUNCE = "北京云测数据科技有限公司"
MARKER = "【演示】"

CATEGORIES = [
    # code, name, pricing modes, min fen, max fen
    ("delivery", "同城配送", ["PIECE", "HOUR"], 200, 20_000),
    ("warehouse", "仓储分拣", ["HOUR", "PIECE"], 1_500, 10_000),
    ("promotion", "地推推广", ["PIECE", "HOUR", "FIXED"], 100, 50_000),
    ("labeling", "数据标注", ["PIECE", "FIXED"], 5, 100_000),
    ("survey", "市场调研", ["PIECE", "FIXED"], 500, 100_000),
]
APPROVED = {KUAISONG: ["delivery", "warehouse", "promotion"], YUNCE: ["labeling", "survey"]}
BANNED = [("刷单", "虚假交易"), ("套现", "资金违规"), ("代开发票", "票据违规"), ("传销", "违法活动")]
SKILLS = [["骑行", "送餐", "普通话"], ["骑行", "搬运"], ["图片标注", "细心"], ["问卷访谈", "普通话"],
          ["搬运", "叉车"], ["图片标注", "英语"], ["骑行", "送餐"], ["问卷访谈"], ["细心", "盘点"]]
# Places (lat, lng) for the Tianjin and Beijing tasks.
HEPING = (Decimal("39.117600"), Decimal("117.195300"))
BINHAI = (Decimal("39.003300"), Decimal("117.710900"))
XIQING = (Decimal("39.141800"), Decimal("117.012400"))
ZHONGGUANCUN = (Decimal("39.983800"), Decimal("116.316300"))


def _jpeg(label: str) -> ContentFile:
    """A small real JPEG so the proof photo displays in the portal."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 120), (230, 240, 255))
    ImageDraw.Draw(image).text((10, 50), label, fill=(30, 60, 120))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return ContentFile(buffer.getvalue(), name=f"{label}.jpg")


def _demo_workers(merchants: list[Merchant], *, now) -> list[Member]:
    """The demo workers who may take tasks from both enterprises (verified and signed), in a stable order."""
    from members.demo import DEMO_WORKERS

    members = []
    for index, (phone, name) in enumerate(DEMO_WORKERS[:9], start=1):
        user = User.objects.filter(phone_index=blind_index(phone, purpose="phone")).first()
        if user is None:
            user = User.objects.create_user(f"demo_worker_{index:02d}", role=Role.WORKER, kind=Kind.WORKER,
                                            phone=phone, full_name=name)
        member = Member.objects.filter(user=user).first()
        if member is None:
            body = f"12010119880808{700 + index:03d}"
            member = Member(user=user, verification_status=Member.Verification.VERIFIED, verified_at=now)
            member.set_identity(name=name, id_number=body + id_check_char(body))
            member.save()
        for merchant in merchants:
            if not MemberMerchant.objects.for_tenant(merchant).filter(member=member).exists():
                MemberMerchant.objects.create(merchant=merchant, member=member, status=MemberMerchant.Status.SIGNED,
                                              signed_at=now)
        if all(worker_eligibility(member=member, merchant=m).ok for m in merchants):
            members.append(member)
        WorkerProfile.objects.get_or_create(member=member, defaults={
            "skills": SKILLS[(index - 1) % len(SKILLS)], "city": "北京" if index in (4, 8) else "天津"})
    return members


def _task(merchant, admin, *, now, title, category, pricing, price_fen, headcount, quantity="1", budget_fen=None,
          take_mode="APPLY", skills=(), place=None, city="天津", address="", starts_in_hours=24, hours=4,
          proof=("PHOTO", "QUANTITY"), description="") -> Task:
    starts_at = now + dt.timedelta(hours=starts_in_hours)
    quantity = Decimal(quantity)
    data = TaskData(
        title=MARKER + title, description=description or f"{title}。请按要求完成并提交完工证明，企业验收后结算。",
        category_code=category, pricing_mode=pricing, unit_price_fen=price_fen,
        budget_fen=budget_fen or int(price_fen * quantity * headcount), headcount=headcount,
        quantity_per_worker=quantity, take_mode=take_mode, skills=list(skills), is_remote=place is None,
        address=address, city=city if place else "", latitude=place[0] if place else None,
        longitude=place[1] if place else None, radius_m=800, starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=hours), deadline_at=starts_at + dt.timedelta(hours=hours - 1),
        proof_kinds=list(proof))
    return services.task_create(merchant=merchant, data=data, actor=admin, now=now)


def _publish(task, admin, ops, *, now) -> Task:
    services.task_submit(merchant=task.merchant, task_id=task.pk, actor=admin, now=now)
    return services.task_approve(task_id=task.pk, actor=ops, now=now)


def _prove(member, assignment, *, now, quantity, text="已按要求完成", photo=True, check_in_at=None):
    task = assignment.task
    if "CHECKIN" in task.proof_kinds:
        services.assignment_check_in(member=member, assignment_id=assignment.pk, kind="IN", latitude=task.latitude,
                                     longitude=task.longitude, now=check_in_at or now)
    photos = [_jpeg(f"proof-{assignment.pk}")] if photo else []
    return services.assignment_submit_proof(member=member, assignment_id=assignment.pk, text=text,
                                            quantity=quantity, photos=photos, now=now)


def _kuaisong(merchant, admin, ops, workers, *, now) -> None:
    # Published, first come: two at work, one proof waiting for acceptance, one accepted (ready to pay) and rated.
    lunch = _publish(_task(merchant, admin, now=now, title="和平区午高峰外卖配送", category="delivery", pricing="PIECE",
                           price_fen=650, headcount=5, quantity="30", take_mode="CLAIM", skills=["骑行", "送餐"],
                           place=HEPING, address="天津市和平区南京路与滨江道交口", starts_in_hours=-1, hours=6,
                           proof=("PHOTO", "CHECKIN", "QUANTITY")), admin, ops, now=now)
    first = services.task_claim(member=workers[0], task_id=lunch.pk, now=now)
    _prove(workers[0], first, now=now, quantity="28", text="送达 28 单，2 单客户取消")
    services.assignment_accept(merchant=merchant, assignment_id=first.pk, actor=admin, now=now)
    services.evaluation_of_worker_create(merchant=merchant, assignment_id=first.pk, actor=admin, stars=5,
                                         comment="准时、态度好", now=now)
    services.evaluation_of_enterprise_create(member=workers[0], assignment_id=first.pk, stars=4,
                                             comment="结算清楚", now=now)
    second = services.task_claim(member=workers[1], task_id=lunch.pk, now=now)
    _prove(workers[1], second, now=now, quantity="25", text="送达 25 单")
    services.task_claim(member=workers[6], task_id=lunch.pk, now=now)

    # A dispute waiting for operations: rejected work the worker disputes.
    evening = _publish(_task(merchant, admin, now=now, title="西青区晚班配送", category="delivery", pricing="HOUR",
                             price_fen=3_000, headcount=2, quantity="4", take_mode="CLAIM", skills=["骑行"],
                             place=XIQING, address="天津市西青区中北镇", starts_in_hours=-2, hours=5), admin, ops,
                       now=now)
    disputed = services.task_claim(member=workers[1], task_id=evening.pk, now=now)
    _prove(workers[1], disputed, now=now, quantity="4", text="18:00–22:00 在岗")
    services.assignment_reject(merchant=merchant, assignment_id=disputed.pk, actor=admin,
                               reason="系统记录 19:30 才上线，不足 4 小时", now=now)
    services.assignment_dispute(member=workers[1], assignment_id=disputed.pk,
                                reason="18:00 已到站点签到，19:30 前在等单，有签到记录", now=now)

    # Apply-and-approve, with an applicant waiting and an invitation out.
    night = _publish(_task(merchant, admin, now=now, title="仓库夜班分拣", category="warehouse", pricing="HOUR",
                           price_fen=2_800, headcount=3, quantity="8", skills=["搬运", "叉车"], place=BINHAI,
                           address="天津市滨海新区物流园 8 号库", starts_in_hours=30, hours=8,
                           proof=("CHECKIN", "QUANTITY", "TEXT")), admin, ops, now=now)
    applied = services.task_apply(member=workers[4], task_id=night.pk, now=now)
    services.assignment_approve(merchant=merchant, assignment_id=applied.pk, actor=admin, now=now)
    services.task_apply(member=workers[1], task_id=night.pk, now=now)
    services.task_invite(merchant=merchant, task_id=night.pk, member_ids=[workers[8].pk], actor=admin, now=now,
                         scores={workers[8].pk: 62})

    # In review, sent back, and a draft.
    review = _task(merchant, admin, now=now, title="滨海新区社区地推", category="promotion", pricing="PIECE",
                   price_fen=1_500, headcount=10, quantity="20", skills=["普通话"], place=BINHAI,
                   address="天津市滨海新区中心商务区", starts_in_hours=72)
    services.task_submit(merchant=merchant, task_id=review.pk, actor=admin, now=now)
    back = _task(merchant, admin, now=now, title="门店开业发传单", category="promotion", pricing="HOUR",
                 price_fen=2_500, headcount=4, quantity="3", place=HEPING, address="天津市和平区劝业场",
                 starts_in_hours=96)
    services.task_submit(merchant=merchant, task_id=back.pk, actor=admin, now=now)
    services.task_send_back(task_id=back.pk, actor=ops, reason="请在说明中写明传单内容、发放区域和交付标准", now=now)
    _task(merchant, admin, now=now, title="河东区早班配送（草稿）", category="delivery", pricing="PIECE", price_fen=600,
          headcount=3, quantity="25", take_mode="CLAIM", place=HEPING, address="天津市河东区大直沽",
          starts_in_hours=120)


def _yunce(merchant, admin, ops, workers, *, now) -> None:
    # 分包: a labelling job split into sub-tasks, one accepted (ready to pay), one submitted, one at work.
    images = _publish(_task(merchant, admin, now=now, title="自动驾驶图片标注（车辆框选）", category="labeling",
                            pricing="PIECE", price_fen=30, headcount=4, quantity="2000", skills=["图片标注", "细心"],
                            starts_in_hours=-1, hours=72, proof=("FILE", "QUANTITY")), admin, ops, now=now)
    parts = services.task_split(merchant=merchant, task_id=images.pk, actor=admin, now=now, parts=[
        PartData(member_id=workers[2].pk, title="第 1–2000 张", quantity=Decimal("2000")),
        PartData(member_id=workers[5].pk, title="第 2001–3500 张", quantity=Decimal("1500")),
        PartData(member_id=workers[8].pk, title="第 3501–4500 张", quantity=Decimal("1000")),
    ])
    for part, member, quantity in ((parts[0], workers[2], "2000"), (parts[1], workers[5], "1500")):
        result = ContentFile(f"标注结果 {part.part_title}\n共 {quantity} 张\n".encode(), name="result.txt")
        services.assignment_submit_proof(member=member, assignment_id=part.pk, text="已完成", quantity=quantity,
                                         files=[result], now=now)
    services.assignment_accept(merchant=merchant, assignment_id=parts[0].pk, actor=admin, now=now)
    services.evaluation_of_worker_create(merchant=merchant, assignment_id=parts[0].pk, actor=admin, stars=4,
                                         comment="准确率高", now=now)

    # A finished survey: accepted, completed, ready to pay.
    survey = _publish(_task(merchant, admin, now=now, title="中关村便利店价格调研", category="survey", pricing="FIXED",
                            price_fen=12_000, headcount=2, skills=["问卷访谈"], place=ZHONGGUANCUN, city="北京",
                            address="北京市海淀区中关村大街", starts_in_hours=-3, hours=5,
                            proof=("PHOTO", "TEXT")), admin, ops, now=now)
    for member in (workers[3], workers[7]):
        a = services.task_apply(member=member, task_id=survey.pk, now=now)
        services.assignment_approve(merchant=merchant, assignment_id=a.pk, actor=admin, now=now)
        _prove(member, a, now=now, quantity=None, text="走访 12 家门店，价格表见照片")
        services.assignment_accept(merchant=merchant, assignment_id=a.pk, actor=admin, now=now)
    services.task_complete(merchant=merchant, task_id=survey.pk, actor=admin, now=now)

    # Open for applications (remote), for the workers to find.
    _publish(_task(merchant, admin, now=now, title="语音转写校对", category="labeling", pricing="PIECE", price_fen=80,
                   headcount=20, quantity="500", skills=["普通话", "细心"], starts_in_hours=12, hours=48,
                   proof=("FILE", "QUANTITY")), admin, ops, now=now)


@transaction.atomic
def load(*, now) -> list[str]:
    for code, name, modes, low, high in CATEGORIES:
        TaskCategory.objects.get_or_create(code=code, defaults={"name": name, "pricing_modes": modes,
                                                                "min_unit_price_fen": low, "max_unit_price_fen": high})
    for word, reason in BANNED:
        BannedWord.objects.get_or_create(word=word, defaults={"reason": reason})
    ops = User.objects.filter(username="ops_reviewer").first() or User.objects.filter(username="ops_admin").first()
    merchants = {name: Merchant.objects.filter(name=name).order_by("id").first() for name in APPROVED}
    if not all(merchants.values()):
        return ["任务演示数据：未找到演示企业（请先加载 merchants 演示数据），只加载了类目"]
    for name, codes in APPROVED.items():
        for code in codes:
            services.merchant_category_grant(merchant=merchants[name], category=TaskCategory.objects.get(code=code),
                                             actor=ops, now=now, note="演示：服务协议约定的业务场景")
    lines = ["任务：企业端 /enterprise/tasks/（待审核、分包、待验收、待付款）；灵工人员端 /m/tasks/（附近的任务、我的任务）；"
             "运营后台 /ops/tasks/taskinreview/（审核队列），申诉在 /ops/tasks/taskassignment/?status__exact=DISPUTED"]
    if Task.objects.filter(title__startswith=MARKER).exists():
        return lines
    workers = _demo_workers(list(merchants.values()), now=now)
    if len(workers) < 9:
        return [*lines, f"任务演示数据：只有 {len(workers)} 位已实名并签约的演示人员，跳过演示任务"]
    for name, build in ((KUAISONG, _kuaisong), (YUNCE, _yunce)):
        merchant = merchants[name]
        admin = User.objects.filter(merchant=merchant, role=Role.ENT_ADMIN).order_by("id").first()
        try:
            with transaction.atomic():
                build(merchant, admin, ops, workers, now=now)
        except DomainError as error:
            lines.append(f"任务演示数据（{name}）未能加载：{error.message}")
    return lines
