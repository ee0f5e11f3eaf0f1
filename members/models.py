"""会员注册与签约: the worker's identity and their relationship with each enterprise.

A ``Member`` is one natural person (one per resident ID number on the platform), linked to the worker's user
account. A ``MemberMerchant`` is their relationship with one enterprise (the tenant): invited, registered,
verified, signed. The onboarding issue adds verification attempts, agreements and payout accounts.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TenantOwnedModel, TimeStampedModel
from core.pii import EncryptedTextField, blind_index, mask_id_number, mask_name


class Member(TimeStampedModel):
    class Verification(models.TextChoices):
        UNVERIFIED = "UNVERIFIED", _("未实名")
        VERIFIED = "VERIFIED", _("已实名")
        FAILED = "FAILED", _("认证未通过")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="member",
                                verbose_name=_("用户"))
    name = EncryptedTextField(_("姓名"), blank=True, default="")
    id_number = EncryptedTextField(_("身份证号"), blank=True, default="")
    id_number_index = models.CharField(max_length=40, null=True, blank=True, unique=True, editable=False)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    verification_status = models.CharField(_("实名状态"), max_length=16, choices=Verification.choices,
                                           default=Verification.UNVERIFIED)
    verified_at = models.DateTimeField(_("实名时间"), null=True, blank=True)
    is_individual_business = models.BooleanField(_("个体工商户（经营所得自行开票）"), default=False)

    class Meta:
        verbose_name = _("灵工人员")
        verbose_name_plural = _("灵工人员")
        constraints = [
            models.CheckConstraint(
                condition=~Q(verification_status="VERIFIED") | (Q(verified_at__isnull=False)
                                                                & Q(id_number_index__isnull=False)),
                name="member_verified_has_identity",
            ),
        ]

    def __str__(self) -> str:
        return f"{mask_name(self.name) or '未实名'}（#{self.pk}）"

    def set_identity(self, *, name: str, id_number: str) -> None:
        self.name = name
        self.id_number = id_number
        self.id_number_index = blind_index(id_number, purpose="id_number")

    @property
    def name_masked(self) -> str:
        return mask_name(self.name)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def is_verified(self) -> bool:
        return self.verification_status == self.Verification.VERIFIED


class MemberMerchant(TenantOwnedModel):
    """A worker's relationship with one enterprise (the tenant)."""

    class Status(models.TextChoices):
        INVITED = "INVITED", _("已邀请")
        REGISTERED = "REGISTERED", _("已注册")
        VERIFIED = "VERIFIED", _("已实名")
        SIGNED = "SIGNED", _("已签约")
        TERMINATED = "TERMINATED", _("已解约")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="relationships",
                               null=True, blank=True, verbose_name=_("灵工人员"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.INVITED)
    signed_at = models.DateTimeField(_("签约时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("企业与灵工人员关系")
        verbose_name_plural = _("企业与灵工人员关系")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "member"], name="member_merchant_unique"),
            models.CheckConstraint(condition=~Q(status="SIGNED") | Q(signed_at__isnull=False),
                                   name="member_merchant_signed_has_time"),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id}:{self.member_id} {self.status}"
