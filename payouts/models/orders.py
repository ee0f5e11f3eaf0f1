"""企业付款与收入发放: payout batches (批量付款), payout orders (付款订单), receipts (电子回单) and monthly fee
statements (交易后计费).

Money on an order, all integer fen:

- ``amount_fen``   what the enterprise entered (the worker's gross when the worker bears tax, the worker's net when
                   the enterprise bears it: the tax engine grosses up);
- ``gross_fen``    税前收入, the tax base; ``tax_fen`` = IIT + VAT + surcharges withheld; ``net_fen`` = gross − tax;
- ``fee_fen``      the platform's service fee (``fee_bearer``/``fee_timing`` copied from the plan at quote time);
- ``payee_fen``    what the channel pays the worker = net − (fee when the worker bears it);
- ``freeze_fen``   what confirmation freezes on the enterprise's balance = gross + (fee when the enterprise bears it
                   and it is charged BEFORE). A DURING fee is frozen at disbursement; an AFTER fee is billed monthly.

State machines (django-fsm-2, protected): a batch goes CHECKING → INVALID | QUOTED → (AWAITING_APPROVAL) → CONFIRMED →
DISPATCHING → COMPLETED; an order goes DRAFT → CONFIRMED → SUBMITTING → PROCESSING | UNKNOWN → SUCCEEDED | FAILED.
UNKNOWN (a timeout, a 5xx) is left only by a channel query, a notification or reconciliation — never by resending
under a new key: ``idempotency_key`` is generated once, when the order is created, and never changes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.models import TenantOwnedModel


class PayoutBatch(FSMModelMixin, TenantOwnedModel):
    class Status(models.TextChoices):
        CHECKING = "CHECKING", _("校验中")
        INVALID = "INVALID", _("有错误行")
        QUOTED = "QUOTED", _("待确认")
        AWAITING_APPROVAL = "AWAITING_APPROVAL", _("待复核")
        CONFIRMED = "CONFIRMED", _("已确认")
        DISPATCHING = "DISPATCHING", _("发放中")
        COMPLETED = "COMPLETED", _("已完成")
        CANCELLED = "CANCELLED", _("已取消")

    batch_no = models.CharField(_("批次号"), max_length=32, unique=True)
    title = models.CharField(_("批次名称"), max_length=100, blank=True)
    filename = models.CharField(_("文件名"), max_length=200, blank=True)
    file = models.FileField(_("上传文件"), upload_to="payouts/batches/%Y/%m/", blank=True)
    file_sha256 = models.CharField(_("文件摘要"), max_length=64, blank=True)
    channel = models.CharField(_("付款通道"), max_length=16)
    status = FSMField(_("状态"), max_length=20, choices=Status.choices, default=Status.CHECKING, protected=True)
    line_count = models.PositiveIntegerField(_("文件行数"), default=0)
    order_count = models.PositiveIntegerField(_("有效笔数"), default=0)
    error_count = models.PositiveIntegerField(_("错误行数"), default=0)
    errors = models.JSONField(_("错误行"), default=list, blank=True)
    errors_removed = models.BooleanField(_("已移除错误行"), default=False)
    stage = models.CharField(_("进度阶段"), max_length=32, blank=True)
    checked_lines = models.PositiveIntegerField(_("已校验行数"), default=0)
    amount_fen = models.BigIntegerField(_("付款金额合计（分）"), default=0)
    gross_fen = models.BigIntegerField(_("税前收入合计（分）"), default=0)
    tax_fen = models.BigIntegerField(_("代扣税费合计（分）"), default=0)
    fee_fen = models.BigIntegerField(_("服务费合计（分）"), default=0)
    payee_fen = models.BigIntegerField(_("实发合计（分）"), default=0)
    freeze_fen = models.BigIntegerField(_("确认时冻结（分）"), default=0)
    quoted_at = models.DateTimeField(_("报价时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("创建人"))
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("确认人"))
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("复核人"))
    approved_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("付款批次")
        verbose_name_plural = _("付款批次")
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gte=0) & Q(gross_fen__gte=0) & Q(tax_fen__gte=0)
                                   & Q(fee_fen__gte=0) & Q(payee_fen__gte=0) & Q(freeze_fen__gte=0),
                                   name="payout_batch_amounts_not_negative"),
        ]
        indexes = [models.Index(fields=["merchant", "created_at"], name="payout_batch_merchant_created")]

    def __str__(self) -> str:
        return self.batch_no

    @transition(field=status, source=Status.CHECKING, target=Status.INVALID)
    def mark_invalid(self) -> None:
        self.stage = "invalid"

    @transition(field=status, source=[Status.CHECKING, Status.INVALID, Status.QUOTED], target=Status.QUOTED)
    def mark_quoted(self, *, at) -> None:
        self.quoted_at = at
        self.stage = "quoted"

    @transition(field=status, source=Status.QUOTED, target=Status.AWAITING_APPROVAL)
    def await_approval(self, *, by, at) -> None:
        self.confirmed_by, self.confirmed_at = by, at

    @transition(field=status, source=[Status.QUOTED, Status.AWAITING_APPROVAL], target=Status.CONFIRMED)
    def confirm(self, *, by, at, approver=None) -> None:
        if self.confirmed_by_id is None:
            self.confirmed_by, self.confirmed_at = by, at
        if approver is not None:
            self.approved_by, self.approved_at = approver, at
        self.stage = "confirmed"

    @transition(field=status, source=Status.CONFIRMED, target=Status.DISPATCHING)
    def start_dispatch(self) -> None:
        self.stage = "dispatching"

    @transition(field=status, source=[Status.CONFIRMED, Status.DISPATCHING], target=Status.COMPLETED)
    def complete(self, *, at) -> None:
        self.completed_at = at
        self.stage = "completed"

    @transition(field=status, source=[Status.CHECKING, Status.INVALID, Status.QUOTED, Status.AWAITING_APPROVAL],
                target=Status.CANCELLED)
    def cancel(self) -> None:
        self.stage = "cancelled"


class PayoutOrder(FSMModelMixin, TenantOwnedModel):
    class Status(models.TextChoices):
        DRAFT = "DRAFT", _("待确认")
        CONFIRMED = "CONFIRMED", _("已确认待发放")
        SUBMITTING = "SUBMITTING", _("提交通道中")
        PROCESSING = "PROCESSING", _("通道处理中")
        UNKNOWN = "UNKNOWN", _("结果未知（待查询）")
        SUCCEEDED = "SUCCEEDED", _("发放成功")
        FAILED = "FAILED", _("发放失败")
        CANCELLED = "CANCELLED", _("已取消")
        RETURNED = "RETURNED", _("已退票")

    TERMINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.RETURNED)
    IN_FLIGHT = (Status.SUBMITTING, Status.PROCESSING, Status.UNKNOWN)

    class Source(models.TextChoices):
        PORTAL = "PORTAL", _("企业端")
        API = "API", _("开放接口")
        BATCH = "BATCH", _("批量文件")

    # An order is written once per line of a 100,000-line batch and rewritten at each step, so every index costs:
    # the enterprise and the batch are reached through the composite indexes below that start with them, not through
    # indexes of their own (db_index=False), and the platform numbers need no LIKE index (migration 0006).
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("企业"), db_index=False)
    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="orders",
                              verbose_name=_("批次"), db_index=False)
    line_no = models.PositiveIntegerField(_("文件行号"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices)
    merchant_order_no = models.CharField(_("企业订单号"), max_length=64)
    order_no = models.CharField(_("平台订单号"), max_length=32, unique=True)
    idempotency_key = models.CharField(_("通道幂等键"), max_length=32, unique=True, editable=False)
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("灵工人员"))
    # nothing looks orders up by payout account (accounts are deactivated, never deleted): no index of its own
    payout_account = models.ForeignKey("members.PayoutAccount", on_delete=models.PROTECT, related_name="+",
                                       verbose_name=_("收款账户"), db_index=False)
    # not indexed: nothing looks orders up by their work (the work's own status says whether it is held), and every
    # index is written again on each status change of an order
    payable = models.ForeignKey("tasks.PayableWork", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("验收工作"), db_index=False)
    channel = models.CharField(_("付款通道"), max_length=16)
    payee_name_masked = models.CharField(_("收款人"), max_length=40)
    account_masked = models.CharField(_("收款账号"), max_length=40)
    remark = models.CharField(_("备注"), max_length=100, blank=True)
    status = FSMField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT, protected=True)

    amount_fen = models.BigIntegerField(_("约定金额（分）"))
    tax_bearer = models.CharField(_("税费承担方"), max_length=10)
    gross_fen = models.BigIntegerField(_("税前收入（分）"))
    iit_fen = models.BigIntegerField(_("个人所得税（分）"), default=0)
    vat_fen = models.BigIntegerField(_("增值税（分）"), default=0)
    surcharge_fen = models.BigIntegerField(_("附加税费（分）"), default=0)
    tax_fen = models.BigIntegerField(_("代扣税费（分）"), default=0)
    net_fen = models.BigIntegerField(_("税后（分）"))
    fee_fen = models.BigIntegerField(_("服务费（分）"), default=0)
    fee_bearer = models.CharField(_("服务费承担方"), max_length=10)
    fee_timing = models.CharField(_("计费时点"), max_length=10)
    fee_explanation = models.CharField(_("服务费说明"), max_length=300, blank=True)
    payee_fen = models.BigIntegerField(_("实发金额（分）"))
    freeze_fen = models.BigIntegerField(_("确认时冻结（分）"))
    fee_frozen_fen = models.BigIntegerField(_("发放时冻结的服务费（分）"), default=0)
    tax_lines = models.JSONField(_("税费明细"), default=list, blank=True)

    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    # when the tax was withheld (代扣): at confirmation for a single order, at disbursement for a batch's orders
    withheld_at = models.DateTimeField(_("代扣时间"), null=True, blank=True)
    submit_attempts = models.PositiveSmallIntegerField(_("提交次数"), default=0)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    channel_order_id = models.CharField(_("通道订单号"), max_length=64, blank=True)
    channel_status = models.CharField(_("通道状态"), max_length=32, blank=True)
    fail_code = models.CharField(_("失败码"), max_length=64, blank=True)
    fail_message = models.CharField(_("失败原因"), max_length=200, blank=True)
    next_query_at = models.DateTimeField(_("下次查询时间"), null=True, blank=True)
    query_count = models.PositiveSmallIntegerField(_("查询次数"), default=0)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    settled_by = models.CharField(_("结果来源"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("付款订单")
        verbose_name_plural = _("付款订单")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "merchant_order_no"], name="payout_order_merchant_no_unique"),
            models.UniqueConstraint(fields=["batch", "line_no"], condition=Q(batch__isnull=False),
                                    name="payout_order_batch_line_unique"),
            models.CheckConstraint(condition=Q(amount_fen__gt=0) & Q(gross_fen__gt=0) & Q(payee_fen__gt=0)
                                   & Q(tax_fen__gte=0) & Q(fee_fen__gte=0) & Q(fee_frozen_fen__gte=0)
                                   & Q(freeze_fen__gt=0),
                                   name="payout_order_amounts_valid"),
            models.CheckConstraint(condition=Q(net_fen=F("gross_fen") - F("tax_fen")),
                                   name="payout_order_net_is_gross_minus_tax"),
            models.CheckConstraint(condition=Q(tax_fen=F("iit_fen") + F("vat_fen") + F("surcharge_fen")),
                                   name="payout_order_tax_is_sum_of_lines"),
        ]
        indexes = [
            models.Index(fields=["merchant", "status"], name="payout_order_merchant_status"),
            models.Index(fields=["merchant", "created_at"], name="payout_order_merchant_created"),
            models.Index(fields=["batch", "status"], name="payout_order_batch_status"),
            # only what the query job looks for: confirming or paying a batch does not touch it
            models.Index(fields=["status", "next_query_at"], name="payout_order_query_due",
                         condition=models.Q(status__in=["SUBMITTING", "PROCESSING", "UNKNOWN"])),
        ]

    def __str__(self) -> str:
        return self.order_no

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @transition(field=status, source=Status.DRAFT, target=Status.CONFIRMED)
    def confirm(self, *, at) -> None:
        self.confirmed_at = at

    @transition(field=status, source=[Status.CONFIRMED, Status.SUBMITTING, Status.UNKNOWN], target=Status.SUBMITTING)
    def start_submit(self, *, at) -> None:
        self.submit_attempts += 1
        self.submitted_at = at

    @transition(field=status, source=[Status.SUBMITTING, Status.UNKNOWN, Status.PROCESSING], target=Status.PROCESSING)
    def accepted(self, *, channel_order_id: str = "", at=None) -> None:
        self.channel_order_id = channel_order_id or self.channel_order_id

    @transition(field=status, source=[Status.SUBMITTING, Status.UNKNOWN, Status.PROCESSING], target=Status.UNKNOWN)
    def outcome_unknown(self, *, next_query_at) -> None:
        self.next_query_at = next_query_at

    @transition(field=status, source=[Status.SUBMITTING, Status.UNKNOWN, Status.PROCESSING], target=Status.SUCCEEDED)
    def succeed(self, *, at, by: str, channel_order_id: str = "") -> None:
        self.finished_at, self.settled_by = at, by
        self.channel_order_id = channel_order_id or self.channel_order_id

    @transition(field=status, source=[Status.CONFIRMED, Status.SUBMITTING, Status.UNKNOWN, Status.PROCESSING],
                target=Status.FAILED)
    def fail(self, *, at, by: str, code: str, message: str) -> None:
        self.finished_at, self.settled_by = at, by
        self.fail_code, self.fail_message = code[:64], message[:200]

    @transition(field=status, source=Status.SUCCEEDED, target=Status.RETURNED)
    def returned(self, *, at, by: str, code: str, message: str) -> None:
        """退票: the channel took back a payment it had reported paid (the payee's account refused it later)."""
        self.finished_at, self.settled_by = at, by
        self.fail_code, self.fail_message = code[:64], message[:200]

    def fail_message_shown(self) -> str:
        """Why it failed, in the reader's language. ``fail_message`` is stored in Chinese (jobs and channel results
        write it, with no reader): the platform's own reasons are in the catalogue (marked with gettext_noop where
        they are written) and come out translated; a channel's own words are shown as the channel gave them."""
        return gettext(self.fail_message) if self.fail_message else ""

    @transition(field=status, source=Status.DRAFT, target=Status.CANCELLED)
    def cancel(self, *, at) -> None:
        self.finished_at = at


class PayoutReceipt(TenantOwnedModel):
    """电子回单: one per successful payment, a signed PDF with a verification code."""

    order = models.OneToOneField(PayoutOrder, on_delete=models.PROTECT, related_name="receipt",
                                 verbose_name=_("付款订单"))
    code = models.CharField(_("回单验证码"), max_length=16, unique=True)
    file = models.FileField(_("回单文件"), upload_to="payouts/receipts/%Y/%m/")
    sha256 = models.CharField(_("摘要"), max_length=64)
    issued_at = models.DateTimeField(_("开具时间"))

    class Meta:
        verbose_name = _("电子回单")
        verbose_name_plural = _("电子回单")

    def __str__(self) -> str:
        return self.code


class FeeStatement(TenantOwnedModel):
    """交易后计费: the month's accrued fees (orders with fee_timing AFTER that succeeded), charged in one entry."""

    class Status(models.TextChoices):
        ISSUED = "ISSUED", _("待扣款")
        PAID = "PAID", _("已扣款")

    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"))
    order_count = models.PositiveIntegerField(_("笔数"))
    fee_fen = models.BigIntegerField(_("服务费合计（分）"))
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.ISSUED)
    issued_at = models.DateTimeField(_("出账时间"))
    paid_at = models.DateTimeField(_("扣款时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("月度服务费账单")
        verbose_name_plural = _("月度服务费账单")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "year", "month"], name="fee_statement_unique_month"),
            models.CheckConstraint(condition=Q(fee_fen__gte=0), name="fee_statement_fee_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}"
