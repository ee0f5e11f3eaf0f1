"""任务发布与审核: an enterprise drafts, edits, submits and withdraws a task; operations approve, reject or send it back.

An approved task is published to workers and is never edited in place: ``task_reopen_for_change`` takes it back
to draft, and it goes through review again. Amounts are integer fen.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from core import audit
from core.money import format_cny, round_fen
from tasks import locks, rules
from tasks.actors import user_of
from tasks.exceptions import TaskInvalid, TaskNotEditable, TaskStateInvalid
from tasks.geo import normalise_city
from tasks.inputs import TaskData
from tasks.models import PayableWork, PricingMode, ProofKind, Task, TaskAssignment, TaskCategory

MAX_HEADCOUNT = 10_000
MAX_QUANTITY = Decimal("100000")
MAX_SKILLS = 10
TASK_FIELDS = ("title", "description", "category_id", "skills", "is_remote", "address", "city", "latitude",
               "longitude", "radius_m", "headcount", "take_mode", "pricing_mode", "unit_price_fen",
               "quantity_per_worker", "budget_fen", "starts_at", "ends_at", "deadline_at", "proof_kinds")


def task_snapshot(task: Task) -> dict:
    """The audited view of a task (no personal data in tasks)."""
    snapshot = {name: getattr(task, name) for name in TASK_FIELDS}
    snapshot.update(status=task.status, version=task.version)
    return snapshot


def _invalid(message: str, field: str) -> TaskInvalid:
    return TaskInvalid(message, extra={"field": field, "form_field": field})


def _clean(merchant, data: TaskData, *, now) -> dict:
    """Check one task's fields; return model values. Raises TaskInvalid (with ``extra["field"]``),
    CategoryNotApproved, PriceOutOfBounds."""
    title, description = (data.title or "").strip(), (data.description or "").strip()
    if not title:
        raise _invalid(_("请填写任务名称"), "title")
    if len(title) > 100:
        raise _invalid(_("任务名称最多 100 个字，现在 {n_title} 个字").format(n_title=len(title)), "title")
    if len(description) < 10:
        raise _invalid(_("请用至少 10 个字说明任务内容、要求和交付标准"), "description")
    category = TaskCategory.objects.filter(code=data.category_code).first()
    if category is None:
        raise _invalid(_("没有编码为“{category_code}”的任务类目").format(category_code=data.category_code), "category")
    rules.check_category(merchant=merchant, category=category)
    if data.pricing_mode not in PricingMode.values:
        raise _invalid(_("计价方式“{pricing_mode}”无效，可选：{value}").format(pricing_mode=data.pricing_mode, value='、'.join(PricingMode.values)), "pricing_mode")
    if data.pricing_mode not in category.pricing_modes:
        allowed = "、".join(PricingMode(m).label for m in category.pricing_modes)
        raise _invalid(_("“{kind}”类目只允许以下计价方式：{allowed}").format(kind=category.name, allowed=allowed), "pricing_mode")
    if isinstance(data.unit_price_fen, bool) or not isinstance(data.unit_price_fen, int) or data.unit_price_fen <= 0:
        raise _invalid(_("单价必须大于 0"), "unit_price")
    rules.check_price(category=category, unit_price_fen=data.unit_price_fen)
    if not isinstance(data.headcount, int) or not 1 <= data.headcount <= MAX_HEADCOUNT:
        raise _invalid(_("需要人数必须在 1 到 {MAX_HEADCOUNT} 之间").format(MAX_HEADCOUNT=MAX_HEADCOUNT), "headcount")
    if data.take_mode not in Task.TakeMode.values:
        raise _invalid(_("接取方式必须是“报名后录用”或“先到先得”"), "take_mode")
    quantity = Decimal(data.quantity_per_worker)
    if quantity <= 0 or quantity > MAX_QUANTITY or quantity != quantity.quantize(Decimal("0.01")):
        raise _invalid(_("每人计划数量必须大于 0、不超过 100000，最多两位小数"), "quantity_per_worker")
    if data.pricing_mode == PricingMode.FIXED and quantity != 1:
        raise _invalid(_("一口价任务的每人计划数量必须是 1"), "quantity_per_worker")
    estimate_fen = round_fen(Decimal(data.unit_price_fen) * quantity) * data.headcount
    if not isinstance(data.budget_fen, int) or data.budget_fen <= 0:
        raise _invalid(_("预算必须大于 0"), "budget")
    if data.budget_fen < estimate_fen:
        raise _invalid(
            _("预算 {budget_fen} 不足以支付 {headcount} 人 × {quantity} × {unit_price_fen} = {estimate_fen}，请提高预算或减少人数/数量").format(budget_fen=format_cny(data.budget_fen), headcount=data.headcount, quantity=quantity, unit_price_fen=format_cny(data.unit_price_fen), estimate_fen=format_cny(estimate_fen)), "budget")
    skills = [str(s).strip() for s in (data.skills or []) if str(s).strip()]
    if len(skills) > MAX_SKILLS or any(len(s) > 20 for s in skills):
        raise _invalid(_("最多 {MAX_SKILLS} 项技能，每项不超过 20 个字").format(MAX_SKILLS=MAX_SKILLS), "skills")
    values = {"title": title, "description": description, "category": category, "skills": list(dict.fromkeys(skills)),
              "pricing_mode": data.pricing_mode, "unit_price_fen": data.unit_price_fen, "headcount": data.headcount,
              "take_mode": data.take_mode, "quantity_per_worker": quantity, "budget_fen": data.budget_fen,
              "is_remote": bool(data.is_remote), "address": (data.address or "").strip()[:200],
              "city": normalise_city(data.city)[:40]}
    if data.is_remote:
        values.update(latitude=None, longitude=None, radius_m=0)
    else:
        if data.latitude is None or data.longitude is None:
            raise _invalid(_("现场任务请在地图上选定任务地点（经纬度），或勾选“远程任务”"), "latitude")
        if not (Decimal(-90) <= data.latitude <= Decimal(90) and Decimal(-180) <= data.longitude <= Decimal(180)):
            raise _invalid(_("任务地点的经纬度超出范围"), "latitude")
        if not values["address"]:
            raise _invalid(_("现场任务请填写地址"), "address")
        if not values["city"]:
            raise _invalid(_("现场任务请填写城市"), "city")
        if not isinstance(data.radius_m, int) or not 50 <= data.radius_m <= 50_000:
            raise _invalid(_("签到半径必须在 50 米到 50 公里之间"), "radius_m")
        values.update(latitude=Decimal(data.latitude).quantize(Decimal("0.000001")),
                      longitude=Decimal(data.longitude).quantize(Decimal("0.000001")), radius_m=data.radius_m)
    for name in ("starts_at", "ends_at", "deadline_at"):
        value = getattr(data, name)
        if value is None or timezone.is_naive(value):
            raise _invalid(_("请填写完整的日期和时间"), name)
    if data.ends_at <= data.starts_at:
        raise _invalid(_("结束时间必须晚于开始时间"), "ends_at")
    if data.ends_at <= now:
        raise _invalid(_("结束时间已经过去，请重新安排时间"), "ends_at")
    if data.deadline_at > data.ends_at:
        raise _invalid(_("报名截止时间不能晚于任务结束时间"), "deadline_at")
    values.update(starts_at=data.starts_at, ends_at=data.ends_at, deadline_at=data.deadline_at)
    kinds = list(dict.fromkeys(data.proof_kinds or []))
    unknown = [k for k in kinds if k not in ProofKind.values]
    if unknown:
        raise _invalid(_("未知的完工证明类型：{value}").format(value='、'.join(map(str, unknown))), "proof_kinds")
    if data.pricing_mode in (PricingMode.PIECE, PricingMode.HOUR) and ProofKind.QUANTITY not in kinds:
        kinds.append(ProofKind.QUANTITY)  # pay is quantity × unit price, so the quantity is always part of the proof
    if not kinds:
        raise _invalid(_("请至少选择一种完工证明（照片、文件、文字、签到或数量）"), "proof_kinds")
    if ProofKind.CHECKIN in kinds and data.is_remote:
        raise _invalid(_("远程任务不能要求现场签到"), "proof_kinds")
    values["proof_kinds"] = kinds
    return values


@transaction.atomic
def task_create(*, merchant, data: TaskData, actor, now) -> Task:
    """Create a draft task for ``merchant``. Raises TaskInvalid, CategoryNotApproved, PriceOutOfBounds."""
    values = _clean(merchant, data, now=now)
    task = Task.objects.create(merchant=merchant, created_by=user_of(actor), **values)
    audit.record(event="tasks.task.created", now=now, actor=actor, subject=task, after=task_snapshot(task))
    return task


@transaction.atomic
def task_update(*, merchant, task_id: int, data: TaskData, actor, now) -> Task:
    """Edit a draft (or sent-back) task. An approved task is not editable: see ``task_reopen_for_change``.

    Raises TaskNotFound, TaskNotEditable, and the validation errors of ``task_create``.
    """
    task = locks.task_for_update(task_id=task_id, merchant=merchant)
    if not task.is_editable:
        raise TaskNotEditable(
            _("任务状态为“{status}”，不能修改。").format(status=task.get_status_display())
            + (_("已发布的任务请先点“修改（重新审核）”转回草稿。") if task.status == Task.Status.APPROVED else ""),
            extra={"status": task.status})
    values = _clean(merchant, data, now=now)
    # A task reopened after publication may already have people on it and accepted work: never promise less.
    held = TaskAssignment.objects.filter(task=task, status__in=TaskAssignment.HOLDING).count()
    if values["headcount"] < held:
        raise _invalid(_("已有 {held} 人接取，需要人数不能少于 {held}").format(held=held), "headcount")
    accepted_fen = sum(PayableWork.objects.filter(task=task).values_list("amount_fen", flat=True))
    if values["budget_fen"] < accepted_fen:
        raise _invalid(_("已验收 {accepted_fen}，预算不能低于这个金额").format(accepted_fen=format_cny(accepted_fen)), "budget")
    before = task_snapshot(task)
    for name, value in values.items():
        setattr(task, name, value)
    task.version += 1
    task.save(update_fields=[*values.keys(), "version", "updated_at"])
    audit.record(event="tasks.task.updated", now=now, actor=actor, subject=task, before=before,
                 after=task_snapshot(task))
    return task


def _transition_error(task: Task, action: str) -> TaskStateInvalid:
    return TaskStateInvalid(_("任务状态为“{status}”，不能{action}").format(status=task.get_status_display(), action=action), extra={"status": task.status})


@transaction.atomic
def task_submit(*, merchant, task_id: int, actor, now, available_fen_of=None) -> Task:
    """Submit a draft for platform review. The rules run first (category, price, banned words, budget cover).

    Raises TaskNotFound, TaskStateInvalid, CategoryNotApproved, PriceOutOfBounds, BannedWordFound, BudgetNotCovered.
    """
    task = locks.task_for_update(task_id=task_id, merchant=merchant)
    if not can_proceed(task.submit):
        raise _transition_error(task, _("提交审核"))
    if task.ends_at <= now:
        raise TaskInvalid(_("任务结束时间已经过去，请修改时间后再提交"), extra={"field": "ends_at"})
    findings = rules.run_review_rules(task, available_fen_of=available_fen_of)
    before = task.status
    task.submit(at=now)
    task.review_findings = findings
    task.save(update_fields=["status", "submitted_at", "review_findings", "updated_at"])
    audit.record(event="tasks.task.submitted", now=now, actor=actor, subject=task, before={"status": before},
                 after={"status": task.status, "findings": findings})
    return task


@transaction.atomic
def task_withdraw(*, merchant, task_id: int, actor, now) -> Task:
    """Take a submitted task back from review to draft. Raises TaskNotFound, TaskStateInvalid."""
    task = locks.task_for_update(task_id=task_id, merchant=merchant)
    if not can_proceed(task.withdraw):
        raise _transition_error(task, _("撤回"))
    task.withdraw()
    task.save(update_fields=["status", "submitted_at", "updated_at"])
    audit.record(event="tasks.task.withdrawn", now=now, actor=actor, subject=task, before={"status": "SUBMITTED"},
                 after={"status": task.status})
    return task


@transaction.atomic
def task_approve(*, task_id: int, actor, now, available_fen_of=None) -> Task:
    """Operations approve (and so publish) a submitted task; the rules are re-run against today's data.

    Raises TaskNotFound, TaskStateInvalid and the rule errors of ``task_submit``.
    """
    task = locks.task_for_update(task_id=task_id)
    if not can_proceed(task.approve):
        raise _transition_error(task, _("审核通过"))
    findings = rules.run_review_rules(task, available_fen_of=available_fen_of)
    task.approve(by=user_of(actor), at=now, findings=findings)
    task.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_reason", "review_findings",
                             "published_at", "updated_at"])
    audit.record(event="tasks.task.approved", now=now, actor=actor, subject=task, before={"status": "SUBMITTED"},
                 after={"status": task.status, "findings": findings})
    return task


def _review_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise TaskInvalid(_("请写明原因（至少 4 个字），企业会看到它并据此修改"), extra={"field": "reason"})
    return reason


@transaction.atomic
def task_reject(*, task_id: int, actor, reason: str, now) -> Task:
    """Refuse a submitted task for good (it can only be cancelled afterwards). Raises TaskInvalid, TaskStateInvalid."""
    reason = _review_reason(reason)
    task = locks.task_for_update(task_id=task_id)
    if not can_proceed(task.reject):
        raise _transition_error(task, _("驳回"))
    task.reject(by=user_of(actor), at=now, reason=reason, findings=task.review_findings)
    task.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_reason", "updated_at"])
    audit.record(event="tasks.task.rejected", now=now, actor=actor, subject=task, before={"status": "SUBMITTED"},
                 after={"status": task.status, "reason": reason})
    return task


@transaction.atomic
def task_send_back(*, task_id: int, actor, reason: str, now) -> Task:
    """Return a submitted task to the enterprise for changes. Raises TaskInvalid, TaskStateInvalid."""
    reason = _review_reason(reason)
    task = locks.task_for_update(task_id=task_id)
    if not can_proceed(task.send_back):
        raise _transition_error(task, _("退回修改"))
    task.send_back(by=user_of(actor), at=now, reason=reason, findings=task.review_findings)
    task.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_reason", "updated_at"])
    audit.record(event="tasks.task.sent_back", now=now, actor=actor, subject=task, before={"status": "SUBMITTED"},
                 after={"status": task.status, "reason": reason})
    return task


@transaction.atomic
def task_reopen_for_change(*, merchant, task_id: int, actor, now) -> Task:
    """Take a published task back to draft so it can be changed; it is hidden from new takers until approved again.

    Workers already on the task keep their place. Raises TaskNotFound, TaskStateInvalid.
    """
    task = locks.task_for_update(task_id=task_id, merchant=merchant)
    if not can_proceed(task.reopen_for_change):
        raise _transition_error(task, _("转回草稿修改"))
    task.reopen_for_change()
    task.save(update_fields=["status", "published_at", "submitted_at", "updated_at"])
    audit.record(event="tasks.task.reopened", now=now, actor=actor, subject=task, before={"status": "APPROVED"},
                 after={"status": task.status})
    return task


def _decline_pending(task: Task, *, now, actor) -> int:
    """Applications and invitations still waiting when a task stops taking people are declined."""
    declined = 0
    pending = TaskAssignment.objects.select_for_update(no_key=True).filter(
        task=task, status__in=[TaskAssignment.Status.APPLIED, TaskAssignment.Status.INVITED]).order_by("id")
    for assignment in pending:
        assignment.decline(at=now)
        assignment.save(update_fields=["status", "decided_at", "updated_at"])
        audit.record(event="tasks.assignment.declined", now=now, actor=actor, subject=assignment,
                     after={"status": assignment.status, "reason": "task closed"})
        declined += 1
    return declined


@transaction.atomic
def task_close(*, merchant, task_id: int, actor, now) -> Task:
    """Stop taking new workers (pending applications are declined); work already taken goes on.

    Raises TaskNotFound, TaskStateInvalid.
    """
    task = locks.task_for_update(task_id=task_id, merchant=merchant)
    if not can_proceed(task.close):
        raise _transition_error(task, _("停止接取"))
    _decline_pending(task, now=now, actor=actor)
    task.close(at=now)
    task.save(update_fields=["status", "closed_at", "updated_at"])
    audit.record(event="tasks.task.closed", now=now, actor=actor, subject=task, before={"status": "APPROVED"},
                 after={"status": task.status})
    return task


@transaction.atomic
def task_complete(*, merchant, task_id: int, actor, now) -> Task:
    """Mark the task completed once every piece of work taken has been accepted or finally rejected.

    Raises TaskNotFound, TaskStateInvalid (with the number of pieces still open).
    """
    task = locks.task_for_update(task_id=task_id, merchant=merchant)
    if not can_proceed(task.complete):
        raise _transition_error(task, _("完成"))
    S = TaskAssignment.Status
    open_count = TaskAssignment.objects.filter(task=task).filter(
        status__in=[S.ASSIGNED, S.CLAIMED, S.SUBMITTED, S.DISPUTED]).count()
    # A rejection still inside its dispute window may yet be disputed (or redone); after it, the rejection is final.
    from tasks.services.completion import DISPUTE_WINDOW

    open_count += TaskAssignment.objects.filter(task=task, status=S.REJECTED, resolved_at__isnull=True,
                                                decided_at__gt=now - DISPUTE_WINDOW).count()
    if open_count:
        raise TaskStateInvalid(_("还有 {open_count} 份工作未完成验收或申诉未处理，不能结束任务").format(open_count=open_count),
                               extra={"open": open_count})
    _decline_pending(task, now=now, actor=actor)
    before = task.status
    task.complete(at=now)
    task.save(update_fields=["status", "closed_at", "updated_at"])
    audit.record(event="tasks.task.completed", now=now, actor=actor, subject=task, before={"status": before},
                 after={"status": task.status})
    return task


@transaction.atomic
def task_cancel(*, merchant, task_id: int, actor, now) -> Task:
    """Cancel a task that was never published (draft, sent back or rejected). Raises TaskNotFound, TaskStateInvalid."""
    task = locks.task_for_update(task_id=task_id, merchant=merchant)
    if not can_proceed(task.cancel):
        raise _transition_error(task, _("取消"))
    if TaskAssignment.objects.filter(task=task).exclude(status__in=TaskAssignment.FINAL).exists():
        raise TaskStateInvalid(_("该任务已有人员报名或接取，不能取消；请重新提交审核后“停止接取”并完成验收"),
                               extra={"status": task.status})
    before = task.status
    task.cancel(at=now)
    task.save(update_fields=["status", "closed_at", "updated_at"])
    audit.record(event="tasks.task.cancelled", now=now, actor=actor, subject=task, before={"status": before},
                 after={"status": task.status})
    return task


def task_close_expired(*, now, batch_size: int = 500) -> int:
    """Stop taking workers on published tasks whose application deadline has passed (an hourly job).

    Each task is closed in its own transaction (``task_close``), so one failure does not hold back the rest.
    Returns how many were closed.
    """
    closed = 0
    ids = list(Task.objects.filter(status=Task.Status.APPROVED, deadline_at__lt=now)
               .order_by("deadline_at", "id").values_list("id", "merchant_id")[:batch_size])
    for task_id, merchant_id in ids:
        try:
            task_close(merchant=merchant_id, task_id=task_id, actor=None, now=now)
        except TaskStateInvalid:
            continue  # changed meanwhile (reopened, completed): nothing to do
        closed += 1
    return closed
