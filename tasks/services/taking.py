"""任务接取: apply and be approved, claim first-come, be invited, or be given a sub-task (分包).

Every path that takes one of the task's headcount slots locks the task row first (``locks.task_for_update``) and
counts the slots held under that lock, so the headcount is never exceeded however many workers press at once.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from core import audit
from core.money import format_cny, round_fen
from members.models import Member
from members.selectors import worker_eligibility
from tasks import locks
from tasks.exceptions import (
    AlreadyTaken,
    AssignmentStateInvalid,
    HeadcountFull,
    QuantityInvalid,
    TaskClosedForTaking,
    TaskInvalid,
    WorkerNotEligible,
)
from tasks.inputs import PartData
from tasks.models import PayableWork, Task, TaskAssignment
from tasks.notify import notify_worker


def slots_taken(task: Task) -> int:
    return TaskAssignment.objects.filter(task=task, status__in=TaskAssignment.HOLDING).count()


def committed_fen(task: Task) -> int:
    """What the task's slots may cost at most: planned quantity × unit price of every slot held, or accepted amounts."""
    total = 0
    for assignment in TaskAssignment.objects.filter(task=task, status__in=TaskAssignment.HOLDING).only(
            "planned_quantity", "status").order_by("id"):
        total += round_fen(assignment.planned_quantity * task.unit_price_fen)
    return total


def require_eligible(*, member: Member | None, merchant) -> None:
    eligibility = worker_eligibility(member=member, merchant=merchant)
    if not eligibility.ok:
        steps = "；".join(item["message"] for item in eligibility.missing)
        raise WorkerNotEligible(_("暂不能接取该企业的任务：{steps}").format(steps=steps), extra={"missing": eligibility.missing})


def _require_open(task: Task, *, now) -> None:
    if task.status != Task.Status.APPROVED:
        raise TaskClosedForTaking(_("任务当前“{status}”，不能报名或接取").format(status=task.get_status_display()), extra={"status": task.status})
    if now > task.deadline_at:
        raise TaskClosedForTaking(_("任务报名已截止"), extra={"deadline_at": task.deadline_at.isoformat()})


def _require_slot(task: Task, *, needed: int = 1) -> None:
    taken = slots_taken(task)
    if taken + needed > task.headcount:
        raise HeadcountFull(_("名额已满（共 {headcount} 人，已有 {taken} 人）").format(headcount=task.headcount, taken=taken),
                            extra={"headcount": task.headcount, "taken": taken})


def _require_not_on_task(task: Task, member: Member) -> None:
    live = TaskAssignment.objects.filter(task=task, member=member, part_no__isnull=True).exclude(
        status__in=[TaskAssignment.Status.DECLINED, TaskAssignment.Status.WITHDRAWN]).order_by("id").first()
    if live is not None:
        raise AlreadyTaken(_("您已在该任务中（{status}）").format(status=live.get_status_display()), extra={"assignment_id": live.pk})


def _new_assignment(task: Task, member: Member, *, status: str, now, match_score=None, **fields) -> TaskAssignment:
    return TaskAssignment.objects.create(
        merchant_id=task.merchant_id, task=task, member=member, status=status, applied_at=now,
        planned_quantity=fields.pop("planned_quantity", task.quantity_per_worker), match_score=match_score, **fields)


@transaction.atomic
def task_apply(*, member: Member | None, task_id: int, now) -> TaskAssignment:
    """A worker applies for a task that the enterprise staffs by approval (报名).

    Raises TaskNotFound, TaskClosedForTaking, WorkerNotEligible, AlreadyTaken, HeadcountFull.
    """
    task = locks.task_for_update(task_id=task_id)
    _require_open(task, now=now)
    require_eligible(member=member, merchant=task.merchant)
    if task.take_mode != Task.TakeMode.APPLY:
        raise TaskClosedForTaking(_("该任务先到先得，请直接点“接取”"), extra={"take_mode": task.take_mode})
    _require_not_on_task(task, member)
    _require_slot(task)
    assignment = _new_assignment(task, member, status=TaskAssignment.Status.APPLIED, now=now)
    audit.record(event="tasks.assignment.applied", now=now, actor=member.user, subject=assignment,
                 after={"status": assignment.status, "task_id": task.pk})
    return assignment


@transaction.atomic
def task_claim(*, member: Member | None, task_id: int, now) -> TaskAssignment:
    """A worker claims a slot of a first-come task (先到先得). The task row is locked while the slots are counted.

    Raises TaskNotFound, TaskClosedForTaking, WorkerNotEligible, AlreadyTaken, HeadcountFull.
    """
    task = locks.task_for_update(task_id=task_id)
    _require_open(task, now=now)
    require_eligible(member=member, merchant=task.merchant)
    if task.take_mode != Task.TakeMode.CLAIM:
        raise TaskClosedForTaking(_("该任务需要报名并由企业录用，请点“报名”"), extra={"take_mode": task.take_mode})
    _require_not_on_task(task, member)
    _require_slot(task)
    assignment = _new_assignment(task, member, status=TaskAssignment.Status.CLAIMED, now=now, assigned_at=now)
    audit.record(event="tasks.assignment.claimed", now=now, actor=member.user, subject=assignment,
                 after={"status": assignment.status, "task_id": task.pk})
    return assignment


@transaction.atomic
def assignment_approve(*, merchant, assignment_id: int, actor, now) -> TaskAssignment:
    """The enterprise takes on an applicant (录用). Raises AssignmentNotFound, AssignmentStateInvalid,
    TaskClosedForTaking, WorkerNotEligible, HeadcountFull."""
    task, assignment = locks.assignment_for_update(assignment_id=assignment_id, merchant=merchant)
    if not can_proceed(assignment.approve):
        raise AssignmentStateInvalid(_("该报名当前“{status}”，不能录用").format(status=assignment.get_status_display()))
    if task.status != Task.Status.APPROVED:
        raise TaskClosedForTaking(_("任务当前“{status}”，不能录用").format(status=task.get_status_display()))
    require_eligible(member=assignment.member, merchant=merchant)
    _require_slot(task)
    assignment.approve(at=now)
    assignment.save(update_fields=["status", "assigned_at", "updated_at"])
    audit.record(event="tasks.assignment.approved", now=now, actor=actor, subject=assignment,
                 before={"status": "APPLIED"}, after={"status": assignment.status})
    notify_worker(assignment.member, text=f"您已被录用：“{task.title}”，请按时到场。详情见“我的任务”。", now=now)
    return assignment


@transaction.atomic
def assignment_decline(*, merchant, assignment_id: int, actor, now) -> TaskAssignment:
    """The enterprise turns an applicant down. Raises AssignmentNotFound, AssignmentStateInvalid."""
    _task, assignment = locks.assignment_for_update(assignment_id=assignment_id, merchant=merchant)
    if assignment.status != TaskAssignment.Status.APPLIED:
        raise AssignmentStateInvalid(_("该报名当前“{status}”，不能谢绝").format(status=assignment.get_status_display()))
    assignment.decline(at=now)
    assignment.save(update_fields=["status", "decided_at", "updated_at"])
    audit.record(event="tasks.assignment.declined", now=now, actor=actor, subject=assignment,
                 before={"status": "APPLIED"}, after={"status": assignment.status})
    return assignment


@transaction.atomic
def task_invite(*, merchant, task_id: int, member_ids: list[int], actor, now,
                scores: dict[int, int] | None = None) -> list[TaskAssignment]:
    """Invite workers (usually the recommended ones) to a published task. All or nothing.

    Raises TaskNotFound, TaskClosedForTaking, TaskInvalid (unknown or duplicate worker), WorkerNotEligible, AlreadyTaken.
    """
    task = locks.task_for_update(task_id=task_id, merchant=merchant)
    _require_open(task, now=now)
    ids = list(dict.fromkeys(int(i) for i in member_ids))
    if not ids:
        raise TaskInvalid(_("请至少选择一位灵工人员"), extra={"field": "member_ids"})
    members = {m.pk: m for m in Member.objects.filter(pk__in=ids)}
    created = []
    for member_id in ids:
        member = members.get(member_id)
        if member is None:
            raise TaskInvalid(_("灵工人员 #{member_id} 不存在").format(member_id=member_id), extra={"field": "member_ids", "member_id": member_id})
        try:
            require_eligible(member=member, merchant=merchant)
            _require_not_on_task(task, member)
        except (WorkerNotEligible, AlreadyTaken) as error:
            raise type(error)(_("灵工人员 #{member_id}：{message}").format(member_id=member_id, message=error.message),
                              extra={**error.extra, "member_id": member_id}) from None
        assignment = _new_assignment(task, member, status=TaskAssignment.Status.INVITED, now=now,
                                     match_score=(scores or {}).get(member_id))
        audit.record(event="tasks.assignment.invited", now=now, actor=actor, subject=assignment,
                     after={"status": assignment.status, "task_id": task.pk, "match_score": assignment.match_score})
        notify_worker(member, text=f"{task.merchant.name} 邀请您参加任务“{task.title}”，请在“我的任务”中回复。", now=now)
        created.append(assignment)
    return created


@transaction.atomic
def assignment_respond_invitation(*, member: Member | None, assignment_id: int, accept: bool, now) -> TaskAssignment:
    """The invited worker accepts (takes a slot) or declines. Raises AssignmentNotFound, AssignmentStateInvalid,
    TaskClosedForTaking, WorkerNotEligible, HeadcountFull."""
    task, assignment = locks.member_assignment_for_update(assignment_id=assignment_id, member=member)
    if assignment.status != TaskAssignment.Status.INVITED:
        raise AssignmentStateInvalid(_("该邀请当前“{status}”，不能再回复").format(status=assignment.get_status_display()))
    if accept:
        _require_open(task, now=now)
        require_eligible(member=member, merchant=task.merchant)
        _require_slot(task)
        assignment.accept_invitation(at=now)
        fields = ["status", "assigned_at", "updated_at"]
    else:
        assignment.decline(at=now)
        fields = ["status", "decided_at", "updated_at"]
    assignment.save(update_fields=fields)
    audit.record(event="tasks.assignment.invitation_" + ("accepted" if accept else "declined"), now=now,
                 actor=member.user, subject=assignment, before={"status": "INVITED"}, after={"status": assignment.status})
    return assignment


@transaction.atomic
def assignment_withdraw(*, member: Member | None, assignment_id: int, now) -> TaskAssignment:
    """The worker gives up before the work is submitted; the slot is freed. Raises AssignmentNotFound,
    AssignmentStateInvalid."""
    _task, assignment = locks.member_assignment_for_update(assignment_id=assignment_id, member=member)
    if not can_proceed(assignment.withdraw):
        raise AssignmentStateInvalid(_("当前“{status}”，不能放弃").format(status=assignment.get_status_display()))
    before = assignment.status
    assignment.withdraw(at=now)
    assignment.save(update_fields=["status", "decided_at", "updated_at"])
    audit.record(event="tasks.assignment.withdrawn", now=now, actor=member.user, subject=assignment,
                 before={"status": before}, after={"status": assignment.status})
    return assignment


@transaction.atomic
def task_split(*, merchant, task_id: int, parts: list[PartData], actor, now) -> list[TaskAssignment]:
    """分包: split a published task into sub-tasks, one per worker, each with its own quantity, proof and acceptance.

    All or nothing. Every part takes one headcount slot; the parts' cost (quantity × unit price) plus the slots
    already held must stay within the budget. Raises TaskNotFound, TaskClosedForTaking, TaskInvalid, QuantityInvalid,
    WorkerNotEligible, HeadcountFull.
    """
    task = locks.task_for_update(task_id=task_id, merchant=merchant)
    if task.status != Task.Status.APPROVED:
        raise TaskClosedForTaking(_("任务当前“{status}”，只有已发布的任务可以分包").format(status=task.get_status_display()))
    if not parts:
        raise TaskInvalid(_("请至少添加一个分包"), extra={"field": "parts"})
    _require_slot(task, needed=len(parts))
    members = {m.pk: m for m in Member.objects.filter(pk__in=[p.member_id for p in parts])}
    cost = 0
    for index, part in enumerate(parts, start=1):
        if not (part.title or "").strip():
            raise TaskInvalid(_("第 {index} 个分包：请填写分包内容").format(index=index), extra={"field": "parts", "part": index})
        quantity = Decimal(part.quantity)
        if quantity <= 0 or quantity != quantity.quantize(Decimal("0.01")):
            raise QuantityInvalid(_("第 {index} 个分包：数量必须大于 0，最多两位小数").format(index=index), extra={"part": index})
        member = members.get(part.member_id)
        if member is None:
            raise TaskInvalid(_("第 {index} 个分包：灵工人员 #{member_id} 不存在").format(index=index, member_id=part.member_id), extra={"part": index})
        try:
            require_eligible(member=member, merchant=merchant)
        except WorkerNotEligible as error:
            raise WorkerNotEligible(_("第 {index} 个分包（人员 #{pk}）：{message}").format(index=index, pk=member.pk, message=error.message),
                                    extra={**error.extra, "part": index}) from None
        cost += round_fen(quantity * task.unit_price_fen)
    committed = committed_fen(task)
    if committed + cost > task.budget_fen:
        raise QuantityInvalid(
            _("分包金额 {cost} 加上已占用的 {committed} 超过任务预算 {budget_fen}").format(cost=format_cny(cost), committed=format_cny(committed), budget_fen=format_cny(task.budget_fen)),
            extra={"cost_fen": cost, "committed_fen": committed, "budget_fen": task.budget_fen})
    last_no = (TaskAssignment.objects.filter(task=task, part_no__isnull=False).order_by("-part_no")
               .values_list("part_no", flat=True).first() or 0)
    created = []
    for offset, part in enumerate(parts, start=1):
        assignment = _new_assignment(task, members[part.member_id], status=TaskAssignment.Status.ASSIGNED, now=now,
                                     assigned_at=now, part_no=last_no + offset, part_title=part.title.strip()[:100],
                                     planned_quantity=Decimal(part.quantity))
        audit.record(event="tasks.assignment.part_assigned", now=now, actor=actor, subject=assignment,
                     after={"status": assignment.status, "part_no": assignment.part_no,
                            "quantity": str(assignment.planned_quantity)})
        notify_worker(assignment.member, text=f"您收到分包任务“{task.title}”：{assignment.part_title}，详情见“我的任务”。",
                      now=now)
        created.append(assignment)
    return created


def payable_total_fen(task: Task) -> int:
    return sum(PayableWork.objects.filter(task=task).values_list("amount_fen", flat=True))
