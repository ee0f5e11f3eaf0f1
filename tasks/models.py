"""任务发布与任务管理: crowdsourced tasks, from the enterprise's draft to accepted, payable work.

- ``TaskCategory`` is the platform's catalogue of business scenarios (业务场景) with sane price bounds;
  ``MerchantCategory`` says which of them an enterprise is approved for (operations manage it in the admin).
- ``Task`` is what an enterprise publishes; platform review approves it before workers can see it.
- ``TaskAssignment`` is one worker's part in a task: applied, invited, claimed or assigned (a sub-task of a split
  task, 分包), then proof, acceptance, and possibly a dispute that operations resolve.
- ``ProofFile`` and ``CheckIn`` are the completion proof (完工证明); ``Evaluation`` the ratings both ways;
  ``PayableWork`` the accepted work that the payouts app pays (业务真实性: every payout points at one).

Transitions change only their own row; services save, audit and enforce the cross-row rules.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.models import TenantOwnedModel, TimeStampedModel


class PricingMode(models.TextChoices):
    PIECE = "PIECE", _("按件计价")
    HOUR = "HOUR", _("按小时计价")
    FIXED = "FIXED", _("一口价")


class ProofKind(models.TextChoices):
    PHOTO = "PHOTO", _("现场照片")
    FILE = "FILE", _("文件")
    TEXT = "TEXT", _("文字说明")
    CHECKIN = "CHECKIN", _("签到定位与时间")
    QUANTITY = "QUANTITY", _("完成数量")


class TaskCategory(TimeStampedModel):
    """A business scenario of the platform's catalogue (e.g. 同城配送, 数据标注), with the price bounds review uses."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    description = models.TextField(_("说明"), blank=True)
    pricing_modes = models.JSONField(_("允许的计价方式"), default=list,
                                     help_text='e.g. ["PIECE", "HOUR"]')
    min_unit_price_fen = models.BigIntegerField(_("最低单价（分）"))
    max_unit_price_fen = models.BigIntegerField(_("最高单价（分）"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("任务类目（业务场景）")
        verbose_name_plural = _("任务类目（业务场景）")
        constraints = [
            models.CheckConstraint(condition=Q(min_unit_price_fen__gt=0) & Q(max_unit_price_fen__gte=models.F(
                "min_unit_price_fen")), name="task_category_price_bounds"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class MerchantCategory(TenantOwnedModel):
    """An enterprise is approved for this scenario (its service agreement covers it)."""

    category = models.ForeignKey(TaskCategory, on_delete=models.PROTECT, related_name="+", verbose_name=_("类目"))
    approved_at = models.DateTimeField(_("批准时间"))
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("企业已批准的业务场景")
        verbose_name_plural = _("企业已批准的业务场景")
        constraints = [models.UniqueConstraint(fields=["merchant", "category"], name="merchant_category_unique")]

    def __str__(self) -> str:
        return f"{self.merchant_id}:{self.category_id}"


class BannedWord(TimeStampedModel):
    """A word that must not appear in a published task (review refuses it); operations keep the list."""

    word = models.CharField(_("违禁词"), max_length=40, unique=True)
    reason = models.CharField(_("原因"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("违禁词")
        verbose_name_plural = _("违禁词")

    def __str__(self) -> str:
        return self.word


class Task(FSMModelMixin, TenantOwnedModel):
    class Status(models.TextChoices):
        DRAFT = "DRAFT", _("草稿")
        SUBMITTED = "SUBMITTED", _("待审核")
        RETURNED = "RETURNED", _("退回修改")
        REJECTED = "REJECTED", _("审核驳回")
        APPROVED = "APPROVED", _("已发布")
        CLOSED = "CLOSED", _("停止接取")
        COMPLETED = "COMPLETED", _("已完成")
        CANCELLED = "CANCELLED", _("已取消")

    class TakeMode(models.TextChoices):
        APPLY = "APPLY", _("报名后由企业录用")
        CLAIM = "CLAIM", _("先到先得")

    EDITABLE = (Status.DRAFT, Status.RETURNED)
    OPEN = (Status.APPROVED,)

    title = models.CharField(_("任务名称"), max_length=100)
    description = models.TextField(_("任务说明"))
    category = models.ForeignKey(TaskCategory, on_delete=models.PROTECT, related_name="+", verbose_name=_("类目"))
    skills = models.JSONField(_("所需技能"), default=list, blank=True)
    is_remote = models.BooleanField(_("远程任务"), default=False)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    city = models.CharField(_("城市"), max_length=40, blank=True, db_index=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    radius_m = models.PositiveIntegerField(_("签到半径（米）"), default=500)
    headcount = models.PositiveIntegerField(_("需要人数"))
    take_mode = models.CharField(_("接取方式"), max_length=8, choices=TakeMode.choices, default=TakeMode.APPLY)
    pricing_mode = models.CharField(_("计价方式"), max_length=8, choices=PricingMode.choices)
    unit_price_fen = models.BigIntegerField(_("单价（分）"))
    quantity_per_worker = models.DecimalField(_("每人计划数量"), max_digits=10, decimal_places=2, default=1)
    budget_fen = models.BigIntegerField(_("预算（分）"))
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    deadline_at = models.DateTimeField(_("报名截止"))
    proof_kinds = models.JSONField(_("完工证明要求"), default=list, blank=True)
    status = FSMField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT, protected=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   null=True, blank=True, verbose_name=_("创建人"))
    submitted_at = models.DateTimeField(_("提交审核时间"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    null=True, blank=True, verbose_name=_("审核人"))
    review_reason = models.TextField(_("审核意见"), blank=True)
    review_findings = models.JSONField(_("规则检查结果"), default=list, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间（关闭/完成）"), null=True, blank=True)

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        indexes = [models.Index(fields=["merchant", "status"], name="task_merchant_status_idx"),
                   models.Index(fields=["status", "category"], name="task_status_category_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(unit_price_fen__gt=0), name="task_unit_price_positive"),
            models.CheckConstraint(condition=Q(budget_fen__gt=0), name="task_budget_positive"),
            models.CheckConstraint(condition=Q(headcount__gt=0), name="task_headcount_positive"),
            models.CheckConstraint(condition=Q(quantity_per_worker__gt=0), name="task_quantity_positive"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="task_schedule_order"),
            models.CheckConstraint(condition=Q(is_remote=True) | (Q(latitude__isnull=False)
                                                                  & Q(longitude__isnull=False)),
                                   name="task_onsite_has_place"),
        ]

    def __str__(self) -> str:
        return f"{self.title}（#{self.pk}）"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def proof_labels(self) -> list[str]:
        return [ProofKind(kind).label for kind in self.proof_kinds if kind in ProofKind.values]

    @property
    def unit_label(self) -> str:
        """What one unit of pay is: 件, 小时, 次 (a fixed-price task is paid once)."""
        return {PricingMode.PIECE: gettext("件"), PricingMode.HOUR: gettext("小时")}.get(self.pricing_mode, gettext("次"))

    @transition(field=status, source=[Status.DRAFT, Status.RETURNED], target=Status.SUBMITTED)
    def submit(self, *, at) -> None:
        self.submitted_at = at

    @transition(field=status, source=Status.SUBMITTED, target=Status.DRAFT)
    def withdraw(self) -> None:
        self.submitted_at = None

    @transition(field=status, source=Status.SUBMITTED, target=Status.APPROVED)
    def approve(self, *, by, at, findings) -> None:
        self.reviewed_by, self.reviewed_at, self.review_reason = by, at, ""
        self.review_findings = findings
        self.published_at = at

    @transition(field=status, source=Status.SUBMITTED, target=Status.REJECTED)
    def reject(self, *, by, at, reason, findings) -> None:
        self.reviewed_by, self.reviewed_at, self.review_reason = by, at, reason
        self.review_findings = findings

    @transition(field=status, source=Status.SUBMITTED, target=Status.RETURNED)
    def send_back(self, *, by, at, reason, findings) -> None:
        self.reviewed_by, self.reviewed_at, self.review_reason = by, at, reason
        self.review_findings = findings

    @transition(field=status, source=Status.APPROVED, target=Status.DRAFT)
    def reopen_for_change(self) -> None:
        """An approved task is never edited in place: it goes back to draft and through review again."""
        self.published_at = None
        self.submitted_at = None

    @transition(field=status, source=Status.APPROVED, target=Status.CLOSED)
    def close(self, *, at) -> None:
        self.closed_at = at

    @transition(field=status, source=[Status.APPROVED, Status.CLOSED], target=Status.COMPLETED)
    def complete(self, *, at) -> None:
        self.closed_at = at

    @transition(field=status, source=[Status.DRAFT, Status.RETURNED, Status.REJECTED], target=Status.CANCELLED)
    def cancel(self, *, at) -> None:
        self.closed_at = at


class TaskAssignment(FSMModelMixin, TenantOwnedModel):
    """One worker's part in a task (or one sub-task of a split task), with its own proof and acceptance."""

    class Status(models.TextChoices):
        INVITED = "INVITED", _("已邀请")
        APPLIED = "APPLIED", _("已报名")
        ASSIGNED = "ASSIGNED", _("已录用")
        CLAIMED = "CLAIMED", _("已接取")
        DECLINED = "DECLINED", _("未录用/已谢绝")
        WITHDRAWN = "WITHDRAWN", _("已放弃")
        SUBMITTED = "SUBMITTED", _("待验收")
        ACCEPTED = "ACCEPTED", _("验收通过")
        REJECTED = "REJECTED", _("验收未通过")
        DISPUTED = "DISPUTED", _("申诉中")

    # States that hold one of the task's headcount slots.
    HOLDING = (Status.ASSIGNED, Status.CLAIMED, Status.SUBMITTED, Status.ACCEPTED, Status.REJECTED, Status.DISPUTED)
    WORKING = (Status.ASSIGNED, Status.CLAIMED, Status.REJECTED)
    FINAL = (Status.DECLINED, Status.WITHDRAWN, Status.ACCEPTED)

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("任务"))
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="task_assignments",
                               verbose_name=_("灵工人员"))
    status = FSMField(_("状态"), max_length=16, choices=Status.choices, default=Status.APPLIED, protected=True)
    part_no = models.PositiveIntegerField(_("分包序号"), null=True, blank=True)
    part_title = models.CharField(_("分包内容"), max_length=100, blank=True)
    planned_quantity = models.DecimalField(_("计划数量"), max_digits=10, decimal_places=2)
    match_score = models.PositiveSmallIntegerField(_("匹配分"), null=True, blank=True)
    applied_at = models.DateTimeField(_("报名/邀请时间"))
    assigned_at = models.DateTimeField(_("录用/接取时间"), null=True, blank=True)
    proof_text = models.TextField(_("完工说明"), blank=True)
    reported_quantity = models.DecimalField(_("上报数量"), max_digits=10, decimal_places=2, null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    accepted_quantity = models.DecimalField(_("验收数量"), max_digits=10, decimal_places=2, null=True, blank=True)
    decided_at = models.DateTimeField(_("验收时间"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   null=True, blank=True, verbose_name=_("验收人"))
    reject_reason = models.TextField(_("不通过原因"), blank=True)
    dispute_reason = models.TextField(_("申诉理由"), blank=True)
    disputed_at = models.DateTimeField(_("申诉时间"), null=True, blank=True)
    resolution_note = models.TextField(_("申诉处理意见"), blank=True)
    resolved_at = models.DateTimeField(_("申诉处理时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    null=True, blank=True, verbose_name=_("申诉处理人"))

    class Meta:
        verbose_name = _("任务接取")
        verbose_name_plural = _("任务接取")
        indexes = [models.Index(fields=["task", "status"], name="assignment_task_status_idx"),
                   models.Index(fields=["member", "status"], name="assignment_member_status_idx")]
        constraints = [
            # One live part per worker per task; a declined or withdrawn worker may come back.
            models.UniqueConstraint(fields=["task", "member"], condition=~Q(status__in=["DECLINED", "WITHDRAWN"])
                                    & Q(part_no__isnull=True), name="assignment_one_live_per_worker"),
            models.UniqueConstraint(fields=["task", "part_no"], name="assignment_part_no_unique"),
            models.CheckConstraint(condition=Q(planned_quantity__gt=0), name="assignment_planned_positive"),
            models.CheckConstraint(condition=Q(accepted_quantity__isnull=True) | Q(accepted_quantity__gt=0),
                                   name="assignment_accepted_positive"),
        ]

    def __str__(self) -> str:
        label = f"{self.task_id}-{self.part_no}" if self.part_no else f"{self.task_id}"
        return f"任务 #{label} · 人员 #{self.member_id}"

    @property
    def holds_slot(self) -> bool:
        return self.status in self.HOLDING

    @transition(field=status, source=Status.APPLIED, target=Status.ASSIGNED)
    def approve(self, *, at) -> None:
        self.assigned_at = at

    @transition(field=status, source=Status.INVITED, target=Status.ASSIGNED)
    def accept_invitation(self, *, at) -> None:
        self.assigned_at = at

    @transition(field=status, source=[Status.APPLIED, Status.INVITED], target=Status.DECLINED)
    def decline(self, *, at) -> None:
        self.decided_at = at

    @transition(field=status, source=[Status.APPLIED, Status.INVITED, Status.ASSIGNED, Status.CLAIMED,
                                      Status.REJECTED], target=Status.WITHDRAWN)
    def withdraw(self, *, at) -> None:
        self.decided_at = at

    @transition(field=status, source=[Status.ASSIGNED, Status.CLAIMED, Status.REJECTED], target=Status.SUBMITTED,
                conditions=[lambda a: a.resolved_at is None])
    def submit_proof(self, *, at, text, quantity) -> None:
        self.submitted_at, self.proof_text, self.reported_quantity = at, text, quantity
        self.reject_reason = ""

    @transition(field=status, source=Status.SUBMITTED, target=Status.ACCEPTED)
    def accept(self, *, by, at, quantity) -> None:
        self.decided_by, self.decided_at, self.accepted_quantity = by, at, quantity

    @transition(field=status, source=Status.SUBMITTED, target=Status.REJECTED)
    def reject(self, *, by, at, reason) -> None:
        self.decided_by, self.decided_at, self.reject_reason = by, at, reason

    @transition(field=status, source=Status.REJECTED, target=Status.DISPUTED,
                conditions=[lambda a: a.resolved_at is None])
    def dispute(self, *, at, reason) -> None:
        self.disputed_at, self.dispute_reason = at, reason

    @transition(field=status, source=Status.DISPUTED, target=Status.ACCEPTED)
    def resolve_for_worker(self, *, by, at, note, quantity) -> None:
        self.resolved_by, self.resolved_at, self.resolution_note = by, at, note
        self.accepted_quantity = quantity

    @transition(field=status, source=Status.DISPUTED, target=Status.REJECTED)
    def resolve_for_enterprise(self, *, by, at, note) -> None:
        self.resolved_by, self.resolved_at, self.resolution_note = by, at, note


def proof_upload_to(instance: ProofFile, filename: str) -> str:
    # The stored name never contains the uploader's file name (it may hold personal data).
    return f"task-proofs/{instance.merchant_id}/{instance.assignment.task_id}/{instance.sha256[:2]}/{instance.sha256}"


class ProofFile(TenantOwnedModel):
    """A photo or file of a completion proof, stored in the default storage with its SHA-256.

    Never served from MEDIA_URL: downloads go through views that check the tenant (or the worker's own assignment).
    """

    class Kind(models.TextChoices):
        PHOTO = "PHOTO", _("照片")
        FILE = "FILE", _("文件")

    assignment = models.ForeignKey(TaskAssignment, on_delete=models.PROTECT, related_name="proof_files",
                                   verbose_name=_("任务接取"))
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    file = models.FileField(_("文件"), upload_to=proof_upload_to, max_length=255)
    original_name = models.CharField(_("原文件名"), max_length=120)
    content_type = models.CharField(_("内容类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        verbose_name = _("完工证明文件")
        verbose_name_plural = _("完工证明文件")
        constraints = [models.CheckConstraint(condition=Q(size__gt=0), name="proof_file_not_empty")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.sha256[:12]}"


class CheckIn(TenantOwnedModel):
    """签到/签退: where and when the worker was, checked against the task's place, radius and schedule."""

    class Kind(models.TextChoices):
        IN = "IN", _("签到")
        OUT = "OUT", _("签退")

    assignment = models.ForeignKey(TaskAssignment, on_delete=models.PROTECT, related_name="check_ins",
                                   verbose_name=_("任务接取"))
    kind = models.CharField(_("类型"), max_length=4, choices=Kind.choices)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    distance_m = models.PositiveIntegerField(_("距任务地点（米）"), null=True, blank=True)
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("签到记录")
        verbose_name_plural = _("签到记录")
        constraints = [models.UniqueConstraint(fields=["assignment", "kind"], name="check_in_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class Evaluation(TenantOwnedModel):
    """评价及反馈: the enterprise rates the work, the worker rates the enterprise (1–5 stars)."""

    class Direction(models.TextChoices):
        OF_WORKER = "OF_WORKER", _("企业评价灵工人员")
        OF_ENTERPRISE = "OF_ENTERPRISE", _("灵工人员评价企业")

    assignment = models.ForeignKey(TaskAssignment, on_delete=models.PROTECT, related_name="evaluations",
                                   verbose_name=_("任务接取"))
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("灵工人员"))
    direction = models.CharField(_("方向"), max_length=16, choices=Direction.choices)
    stars = models.PositiveSmallIntegerField(_("星级"))
    comment = models.CharField(_("评语"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   null=True, blank=True, verbose_name=_("评价人"),
                                   help_text=_("空：由合作方接口（API 密钥）提交，见审计记录"))
    at = models.DateTimeField(_("评价时间"))

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        constraints = [
            models.UniqueConstraint(fields=["assignment", "direction"], name="evaluation_once_per_direction"),
            models.CheckConstraint(condition=Q(stars__gte=1) & Q(stars__lte=5), name="evaluation_stars_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.stars}★"


class WorkerProfile(TimeStampedModel):
    """What the worker tells the platform for matching: skills, home city and location. One per worker."""

    member = models.OneToOneField("members.Member", on_delete=models.PROTECT, related_name="task_profile",
                                  verbose_name=_("灵工人员"))
    skills = models.JSONField(_("技能"), default=list, blank=True)
    city = models.CharField(_("常驻城市"), max_length=40, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = _("灵工人员技能档案")
        verbose_name_plural = _("灵工人员技能档案")

    def __str__(self) -> str:
        return f"技能档案 #{self.member_id}"


class PayableWork(TenantOwnedModel):
    """Accepted work the enterprise owes the worker: quantity × unit price, in fen. Paid by the payouts app.

    READY → RESERVED (a payout order holds it, ``reserved_ref``) → PAID; a failed payout releases it to READY.
    """

    class Status(models.TextChoices):
        READY = "READY", _("待付款")
        RESERVED = "RESERVED", _("付款处理中")
        PAID = "PAID", _("已付款")

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="payables", verbose_name=_("任务"))
    assignment = models.OneToOneField(TaskAssignment, on_delete=models.PROTECT, related_name="payable",
                                      verbose_name=_("任务接取/分包"))
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="payable_work",
                               verbose_name=_("灵工人员"))
    quantity = models.DecimalField(_("数量"), max_digits=10, decimal_places=2)
    unit_price_fen = models.BigIntegerField(_("单价（分）"))
    amount_fen = models.BigIntegerField(_("应付金额（分）"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.READY)
    reserved_ref = models.CharField(_("付款单引用"), max_length=64, blank=True)
    reserved_at = models.DateTimeField(_("锁定时间"), null=True, blank=True)
    paid_at = models.DateTimeField(_("付款时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("验收时间"))

    class Meta:
        verbose_name = _("待付款工作")
        verbose_name_plural = _("待付款工作")
        indexes = [models.Index(fields=["merchant", "status"], name="payable_merchant_status_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payable_amount_positive"),
            models.CheckConstraint(condition=Q(unit_price_fen__gt=0) & Q(quantity__gt=0),
                                   name="payable_price_quantity_positive"),
            models.CheckConstraint(condition=Q(status="READY") | ~Q(reserved_ref=""), name="payable_reserved_has_ref"),
        ]

    def __str__(self) -> str:
        return f"应付 #{self.pk} {self.amount_fen} 分"


class TaskInReview(Task):
    """The operations review queue (待审核任务): submitted tasks, oldest first. A proxy: no table of its own."""

    class Meta:
        proxy = True
        verbose_name = _("待审核任务")
        verbose_name_plural = _("待审核任务（审核队列）")
