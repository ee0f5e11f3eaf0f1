"""完工证明与验收: check-in, proof, acceptance (yielding payable work), rejection, dispute, and evaluation both ways.

Amounts are integer fen: a payable item is ``round_fen(accepted quantity × unit price)``, rounded once, here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from core import audit
from core.money import format_cny, round_fen
from members.models import Member
from tasks import files as proof_files
from tasks import geo, locks
from tasks.actors import user_of
from tasks.exceptions import (
    AssignmentStateInvalid,
    BudgetExceeded,
    CheckInRefused,
    EvaluationInvalid,
    ProofInvalid,
    QuantityInvalid,
    TaskInvalid,
)
from tasks.models import CheckIn, Evaluation, PayableWork, PricingMode, ProofFile, ProofKind, Task, TaskAssignment
from tasks.notify import notify_worker

CHECK_IN_EARLY = dt.timedelta(hours=1)
DISPUTE_WINDOW = dt.timedelta(days=7)  # a rejection may be disputed within 7 days; after that it is final
CHECK_OUT_LATE = dt.timedelta(hours=2)


def _location(latitude, longitude) -> tuple[Decimal | None, Decimal | None]:
    if latitude in (None, "") and longitude in (None, ""):
        return None, None
    try:
        return geo.parse_coordinate(latitude, kind="lat"), geo.parse_coordinate(longitude, kind="lng")
    except ValueError as error:
        raise CheckInRefused(str(error), extra={"field": "latitude"}) from None


@transaction.atomic
def assignment_check_in(*, member: Member | None, assignment_id: int, kind: str, latitude, longitude, now) -> CheckIn:
    """签到/签退 at the task's place: within its radius and around its schedule.

    Raises AssignmentNotFound, AssignmentStateInvalid, CheckInRefused (with the distance or the allowed times).
    """
    task, assignment = locks.member_assignment_for_update(assignment_id=assignment_id, member=member)
    if assignment.status not in TaskAssignment.WORKING:
        raise AssignmentStateInvalid(_("当前“{status}”，不能签到").format(status=assignment.get_status_display()))
    if kind not in CheckIn.Kind.values:
        raise CheckInRefused(_("签到类型必须是签到（IN）或签退（OUT）"), extra={"field": "kind"})
    lat, lng = _location(latitude, longitude)
    distance = None
    if not task.is_remote:
        if lat is None:
            raise CheckInRefused(_("现场任务签到需要定位：请允许浏览器获取您的位置后重试"), extra={"field": "latitude"})
        distance = geo.distance_m(lat, lng, task.latitude, task.longitude)
        if distance > task.radius_m:
            raise CheckInRefused(
                _("您距离任务地点约 {value}，超出签到范围 {value2}；请到达“{address}”后再签到").format(value=geo.format_distance(distance), value2=geo.format_distance(task.radius_m), address=task.address), extra={"distance_m": distance, "radius_m": task.radius_m})
    existing = {c.kind: c for c in CheckIn.objects.filter(assignment=assignment)}
    if kind in existing:
        raise CheckInRefused(_("您已经{label}过了（{at:%m-%d %H:%M}）").format(label=CheckIn.Kind(kind).label, at=existing[kind].at))
    local = dt.timezone(dt.timedelta(hours=8))
    if kind == CheckIn.Kind.IN:
        if not task.starts_at - CHECK_IN_EARLY <= now <= task.ends_at:
            raise CheckInRefused(
                _("任务时间为 {value:%m-%d %H:%M} 至 {value2:%m-%d %H:%M}，开始前 1 小时起可以签到").format(value=task.starts_at.astimezone(local), value2=task.ends_at.astimezone(local)), extra={"starts_at": task.starts_at.isoformat()})
    else:
        if CheckIn.Kind.IN not in existing:
            raise CheckInRefused(_("请先签到，再签退"))
        if now > task.ends_at + CHECK_OUT_LATE:
            raise CheckInRefused(_("已超过任务结束后 2 小时，不能再签退；请在完工说明中写明实际离开时间"))
    check_in = CheckIn.objects.create(merchant_id=task.merchant_id, assignment=assignment, kind=kind, latitude=lat,
                                      longitude=lng, distance_m=distance, at=now)
    audit.record(event=f"tasks.assignment.check_{'in' if kind == 'IN' else 'out'}", now=now, actor=member.user,
                 subject=assignment, after={"distance_m": distance, "at": now.isoformat()})
    return check_in


def _parse_quantity(value, *, field: str = "quantity") -> Decimal | None:
    if value in (None, ""):
        return None
    if isinstance(value, float):
        raise QuantityInvalid(_("数量请以文本或整数提供，不接受浮点数"), extra={"field": field})
    try:
        quantity = Decimal(str(value).strip())
    except InvalidOperation:
        raise QuantityInvalid(_("数量“{value}”不是数字").format(value=value), extra={"field": field}) from None
    if not quantity.is_finite() or quantity <= 0 or quantity != quantity.quantize(Decimal("0.01")):
        raise QuantityInvalid(_("数量必须大于 0，最多两位小数（收到 {value}）").format(value=value), extra={"field": field})
    return quantity


def _within_plan(assignment: TaskAssignment, quantity: Decimal, *, field: str) -> Decimal:
    if quantity > assignment.planned_quantity:
        raise QuantityInvalid(_("数量 {quantity} 超过计划数量 {planned_quantity}").format(quantity=quantity, planned_quantity=assignment.planned_quantity), extra={"field": field})
    return quantity


@transaction.atomic
def assignment_submit_proof(*, member: Member | None, assignment_id: int, text: str = "", quantity=None,
                            photos: list | None = None, files: list | None = None, now) -> TaskAssignment:
    """提交完工证明: the proof the task requires (photos, files, text, check-in, quantity). All or nothing.

    Files are checked (type by content, size) before anything is written; if anything fails afterwards, the files
    already written are removed. Raises AssignmentNotFound, AssignmentStateInvalid, ProofInvalid, QuantityInvalid.
    """
    task, assignment = locks.member_assignment_for_update(assignment_id=assignment_id, member=member)
    if not can_proceed(assignment.submit_proof):
        raise AssignmentStateInvalid(_("当前“{status}”，不能提交完工证明").format(status=assignment.get_status_display()))
    if now < task.starts_at:
        raise ProofInvalid(_("任务尚未开始，开始后才能提交完工证明"), extra={"starts_at": task.starts_at.isoformat()})
    photos, files = list(photos or []), list(files or [])
    if len(photos) + len(files) > proof_files.MAX_PROOF_FILES:
        raise ProofInvalid(_("一次最多上传 {MAX_PROOF_FILES} 个文件").format(MAX_PROOF_FILES=proof_files.MAX_PROOF_FILES))
    checked = [proof_files.check_upload(u, kind=ProofFile.Kind.PHOTO, index=i) for i, u in enumerate(photos, 1)]
    checked += [proof_files.check_upload(u, kind=ProofFile.Kind.FILE, index=i) for i, u in enumerate(files, 1)]
    text = (text or "").strip()
    if len(text) > 2000:
        raise ProofInvalid(_("完工说明最多 2000 字"), extra={"field": "text"})
    kinds = set(task.proof_kinds)
    existing = set(ProofFile.objects.filter(assignment=assignment).values_list("kind", flat=True))
    have = existing | {c.kind for c in checked}
    if ProofKind.PHOTO in kinds and ProofFile.Kind.PHOTO not in have:
        raise ProofInvalid(_("该任务要求上传现场照片，请至少上传 1 张照片"), extra={"field": "photos"})
    if ProofKind.FILE in kinds and ProofFile.Kind.FILE not in have:
        raise ProofInvalid(_("该任务要求上传交付文件，请至少上传 1 个文件"), extra={"field": "files"})
    if ProofKind.TEXT in kinds and len(text) < 5:
        raise ProofInvalid(_("该任务要求文字说明，请用至少 5 个字说明完成情况"), extra={"field": "text"})
    if ProofKind.CHECKIN in kinds and not CheckIn.objects.filter(assignment=assignment, kind=CheckIn.Kind.IN).exists():
        raise ProofInvalid(_("该任务要求现场签到，请先在任务地点签到"), extra={"field": "check_in"})
    parsed = _parse_quantity(quantity)
    if task.pricing_mode == PricingMode.FIXED:
        parsed = Decimal("1")
    elif parsed is None:
        raise QuantityInvalid(_("请填写完成的{value}").format(value=_('件数') if task.pricing_mode == PricingMode.PIECE else _('小时数')),
                              extra={"field": "quantity"})
    parsed = _within_plan(assignment, parsed, field="quantity")
    stored: list[ProofFile] = []
    try:
        for item in checked:
            proof = ProofFile(merchant_id=task.merchant_id, assignment=assignment, kind=item.kind,
                              original_name=item.original_name, content_type=item.content_type, size=item.size,
                              sha256=item.sha256, uploaded_at=now)
            proof.file.save(item.sha256, item.upload, save=False)
            stored.append(proof)
            proof.save()
        before = assignment.status
        assignment.submit_proof(at=now, text=text, quantity=parsed)
        assignment.save(update_fields=["status", "submitted_at", "proof_text", "reported_quantity", "reject_reason",
                                       "updated_at"])
        audit.record(event="tasks.assignment.proof_submitted", now=now, actor=member.user, subject=assignment,
                     before={"status": before},
                     after={"status": assignment.status, "quantity": str(parsed),
                            "files": [{"kind": p.kind, "sha256": p.sha256, "size": p.size} for p in stored]})
    except BaseException:
        for proof in stored:
            proof.file.delete(save=False)
        raise
    return assignment


def _payable_for(task: Task, assignment: TaskAssignment, quantity: Decimal, *, now) -> PayableWork:
    amount = round_fen(quantity * task.unit_price_fen)
    paid_or_owed = sum(PayableWork.objects.filter(task=task).values_list("amount_fen", flat=True))
    if paid_or_owed + amount > task.budget_fen:
        raise BudgetExceeded(
            _("验收金额 {amount} 加上已验收的 {paid_or_owed} 超过任务预算 {budget_fen}；请减少验收数量，或修改任务提高预算").format(amount=format_cny(amount), paid_or_owed=format_cny(paid_or_owed), budget_fen=format_cny(task.budget_fen)),
            extra={"amount_fen": amount, "accepted_fen": paid_or_owed, "budget_fen": task.budget_fen})
    return PayableWork.objects.create(merchant_id=task.merchant_id, task=task, assignment=assignment,
                                      member_id=assignment.member_id, quantity=quantity,
                                      unit_price_fen=task.unit_price_fen, amount_fen=amount, accepted_at=now)


@transaction.atomic
def assignment_accept(*, merchant, assignment_id: int, actor, now, quantity=None) -> PayableWork:
    """验收通过: the enterprise accepts the work; a payable item (quantity × unit price) becomes ready to pay.

    ``quantity`` defaults to what the worker reported. Raises AssignmentNotFound, AssignmentStateInvalid,
    QuantityInvalid, BudgetExceeded.
    """
    task, assignment = locks.assignment_for_update(assignment_id=assignment_id, merchant=merchant)
    if not can_proceed(assignment.accept):
        raise AssignmentStateInvalid(_("当前“{status}”，不能验收").format(status=assignment.get_status_display()))
    parsed = _parse_quantity(quantity, field="quantity") or assignment.reported_quantity or assignment.planned_quantity
    if task.pricing_mode == PricingMode.FIXED:
        parsed = Decimal("1")
    parsed = _within_plan(assignment, parsed, field="quantity")
    payable = _payable_for(task, assignment, parsed, now=now)
    assignment.accept(by=user_of(actor), at=now, quantity=parsed)
    assignment.save(update_fields=["status", "decided_by", "decided_at", "accepted_quantity", "updated_at"])
    audit.record(event="tasks.assignment.accepted", now=now, actor=actor, subject=assignment,
                 before={"status": "SUBMITTED"},
                 after={"status": assignment.status, "quantity": str(parsed), "payable_id": payable.pk,
                        "amount_fen": payable.amount_fen})
    return payable


@transaction.atomic
def assignment_reject(*, merchant, assignment_id: int, actor, reason: str, now) -> TaskAssignment:
    """验收不通过, with a reason the worker reads; the worker may redo and resubmit, or dispute.

    Raises AssignmentNotFound, AssignmentStateInvalid, TaskInvalid (no reason).
    """
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise TaskInvalid(_("请写明不通过的原因（至少 4 个字），灵工人员会据此返工或申诉"), extra={"field": "reason"})
    task, assignment = locks.assignment_for_update(assignment_id=assignment_id, merchant=merchant)
    if not can_proceed(assignment.reject):
        raise AssignmentStateInvalid(_("当前“{status}”，不能验收").format(status=assignment.get_status_display()))
    assignment.reject(by=user_of(actor), at=now, reason=reason)
    assignment.save(update_fields=["status", "decided_by", "decided_at", "reject_reason", "updated_at"])
    audit.record(event="tasks.assignment.rejected", now=now, actor=actor, subject=assignment,
                 before={"status": "SUBMITTED"}, after={"status": assignment.status, "reason": reason})
    notify_worker(assignment.member, text=f"“{task.title}”验收未通过：{reason[:60]}。可返工后重新提交或申诉。", now=now)
    return assignment


@transaction.atomic
def assignment_dispute(*, member: Member | None, assignment_id: int, reason: str, now) -> TaskAssignment:
    """The worker disputes a rejection (申诉); operations resolve it. Raises AssignmentNotFound,
    AssignmentStateInvalid, TaskInvalid."""
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise TaskInvalid(_("请写明申诉理由（至少 4 个字）"), extra={"field": "reason"})
    _task, assignment = locks.member_assignment_for_update(assignment_id=assignment_id, member=member)
    if not can_proceed(assignment.dispute):
        message = (_("该申诉已由平台处理，不能再次申诉") if assignment.resolved_at
                   else _("当前“{status}”，不能申诉").format(status=assignment.get_status_display()))
        raise AssignmentStateInvalid(message)
    if now - assignment.decided_at > DISPUTE_WINDOW:
        raise AssignmentStateInvalid(_("验收结果已超过 {days} 天申诉期，不能再申诉；如有异议请联系平台客服").format(days=DISPUTE_WINDOW.days),
                                     extra={"decided_at": assignment.decided_at.isoformat()})
    assignment.dispute(at=now, reason=reason)
    assignment.save(update_fields=["status", "disputed_at", "dispute_reason", "updated_at"])
    audit.record(event="tasks.assignment.disputed", now=now, actor=member.user, subject=assignment,
                 before={"status": "REJECTED"}, after={"status": assignment.status, "reason": reason})
    return assignment


@transaction.atomic
def assignment_resolve_dispute(*, assignment_id: int, actor, for_worker: bool, note: str, now,
                               quantity=None) -> TaskAssignment:
    """Operations decide a dispute: for the worker (the work is accepted and becomes payable) or for the enterprise
    (the rejection stands for good). Raises AssignmentNotFound, AssignmentStateInvalid, TaskInvalid, QuantityInvalid,
    BudgetExceeded."""
    note = (note or "").strip()
    if len(note) < 4:
        raise TaskInvalid(_("请写明处理意见（至少 4 个字），双方都会看到"), extra={"field": "note"})
    task, assignment = locks.assignment_for_update(assignment_id=assignment_id)
    if assignment.status != TaskAssignment.Status.DISPUTED:
        raise AssignmentStateInvalid(_("当前“{status}”，没有待处理的申诉").format(status=assignment.get_status_display()))
    after: dict = {"note": note}
    if for_worker:
        parsed = _parse_quantity(quantity) or assignment.reported_quantity or assignment.planned_quantity
        if task.pricing_mode == PricingMode.FIXED:
            parsed = Decimal("1")
        parsed = _within_plan(assignment, parsed, field="quantity")
        payable = _payable_for(task, assignment, parsed, now=now)
        assignment.resolve_for_worker(by=user_of(actor), at=now, note=note, quantity=parsed)
        fields = ["status", "resolved_by", "resolved_at", "resolution_note", "accepted_quantity", "updated_at"]
        after.update(payable_id=payable.pk, amount_fen=payable.amount_fen)
    else:
        assignment.resolve_for_enterprise(by=user_of(actor), at=now, note=note)
        fields = ["status", "resolved_by", "resolved_at", "resolution_note", "updated_at"]
    assignment.save(update_fields=fields)
    after["status"] = assignment.status
    audit.record(event="tasks.assignment.dispute_resolved", now=now, actor=actor, subject=assignment,
                 before={"status": "DISPUTED"}, after=after)
    outcome = "申诉成立，已验收通过" if for_worker else "维持验收不通过"  # SMS text: Chinese
    notify_worker(assignment.member, text=f"您对“{task.title}”的申诉已处理：{outcome}。", now=now)
    return assignment


def _evaluation(assignment: TaskAssignment, *, direction: str, stars, comment: str, actor, now) -> Evaluation:
    if assignment.status not in (TaskAssignment.Status.ACCEPTED, TaskAssignment.Status.REJECTED):
        raise EvaluationInvalid(_("验收完成后才能评价"), extra={"status": assignment.status})
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise EvaluationInvalid(_("评分必须是 1 到 5 颗星"), extra={"field": "stars"})
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise EvaluationInvalid(_("评语最多 500 字"), extra={"field": "comment"})
    if Evaluation.objects.filter(assignment=assignment, direction=direction).exists():
        raise EvaluationInvalid(_("已经评价过了，每次任务只能评价一次"))
    evaluation = Evaluation.objects.create(merchant_id=assignment.merchant_id, assignment=assignment,
                                           member_id=assignment.member_id, direction=direction, stars=stars,
                                           comment=comment, created_by=user_of(actor), at=now)
    audit.record(event="tasks.evaluation.created", now=now, actor=actor, subject=evaluation,
                 after={"direction": direction, "stars": stars, "assignment_id": assignment.pk})
    return evaluation


@transaction.atomic
def evaluation_of_worker_create(*, merchant, assignment_id: int, actor, stars: int, comment: str = "",
                                now) -> Evaluation:
    """The enterprise rates the worker's work (feeds matching). Raises AssignmentNotFound, EvaluationInvalid."""
    _task, assignment = locks.assignment_for_update(assignment_id=assignment_id, merchant=merchant)
    return _evaluation(assignment, direction=Evaluation.Direction.OF_WORKER, stars=stars, comment=comment,
                       actor=actor, now=now)


@transaction.atomic
def evaluation_of_enterprise_create(*, member: Member | None, assignment_id: int, stars: int, comment: str = "",
                                    now) -> Evaluation:
    """The worker rates the enterprise (feeds matching and, later, the enterprise's risk rating)."""
    _task, assignment = locks.member_assignment_for_update(assignment_id=assignment_id, member=member)
    return _evaluation(assignment, direction=Evaluation.Direction.OF_ENTERPRISE, stars=stars, comment=comment,
                       actor=member.user, now=now)
