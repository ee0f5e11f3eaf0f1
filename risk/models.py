"""风控: lists (blacklist / whitelist, prohibited business keywords) and the record of every check.

The first, simple version used by onboarding: ``risk.services.check_merchant_application`` reads these lists.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ListEntry(models.Model):
    class ListType(models.TextChoices):
        BLACK = "BLACK", _("黑名单")
        WHITE = "WHITE", _("白名单")

    class Subject(models.TextChoices):
        USCC = "USCC", _("统一社会信用代码")
        MERCHANT_NAME = "MERCHANT_NAME", _("企业名称（包含）")
        SCENARIO_KEYWORD = "SCENARIO_KEYWORD", _("禁止的业务场景关键词")
        # Stored as the ID number's blind index (core.pii.blind_index, purpose "id_number"), never in clear.
        ID_NUMBER = "ID_NUMBER", _("灵工人员身份证号")

    list_type = models.CharField(_("名单"), max_length=8, choices=ListType.choices)
    subject = models.CharField(_("对象"), max_length=20, choices=Subject.choices)
    value = models.CharField(_("值"), max_length=200)
    reason = models.CharField(_("原因"), max_length=300)
    active = models.BooleanField(_("有效"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("创建人"))
    created_at = models.DateTimeField(_("创建时间"))

    class Meta:
        verbose_name = _("风控名单")
        verbose_name_plural = _("风控名单")
        constraints = [
            models.UniqueConstraint(fields=["list_type", "subject", "value"], name="risk_list_entry_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_list_type_display()} {self.get_subject_display()} {self.value}"


class RiskCheck(models.Model):
    """One decision of a rule set (who was checked, the outcome and the reasons), kept for inspection."""

    class Outcome(models.TextChoices):
        PASS = "PASS", _("通过")
        REVIEW = "REVIEW", _("需人工复核")
        REJECT = "REJECT", _("拒绝")

    check_name = models.CharField(_("检查"), max_length=64)
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("企业"))
    outcome = models.CharField(_("结论"), max_length=8, choices=Outcome.choices)
    reasons = models.JSONField(_("原因"), default=list)
    checked_at = models.DateTimeField(_("检查时间"))

    class Meta:
        verbose_name = _("风控检查记录")
        verbose_name_plural = _("风控检查记录")
        indexes = [models.Index(fields=["merchant", "checked_at"], name="risk_check_merchant_idx")]

    def __str__(self) -> str:
        return f"{self.check_name} {self.outcome}"
