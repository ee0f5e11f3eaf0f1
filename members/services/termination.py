"""解约: either side ends a worker–enterprise relationship, once nothing is left open between them.

Preconditions (checked under the relationship row's lock): no payout to the worker in flight, no accepted work still
unpaid and no task assignment still in progress with this enterprise. On termination the relationship becomes
TERMINATED (with time, side, who and why), the signed cooperation agreement is marked terminated (its file is kept as
signed), and an audit record is written. Afterwards the worker is no longer eligible for this enterprise
(``members.selectors.worker_eligibility``), so tasks and payouts refuse them.

Lock order: the relationship row only; the agreement row and the audit log are the only other writes. Payout orders,
payable work and task assignments are read, not locked: a payout or an assignment started at the same instant is
caught by their own eligibility checks, which read the relationship's status.
"""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import require_capability
from core import audit
from core.exceptions import NotFound, ValidationFailed
from core.tenancy import get_for_tenant
from members.exceptions import NotTerminable, TerminationBlocked
from members.models import Agreement, Member, MemberMerchant

REASON_MAX_LENGTH = 500

# Task assignments that mean the work is still going on (neither final nor merely an open application/invitation):
# hired or claimed, proof submitted and awaiting acceptance, rejected (may be redone or disputed), under dispute.
ASSIGNMENT_IN_PROGRESS = ("ASSIGNED", "CLAIMED", "SUBMITTED", "REJECTED", "DISPUTED")
# Payout orders whose money has left (or is about to leave) the enterprise's balance: confirmed and in the channel.
PAYOUT_IN_FLIGHT = ("CONFIRMED", "SUBMITTING", "PROCESSING", "UNKNOWN")
WORK_UNPAID = ("READY", "RESERVED")


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写解约原因"), extra={"field": "reason", "form_field": "reason"})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationFailed(_("解约原因最多 {n} 个字").format(n=REASON_MAX_LENGTH),
                               extra={"field": "reason", "form_field": "reason"})
    return reason


def open_items(*, relationship: MemberMerchant) -> dict[str, int]:
    """What is still open between the worker and the enterprise (counts). Another app's tables are read through the
    app registry: members sits below tasks and payouts and must not import them at module level."""
    if relationship.member_id is None:
        return {"payouts_in_flight": 0, "work_unpaid": 0, "assignments_in_progress": 0}
    PayoutOrder = apps.get_model("payouts", "PayoutOrder")
    PayableWork = apps.get_model("tasks", "PayableWork")
    TaskAssignment = apps.get_model("tasks", "TaskAssignment")
    scope = {"merchant_id": relationship.merchant_id, "member_id": relationship.member_id}
    in_flight = list(PayoutOrder.objects.filter(status__in=PAYOUT_IN_FLIGHT, **scope).order_by("id")
                     .values_list("payable_id", flat=True))
    # work held by an in-flight order is counted once, as that payout
    unpaid = (PayableWork.objects.filter(status__in=WORK_UNPAID, **scope)
              .exclude(pk__in=[pk for pk in in_flight if pk is not None]).count())
    in_progress = TaskAssignment.objects.filter(status__in=ASSIGNMENT_IN_PROGRESS, **scope).count()
    return {"payouts_in_flight": len(in_flight), "work_unpaid": unpaid, "assignments_in_progress": in_progress}


def _check_terminable(relationship: MemberMerchant, *, side: str) -> None:
    if relationship.status == MemberMerchant.Status.TERMINATED:
        when = timezone.localtime(relationship.terminated_at)
        raise NotTerminable(_("该合作关系已于 {at:%Y-%m-%d %H:%M} 解除，无需重复操作").format(at=when),
                            extra={"relationship_id": relationship.pk})
    counts = open_items(relationship=relationship)
    if not any(counts.values()):
        return
    items, actions = [], []
    if counts["payouts_in_flight"]:
        items.append(_("{n} 笔在途付款").format(n=counts["payouts_in_flight"]))
    if counts["work_unpaid"]:
        items.append(_("{n} 笔已验收待付款的工作").format(n=counts["work_unpaid"]))
    if counts["payouts_in_flight"] or counts["work_unpaid"]:
        actions.append(_("完成付款") if side == MemberMerchant.Side.ENTERPRISE else _("等待企业完成付款"))
    if counts["assignments_in_progress"]:
        items.append(_("{n} 项进行中的任务").format(n=counts["assignments_in_progress"]))
        actions.append(_("结束进行中的任务（验收或由人员放弃）") if side == MemberMerchant.Side.ENTERPRISE
                       else _("完成或放弃进行中的任务"))
    if side == MemberMerchant.Side.ENTERPRISE:
        message = _("该人员在本企业还有 {items}，请先{actions}后再解约")
    else:
        message = _("您在该企业还有 {items}，请先{actions}后再解除合作")
    raise TerminationBlocked(message.format(items=_("、").join(items), actions=_("并").join(actions)),
                             extra={"relationship_id": relationship.pk, **counts})


def _terminate(relationship: MemberMerchant, *, side: str, by, actor, reason: str, now: dt.datetime,
               ip: str) -> MemberMerchant:
    _check_terminable(relationship, side=side)
    before = {"status": relationship.status}
    relationship.terminate(at=now, by=by, side=side, reason=reason)
    relationship.save(update_fields=["status", "terminated_at", "terminated_by", "terminated_by_side",
                                     "termination_reason", "invite_token", "updated_at"])
    agreement = Agreement.objects.filter(relationship=relationship, terminated_at__isnull=True).first()
    if agreement is not None:
        agreement.terminated_at = now
        agreement.save(update_fields=["terminated_at"])
    # the reason is free text a person typed (it may hold personal data): it stays on the row, the log has its length
    audit.record(event="members.relationship.terminated", now=now, actor=actor, subject=relationship, ip=ip or None,
                 before=before,
                 after={"status": relationship.status, "side": side, "name": relationship.invite_name_masked,
                        "agreement": agreement.number if agreement else "", "reason_length": len(reason)})
    return relationship


@transaction.atomic
def relationship_terminate(*, merchant, relationship_id: int, actor, now: dt.datetime, reason: str,
                           ip: str = "") -> MemberMerchant:
    """The enterprise ends its relationship with a worker (解约). Staff need the ``manage_workers`` capability.

    Raises RoleRequired, ValidationFailed (no reason), NotFound (also another enterprise's worker), NotTerminable
    (already terminated), TerminationBlocked (payouts in flight, unpaid work or tasks in progress; counts in extra).
    """
    if isinstance(actor, User):
        require_capability(actor, "manage_workers")
    reason = _clean_reason(reason)
    relationship = get_for_tenant(MemberMerchant.objects.select_for_update(), merchant=merchant, pk=relationship_id,
                                  message=_("未找到该人员，请刷新人员列表"))
    return _terminate(relationship, side=MemberMerchant.Side.ENTERPRISE, by=actor if isinstance(actor, User) else None,
                      actor=actor, reason=reason, now=now, ip=ip)


@transaction.atomic
def relationship_terminate_by_member(*, user, relationship_id: int, now: dt.datetime, reason: str,
                                     ip: str = "") -> MemberMerchant:
    """The worker ends their own relationship with an enterprise (解除合作).

    Raises ValidationFailed (no reason), NotFound (not one of theirs), NotTerminable, TerminationBlocked.
    """
    reason = _clean_reason(reason)
    member = Member.objects.filter(user=user).first()
    relationship = (MemberMerchant.objects.select_for_update().filter(pk=relationship_id, member=member).first()
                    if member is not None else None)
    if relationship is None:
        raise NotFound(_("未找到该企业关系，请从“我的企业”进入"))
    return _terminate(relationship, side=MemberMerchant.Side.WORKER, by=user, actor=user, reason=reason, now=now,
                      ip=ip)
