"""商户入驻: the merchant (enterprise) is the tenant of the platform. The onboarding issue fills in the rest."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class Merchant(models.Model):
    class Status(models.TextChoices):
        APPLYING = "APPLYING", _("申请中")
        ACTIVE = "ACTIVE", _("已开户")
        SUSPENDED = "SUSPENDED", _("已冻结")
        CLOSED = "CLOSED", _("已注销")

    name = models.CharField(_("企业名称"), max_length=200)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.APPLYING)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")

    def __str__(self) -> str:
        return self.name


class MerchantConfiguration(models.Model):
    """配置项: what operations configure for an enterprise once it is signed (DB12/T 1211 §6.1.3 a).

    One row per merchant. Amounts in fen, rates as Decimal fractions (0.0600 = 6%). Other apps read it through
    ``merchants.selectors.merchant_configuration``; operations change it through ``merchants.services``.
    """

    class Bearer(models.TextChoices):
        MERCHANT = "MERCHANT", _("企业承担")
        WORKER = "WORKER", _("灵工人员承担")

    class FeeTiming(models.TextChoices):
        BEFORE = "BEFORE", _("交易前（确认付款时收取）")
        DURING = "DURING", _("交易中（发放时收取）")
        AFTER = "AFTER", _("交易后（按月出账）")

    merchant = models.OneToOneField(Merchant, on_delete=models.PROTECT, related_name="configuration",
                                    verbose_name=_("企业"))
    fee_rate = models.DecimalField(_("服务费率"), max_digits=7, decimal_places=4, default=Decimal("0.0600"))
    fee_fixed_fen = models.BigIntegerField(_("每笔固定费（分）"), default=0)
    fee_minimum_fen = models.BigIntegerField(_("每笔最低服务费（分）"), default=0)
    # Tiers by the merchant's monthly paid volume: [{"from_fen": 0, "rate": "0.0600"}, {"from_fen": 100000000, "rate": "0.0550"}]
    fee_tiers = models.JSONField(_("阶梯费率"), default=list, blank=True)
    fee_bearer = models.CharField(_("服务费承担方"), max_length=16, choices=Bearer.choices, default=Bearer.MERCHANT)
    fee_timing = models.CharField(_("计费时点"), max_length=16, choices=FeeTiming.choices, default=FeeTiming.BEFORE)
    tax_bearer = models.CharField(_("税费承担方"), max_length=16, choices=Bearer.choices, default=Bearer.WORKER)
    enabled_channels = models.JSONField(_("开通的付款通道"), default=list, blank=True,
                                        help_text='e.g. ["BANK", "ALIPAY", "WECHAT"]')
    single_payment_limit_fen = models.BigIntegerField(_("单笔限额（分）"), default=5_000_000)
    worker_monthly_limit_fen = models.BigIntegerField(_("每人每月限额（分）"), default=9_500_000)
    daily_limit_fen = models.BigIntegerField(_("企业每日限额（分）"), default=500_000_000)
    second_approval_threshold_fen = models.BigIntegerField(_("需第二人复核的批次金额（分）"), default=10_000_000)
    require_budget_cover = models.BooleanField(_("发布任务需余额覆盖预算"), default=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("企业配置项")
        verbose_name_plural = _("企业配置项")
        constraints = [
            models.CheckConstraint(condition=models.Q(fee_rate__gte=0) & models.Q(fee_rate__lt=1),
                                   name="merchant_config_fee_rate_range"),
            models.CheckConstraint(condition=models.Q(fee_fixed_fen__gte=0) & models.Q(fee_minimum_fen__gte=0)
                                   & models.Q(single_payment_limit_fen__gt=0) & models.Q(worker_monthly_limit_fen__gt=0)
                                   & models.Q(daily_limit_fen__gt=0) & models.Q(second_approval_threshold_fen__gt=0),
                                   name="merchant_config_amounts_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.merchant} 配置项"
