"""账务: double-entry accounts, journal entries and their postings.

Sign convention (one for the whole platform): ``Posting.amount_fen`` is signed, **positive = debit, negative =
credit**, and the postings of one entry sum to zero. ``LedgerAccount.balance_fen`` is the cached balance *on the
account's normal side*: for a credit-normal account (what the platform owes: a merchant's available and frozen
funds, worker payable, fee revenue, tax payable) it is ``-Σ amount_fen``; for a debit-normal account (what the
platform holds: the custody bank account, channel clearing) it is ``+Σ amount_fen``. So a merchant's available
balance of 100.00 yuan is ``balance_fen == 10000``, and funding it is ``CUSTODY_BANK +X, MERCHANT_AVAILABLE -X``.

Integrity lives in the database:
- a CheckConstraint keeps every account that may not overdraw at ``balance_fen >= 0``;
- on PostgreSQL a DEFERRABLE INITIALLY DEFERRED constraint trigger refuses, at commit, an entry whose postings do
  not sum to zero or that has fewer than two postings (migration 0002), and another trigger refuses UPDATE and
  DELETE of entries and postings (a correction is a new entry);
- ``(kind, ref)`` is unique, so the same business event (e.g. a callback delivered twice) posts once.
All amounts are CNY in fen; the ``currency`` column is there so the rule "sum to zero per currency" has a home.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Side(models.TextChoices):
    DEBIT = "DEBIT", _("借方")
    CREDIT = "CREDIT", _("贷方")


class AccountKind(models.TextChoices):
    # Owned by a merchant (the tenant).
    MERCHANT_AVAILABLE = "MERCHANT_AVAILABLE", _("企业可用余额")
    MERCHANT_FROZEN = "MERCHANT_FROZEN", _("企业冻结资金")
    WORKER_PAYABLE = "WORKER_PAYABLE", _("应付灵工人员款")
    # Platform accounts (no merchant).
    PLATFORM_FEE_REVENUE = "PLATFORM_FEE_REVENUE", _("平台服务费收入")
    TAX_PAYABLE_IIT = "TAX_PAYABLE_IIT", _("应交个人所得税（代扣）")
    TAX_PAYABLE_VAT = "TAX_PAYABLE_VAT", _("应交增值税")
    TAX_PAYABLE_SURCHARGE = "TAX_PAYABLE_SURCHARGE", _("应交附加税费")
    CHANNEL_CLEARING = "CHANNEL_CLEARING", _("通道清算户")
    CUSTODY_BANK = "CUSTODY_BANK", _("备付金银行存款")
    SUSPENSE = "SUSPENSE", _("待查明款项")


class Channel(models.TextChoices):
    """Payment channels; a CHANNEL_CLEARING account exists per channel."""

    BANK = "BANK", _("银行卡")
    ALIPAY = "ALIPAY", _("支付宝")
    WECHAT = "WECHAT", _("微信")


MERCHANT_KINDS = (AccountKind.MERCHANT_AVAILABLE, AccountKind.MERCHANT_FROZEN, AccountKind.WORKER_PAYABLE)

# Normal side and whether the account may go below zero. Assets the platform holds (custody bank, channel clearing)
# may: an external account can be overdrawn for a moment in a real bank too, and reconciliation explains it.
ACCOUNT_RULES: dict[str, tuple[str, bool]] = {
    AccountKind.MERCHANT_AVAILABLE: (Side.CREDIT, False),
    AccountKind.MERCHANT_FROZEN: (Side.CREDIT, False),
    AccountKind.WORKER_PAYABLE: (Side.CREDIT, False),
    AccountKind.PLATFORM_FEE_REVENUE: (Side.CREDIT, False),
    AccountKind.TAX_PAYABLE_IIT: (Side.CREDIT, False),
    AccountKind.TAX_PAYABLE_VAT: (Side.CREDIT, False),
    AccountKind.TAX_PAYABLE_SURCHARGE: (Side.CREDIT, False),
    AccountKind.CHANNEL_CLEARING: (Side.DEBIT, True),
    AccountKind.CUSTODY_BANK: (Side.DEBIT, True),
    AccountKind.SUSPENSE: (Side.CREDIT, False),
}


class LedgerAccount(models.Model):
    """One account of the ledger. Balances change only through ``ledger.services.entry_post``."""

    kind = models.CharField(_("科目"), max_length=32, choices=AccountKind.choices)
    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("所属企业"),
    )
    channel = models.CharField(_("通道"), max_length=16, choices=Channel.choices, blank=True, default="")
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    normal_side = models.CharField(_("余额方向"), max_length=6, choices=Side.choices)
    allow_negative = models.BooleanField(_("允许负余额"), default=False)
    balance_fen = models.BigIntegerField(_("余额（分）"), default=0)
    created_at = models.DateTimeField(_("开立时间"))
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        verbose_name = _("账户")
        verbose_name_plural = _("账户")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(allow_negative=True) | models.Q(balance_fen__gte=0),
                name="ledger_account_not_negative",
            ),
            models.UniqueConstraint(
                fields=["kind", "merchant", "channel", "currency"], condition=models.Q(merchant__isnull=False),
                name="ledger_account_unique_per_merchant",
            ),
            models.UniqueConstraint(
                fields=["kind", "channel", "currency"], condition=models.Q(merchant__isnull=True),
                name="ledger_account_unique_platform",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="CHANNEL_CLEARING", channel__in=["BANK", "ALIPAY", "WECHAT"])
                | (~models.Q(kind="CHANNEL_CLEARING") & models.Q(channel="")),
                name="ledger_account_channel_only_for_clearing",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["MERCHANT_AVAILABLE", "MERCHANT_FROZEN", "WORKER_PAYABLE"],
                                   merchant__isnull=False)
                | (~models.Q(kind__in=["MERCHANT_AVAILABLE", "MERCHANT_FROZEN", "WORKER_PAYABLE"])
                   & models.Q(merchant__isnull=True)),
                name="ledger_account_owner_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        owner = self.merchant.name if self.merchant_id else _("平台")
        suffix = f"·{self.get_channel_display()}" if self.channel else ""
        return f"{owner}·{self.get_kind_display()}{suffix}"

    @property
    def sign(self) -> int:
        """+1 for debit-normal accounts, -1 for credit-normal ones: ``balance_fen == sign * Σ amount_fen``."""
        return 1 if self.normal_side == Side.DEBIT else -1


class JournalEntry(models.Model):
    """记账凭证: one business event, two or more postings that sum to zero. Immutable once written.

    ``kind`` names the event (``funding.incoming``, ``payout.freeze``, ...); ``ref`` names what caused it
    (``payouts.incomingtransfer:17``). ``(kind, ref)`` is unique: posting the same event twice is a no-op.
    """

    kind = models.CharField(_("业务类型"), max_length=64)
    ref = models.CharField(_("业务引用"), max_length=128)
    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("企业"),
    )
    memo = models.CharField(_("摘要"), max_length=200, blank=True)
    posted_at = models.DateTimeField(_("记账时间"), db_index=True)
    created_at = models.DateTimeField(_("写入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("记账凭证")
        verbose_name_plural = _("记账凭证")
        constraints = [models.UniqueConstraint(fields=["kind", "ref"], name="ledger_entry_unique_kind_ref")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.ref}"


class Posting(models.Model):
    """分录: one signed amount on one account (positive = debit). ``balance_after_fen`` is the account's
    normal-side balance right after this posting (accounts are locked while posting, so it is exact)."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings",
                              verbose_name=_("凭证"))
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="postings",
                                verbose_name=_("账户"))
    amount_fen = models.BigIntegerField(_("金额（分，借正贷负）"))
    balance_after_fen = models.BigIntegerField(_("记账后余额（分）"))
    posted_at = models.DateTimeField(_("记账时间"))

    class Meta:
        verbose_name = _("分录")
        verbose_name_plural = _("分录")
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount_fen=0), name="ledger_posting_not_zero"),
        ]
        indexes = [models.Index(fields=["account", "posted_at", "id"], name="ledger_posting_acct_time")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount_fen}"
