"""Row locks of the tasks app, always taken in one order: task → assignment → payable work (each by pk).

Claiming a slot, approving an application, accepting an invitation, splitting a task and accepting work all lock
the task row first, so the headcount and the budget are counted by one transaction at a time.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from tasks.exceptions import AssignmentNotFound, TaskNotFound
from tasks.models import Task, TaskAssignment


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:  # pragma: no cover - a programming error
        raise RuntimeError("row locks must be taken inside a transaction")


def task_for_update(*, task_id: int, merchant=None) -> Task:
    """The task row, locked. With ``merchant`` another tenant's task is "not found"."""
    _require_transaction()
    # of=("self",): the task row only; locking the joined category would serialise every task of that category.
    queryset = Task.objects.select_for_update(no_key=True, of=("self",)).select_related("category")
    if merchant is not None:
        queryset = queryset.filter(merchant_id=getattr(merchant, "pk", merchant))
    try:
        return queryset.get(pk=task_id)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise TaskNotFound(_("未找到该任务")) from None


def assignment_for_update(*, assignment_id: int, merchant=None, member=None) -> tuple[Task, TaskAssignment]:
    """The assignment and its task, both locked (task first). Scoped by tenant and/or by the worker."""
    _require_transaction()
    lookup = TaskAssignment.objects.filter(pk=assignment_id)
    if merchant is not None:
        lookup = lookup.filter(merchant_id=getattr(merchant, "pk", merchant))
    if member is not None:
        lookup = lookup.filter(member_id=getattr(member, "pk", member))
    try:
        task_id = lookup.values_list("task_id", flat=True).get()
    except (TaskAssignment.DoesNotExist, ValueError, TypeError):
        raise AssignmentNotFound(_("未找到该任务接取记录")) from None
    task = task_for_update(task_id=task_id)
    # of=("self",): lock the assignment only, never the joined member row (the members app locks those).
    assignment = (TaskAssignment.objects.select_for_update(no_key=True, of=("self",)).select_related("member")
                  .get(pk=assignment_id))
    return task, assignment


def member_assignment_for_update(*, assignment_id: int, member) -> tuple[Task, TaskAssignment]:
    """The worker's own assignment (and its task), locked. Anybody else's is "not found"."""
    if member is None or getattr(member, "pk", None) is None:
        raise AssignmentNotFound(_("未找到该任务接取记录"))
    return assignment_for_update(assignment_id=assignment_id, member=member)
