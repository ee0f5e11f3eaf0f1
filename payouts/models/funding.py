"""来账识别 (incoming-transfer recognition): the merchant's virtual top-up account, its registered payer accounts,
statement imports and the incoming transfers themselves.

An incoming transfer is credited through the ledger only: when it is recognised at once,
``CUSTODY_BANK +X / MERCHANT_AVAILABLE −X``; when it is not, the money is held on ``SUSPENSE`` (待查明款项) until
operations match it (``SUSPENSE → MERCHANT_AVAILABLE``) or return it (``SUSPENSE → CUSTODY_BANK``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.models import TenantOwnedModel
from core.pii import EncryptedTextField


class TopUpAccount(TenantOwnedModel):
    """专属充值账户: the virtual sub-account number the enterprise transfers to, and its reference code (附言识别码).

    ``account_number`` = platform prefix (8 digits) + merchant id (8 digits) + Luhn check digit; the bank credits
    the custody account and reports this number on the incoming-transfer line.
    """

    merchant = models.OneToOneField("merchants.Merchant", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("企业"))
    account_number = models.CharField(_("专属充值账号"), max_length=32, unique=True)
    reference_code = models.CharField(_("附言识别码"), max_length=16, unique=True)

    class Meta:
        verbose_name = _("专属充值账户")
        verbose_name_plural = _("专属充值账户")

    def __str__(self) -> str:
        return self.account_number


class PayerAccount(TenantOwnedModel):
    """A bank account the enterprise pays in from (付款账户备案): a transfer from it is recognised by account + name."""

    account_name = EncryptedTextField(_("户名"))
    account_number = EncryptedTextField(_("账号"))
    account_number_index = models.CharField(max_length=40, db_index=True, editable=False)
    account_name_index = models.CharField(max_length=40, editable=False)
    bank_name = models.CharField(_("开户行"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("付款账户备案")
        verbose_name_plural = _("付款账户备案")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "account_number_index"], name="payer_account_unique_per_merchant"),
        ]

    def __str__(self) -> str:
        from core.pii import mask_bank_card

        return mask_bank_card(self.account_number)


class StatementImport(models.Model):
    """One imported bank statement file (admin upload or the scheduled pull)."""

    class Source(models.TextChoices):
        ADMIN = "ADMIN", _("运营导入")
        PULL = "PULL", _("定时拉取")

    source = models.CharField(_("来源"), max_length=8, choices=Source.choices)
    filename = models.CharField(_("文件名"), max_length=200)
    sha256 = models.CharField(_("文件摘要"), max_length=64, unique=True)
    statement_date = models.DateField(_("账单日期"), null=True, blank=True)
    lines = models.PositiveIntegerField(_("明细行数"), default=0)
    created_transfers = models.PositiveIntegerField(_("新增来账"), default=0)
    duplicates = models.PositiveIntegerField(_("重复来账"), default=0)
    skipped = models.PositiveIntegerField(_("跳过（借方）"), default=0)
    imported_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("导入人"))
    imported_at = models.DateTimeField(_("导入时间"))

    class Meta:
        verbose_name = _("银行流水导入")
        verbose_name_plural = _("银行流水导入")

    def __str__(self) -> str:
        return self.filename


class IncomingTransfer(FSMModelMixin, models.Model):
    """来账: one credit to the custody account, from a statement file or a bank notification.

    ``bank_serial`` (银行流水号) is unique, so the same transfer reported twice (a statement and a notification,
    or a notification delivered twice) is recorded and credited once.
    """

    class Status(models.TextChoices):
        UNMATCHED = "UNMATCHED", _("待认领")
        MATCHED = "MATCHED", _("已入账")
        RETURNED = "RETURNED", _("已退回")
        REVERSED = "REVERSED", _("已冲正")

    class Source(models.TextChoices):
        STATEMENT = "STATEMENT", _("银行流水文件")
        NOTIFICATION = "NOTIFICATION", _("银行到账通知")

    class MatchMethod(models.TextChoices):
        VIRTUAL_ACCOUNT = "VIRTUAL_ACCOUNT", _("专属账号")
        REFERENCE = "REFERENCE", _("附言识别码")
        PAYER = "PAYER", _("付款账户备案")
        MANUAL = "MANUAL", _("人工认领")

    bank_serial = models.CharField(_("银行流水号"), max_length=64, unique=True)
    amount_fen = models.BigIntegerField(_("金额（分）"))
    payer_account_name = EncryptedTextField(_("付款户名"), blank=True)
    payer_account_number = EncryptedTextField(_("付款账号"), blank=True)
    payer_account_index = models.CharField(max_length=40, blank=True, editable=False, db_index=True)
    payer_bank = models.CharField(_("付款行"), max_length=100, blank=True)
    virtual_account = models.CharField(_("收款虚拟账号"), max_length=32, blank=True, db_index=True)
    postscript = models.CharField(_("附言/摘要"), max_length=200, blank=True)
    value_date = models.DateField(_("交易日期"))
    transacted_at = models.DateTimeField(_("交易时间"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    statement_import = models.ForeignKey(StatementImport, on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="transfers", verbose_name=_("导入批次"))
    status = FSMField(_("状态"), max_length=16, choices=Status.choices, default=Status.UNMATCHED, protected=True)
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("入账企业"))
    match_method = models.CharField(_("识别方式"), max_length=16, choices=MatchMethod.choices, blank=True)
    matched_at = models.DateTimeField(_("入账时间"), null=True, blank=True)
    handled_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("处理人"))
    returned_at = models.DateTimeField(_("退回时间"), null=True, blank=True)
    reversal_serial = models.CharField(_("冲正流水号"), max_length=64, blank=True)
    reversed_at = models.DateTimeField(_("冲正时间"), null=True, blank=True)
    return_reason = models.CharField(_("退回原因"), max_length=200, blank=True)
    received_at = models.DateTimeField(_("接收时间"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("来账")
        verbose_name_plural = _("来账")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_fen__gt=0), name="incoming_transfer_amount_positive"),
            models.CheckConstraint(
                condition=~models.Q(status="MATCHED") | models.Q(merchant__isnull=False),
                name="incoming_transfer_matched_has_merchant",
            ),
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="incoming_status_idx")]

    def __str__(self) -> str:
        return self.bank_serial

    @transition(field=status, source=Status.UNMATCHED, target=Status.MATCHED)
    def match(self, *, merchant, how: str, at, by=None) -> None:
        self.merchant = merchant
        self.match_method = how
        self.matched_at = at
        self.handled_by = by

    @transition(field=status, source=[Status.UNMATCHED, Status.MATCHED], target=Status.REVERSED)
    def reverse(self, *, serial: str, at) -> None:
        """The bank took the credit back (冲正, RVSTAG ``*``)."""
        self.reversal_serial = serial
        self.reversed_at = at

    @transition(field=status, source=Status.UNMATCHED, target=Status.RETURNED)
    def return_to_payer(self, *, reason: str, at, by=None) -> None:
        self.return_reason = reason
        self.returned_at = at
        self.handled_by = by
