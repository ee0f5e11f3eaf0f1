"""商户入驻: the merchant (enterprise) is the tenant of the platform. The onboarding issue fills in the rest."""

from __future__ import annotations

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
