"""Reads of the tasks app. Enterprise reads are tenant-scoped (another tenant's row is "not found"); worker reads are
scoped to open tasks and to the worker's own assignments."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from core.models import AuditRecord
from tasks import geo
from tasks.exceptions import AssignmentNotFound, ProofFileNotFound, TaskNotFound
from tasks.models import (
    Evaluation,
    MerchantCategory,
    PayableWork,
    ProofFile,
    Task,
    TaskAssignment,
    TaskCategory,
    WorkerProfile,
)


def _pk(obj):
    return getattr(obj, "pk", obj)


# --- enterprise side ------------------------------------------------------------------------------------------

def task_list(*, merchant, status: str | None = None, q: str = "") -> QuerySet[Task]:
    qs = Task.objects.for_tenant(merchant).select_related("category").annotate(
        taken=Count("assignments", filter=Q(assignments__status__in=TaskAssignment.HOLDING)),
        waiting=Count("assignments", filter=Q(assignments__status=TaskAssignment.Status.SUBMITTED)),
    )
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(description__icontains=q))
    return qs.order_by("-created_at", "-id")


def task_get(*, merchant, task_id: int) -> Task:
    try:
        return Task.objects.for_tenant(merchant).select_related("category", "created_by", "reviewed_by").get(pk=task_id)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise TaskNotFound(_("未找到该任务")) from None


def assignment_list(*, merchant, task_id: int | None = None, status: str | None = None) -> QuerySet[TaskAssignment]:
    qs = TaskAssignment.objects.for_tenant(merchant).select_related("member", "task", "payable")
    if task_id is not None:
        qs = qs.filter(task_id=task_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("part_no", "applied_at", "id")


def assignment_get(*, merchant, assignment_id: int) -> TaskAssignment:
    try:
        return (TaskAssignment.objects.for_tenant(merchant).select_related("member", "task", "task__category")
                .get(pk=assignment_id))
    except (TaskAssignment.DoesNotExist, ValueError, TypeError):
        raise AssignmentNotFound(_("未找到该任务接取记录")) from None


def approved_category_list(*, merchant) -> list[TaskCategory]:
    ids = MerchantCategory.objects.for_tenant(merchant).values_list("category_id", flat=True)
    return list(TaskCategory.objects.filter(pk__in=ids, is_active=True).order_by("code", "id"))


def payable_work_list(*, merchant, status: str | None = PayableWork.Status.READY, task_id: int | None = None,
                      ids: list[int] | None = None, member_id: int | None = None) -> QuerySet[PayableWork]:
    """"Ready to pay" (待付款) by default; ``status=None`` lists all. Amounts in fen. Another tenant's rows never
    appear (an id of theirs in ``ids`` is simply not returned)."""
    qs = PayableWork.objects.for_tenant(merchant).select_related("task", "member", "assignment")
    if status:
        qs = qs.filter(status=status)
    if task_id is not None:
        qs = qs.filter(task_id=task_id)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    if member_id is not None:
        qs = qs.filter(member_id=member_id)
    return qs.order_by("accepted_at", "id")


def payable_work_get(*, merchant, payable_id: int) -> PayableWork:
    try:
        return PayableWork.objects.for_tenant(merchant).select_related("task", "member").get(pk=payable_id)
    except (PayableWork.DoesNotExist, ValueError, TypeError):
        from tasks.exceptions import PayableNotFound

        raise PayableNotFound(_("未找到该待付款工作")) from None


def payable_work_total_fen(*, merchant, status: str = PayableWork.Status.READY) -> int:
    return PayableWork.objects.for_tenant(merchant).filter(status=status).aggregate(s=Sum("amount_fen"))["s"] or 0


def proof_file_get(*, merchant, file_id: int) -> ProofFile:
    try:
        return ProofFile.objects.for_tenant(merchant).get(pk=file_id)
    except (ProofFile.DoesNotExist, ValueError, TypeError):
        raise ProofFileNotFound(_("未找到该文件")) from None


def task_summary(*, merchant) -> dict:
    counts = dict(Task.objects.for_tenant(merchant).values_list("status").annotate(n=Count("id")).order_by())
    waiting = TaskAssignment.objects.for_tenant(merchant).filter(status=TaskAssignment.Status.SUBMITTED).count()
    return {"counts": counts, "waiting_acceptance": waiting, "ready_fen": payable_work_total_fen(merchant=merchant)}


# --- worker side ----------------------------------------------------------------------------------------------

NEAR_ME_MAX_M = 100_000  # "near me" looks 100 km around the worker; remote tasks are always listed after


@dataclass
class OpenTask:
    task: Task
    distance_m: int | None
    slots_left: int

    @property
    def distance_text(self) -> str:
        return geo.format_distance(self.distance_m)


def open_task_list(*, q: str = "", category: str = "", pricing_mode: str = "", min_price_fen: int | None = None,
                   city: str = "", origin: tuple[Decimal, Decimal] | None = None, limit: int = 200) -> list[OpenTask]:
    """Published tasks a worker may look at, filtered; with ``origin`` (phone location or a typed city's centre)
    sorted by distance (remote tasks last), otherwise newest first. Full tasks are left out."""
    qs = Task.objects.filter(status=Task.Status.APPROVED).select_related("category", "merchant").annotate(
        taken=Count("assignments", filter=Q(assignments__status__in=TaskAssignment.HOLDING)))
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(description__icontains=q) | Q(address__icontains=q))
    if category:
        qs = qs.filter(category__code=category)
    if pricing_mode:
        qs = qs.filter(pricing_mode=pricing_mode)
    if min_price_fen:
        qs = qs.filter(unit_price_fen__gte=min_price_fen)
    if city and origin is None:
        qs = qs.filter(Q(city=geo.normalise_city(city)) | Q(is_remote=True))
    if origin is not None:
        # A bounding box in the database (indexable, cheap), the exact haversine distance in Python.
        south, west, north, east = geo.bounding_box(origin[0], origin[1], radius_m=NEAR_ME_MAX_M)
        qs = qs.filter(Q(is_remote=True) | Q(latitude__range=(south, north), longitude__range=(west, east)))
        candidates = qs.order_by("-published_at", "-id")
    else:
        candidates = qs.order_by("-published_at", "-id")[: limit * 2]
    rows = []
    for task in candidates:
        slots_left = task.headcount - task.taken
        if slots_left <= 0:
            continue
        distance = None
        if origin is not None and not task.is_remote:
            distance = geo.distance_m(origin[0], origin[1], task.latitude, task.longitude)
        rows.append(OpenTask(task=task, distance_m=distance, slots_left=slots_left))
    if origin is not None:
        rows.sort(key=lambda r: (r.distance_m is None, r.distance_m or 0, -r.task.pk))
    return rows[:limit]


def task_for_worker(*, member, task_id: int) -> Task:
    """A published task, or any task the worker has a part in; anything else is "not found"."""
    visible = Q(status=Task.Status.APPROVED)
    if member is not None:
        visible |= Q(assignments__member=member)
    task = (Task.objects.filter(visible, pk=task_id).select_related("category", "merchant").distinct()
            .order_by("id").first()) if str(task_id).isdigit() else None
    if task is None:
        raise TaskNotFound(_("未找到该任务，或任务已下架"))
    return task


def member_assignment_list(*, member, active_only: bool = False) -> QuerySet[TaskAssignment]:
    if member is None:
        return TaskAssignment.objects.none()
    qs = TaskAssignment.objects.filter(member=member).select_related("task", "task__merchant", "payable")
    if active_only:
        qs = qs.exclude(status__in=TaskAssignment.FINAL)
    return qs.order_by("-applied_at", "-id")


def member_assignment_get(*, member, assignment_id: int) -> TaskAssignment:
    if member is None:
        raise AssignmentNotFound(_("未找到该任务接取记录"))
    try:
        return (TaskAssignment.objects.filter(member=member).select_related("task", "task__merchant", "task__category")
                .get(pk=assignment_id))
    except (TaskAssignment.DoesNotExist, ValueError, TypeError):
        raise AssignmentNotFound(_("未找到该任务接取记录")) from None


def member_assignment_on_task(*, member, task: Task) -> TaskAssignment | None:
    if member is None:
        return None
    return (TaskAssignment.objects.filter(member=member, task=task).exclude(
        status__in=[TaskAssignment.Status.DECLINED, TaskAssignment.Status.WITHDRAWN]).order_by("-id").first())


def member_proof_file_get(*, member, file_id: int) -> ProofFile:
    if member is None:
        raise ProofFileNotFound(_("未找到该文件"))
    try:
        return ProofFile.objects.get(pk=file_id, assignment__member=member)
    except (ProofFile.DoesNotExist, ValueError, TypeError):
        raise ProofFileNotFound(_("未找到该文件")) from None


def worker_profile_of(*, member) -> WorkerProfile | None:
    if member is None:
        return None
    return WorkerProfile.objects.filter(member=member).first()


# --- ratings and history ---------------------------------------------------------------------------------------

def worker_rating(*, member) -> tuple[Decimal | None, int]:
    """Average stars enterprises gave this worker, across the platform (only the figure, never the comments)."""
    row = Evaluation.objects.filter(member=member, direction=Evaluation.Direction.OF_WORKER).aggregate(
        avg=Avg("stars"), n=Count("id"))
    return (Decimal(str(row["avg"])).quantize(Decimal("0.1")) if row["avg"] is not None else None), row["n"]


def worker_ratings(*, member_ids: list[int]) -> dict[int, tuple[Decimal, int]]:
    """``worker_rating`` for many workers in one query: {member_id: (average stars, count)} for those rated."""
    rows = (Evaluation.objects.filter(member_id__in=member_ids, direction=Evaluation.Direction.OF_WORKER)
            .values("member_id").annotate(avg=Avg("stars"), n=Count("id")).order_by("member_id"))
    return {row["member_id"]: (Decimal(str(row["avg"])).quantize(Decimal("0.1")), row["n"]) for row in rows}


def merchant_rating(*, merchant) -> tuple[Decimal | None, int]:
    row = Evaluation.objects.for_tenant(merchant).filter(direction=Evaluation.Direction.OF_ENTERPRISE).aggregate(
        avg=Avg("stars"), n=Count("id"))
    return (Decimal(str(row["avg"])).quantize(Decimal("0.1")) if row["avg"] is not None else None), row["n"]


def evaluation_list(*, assignment) -> list[Evaluation]:
    return list(Evaluation.objects.filter(assignment=assignment).order_by("at", "id"))


def task_history(*, task: Task) -> list[AuditRecord]:
    """Every audited step of the task and of its assignments, oldest first (for operations)."""
    assignment_ids = [str(i) for i in TaskAssignment.objects.filter(task=task).values_list("id", flat=True)]
    return list(AuditRecord.objects.filter(
        Q(subject_type="tasks.task", subject_id=str(task.pk))
        | Q(subject_type="tasks.taskassignment", subject_id__in=assignment_ids)).order_by("seq"))
