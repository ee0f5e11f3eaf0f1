"""会员注册与签约: the worker's identity, their relationship with each enterprise, agreements and payout accounts.

A ``Member`` is one natural person (one per resident ID number on the platform, enforced by a blind index),
linked to the worker's user account. A ``MemberMerchant`` is their relationship with one enterprise (the tenant):
invited → registered → verified → signed. ``VerificationAttempt`` keeps every real-name check (no plaintext),
``Agreement`` every signed cooperation agreement (合作协议), ``PayoutAccount`` where the worker is paid.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.models import TenantOwnedModel, TimeStampedModel
from core.pii import EncryptedTextField, blind_index, mask_id_number, mask_name, mask_phone


class Member(FSMModelMixin, TimeStampedModel):
    class Verification(models.TextChoices):
        UNVERIFIED = "UNVERIFIED", _("未实名")
        VERIFIED = "VERIFIED", _("已实名")
        FAILED = "FAILED", _("认证未通过")

    class Method(models.TextChoices):
        THREE_FACTOR = "THREE_FACTOR", _("三要素（姓名、身份证号、银行卡）")
        FOUR_FACTOR = "FOUR_FACTOR", _("四要素（姓名、身份证号、银行卡、手机号）")
        OFFLINE = "OFFLINE", _("线下核验（运营代办）")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="member",
                                verbose_name=_("用户"))
    name = EncryptedTextField(_("姓名"), blank=True, default="")
    id_number = EncryptedTextField(_("身份证号"), blank=True, default="")
    id_number_index = models.CharField(max_length=40, null=True, blank=True, unique=True, editable=False)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    verification_status = FSMField(_("实名状态"), max_length=16, choices=Verification.choices,
                                   default=Verification.UNVERIFIED, protected=True)
    verification_method = models.CharField(_("实名方式"), max_length=16, choices=Method.choices, blank=True)
    verified_at = models.DateTimeField(_("实名时间"), null=True, blank=True)
    failure_reason = models.CharField(_("未通过原因"), max_length=200, blank=True)
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

    def audit_label(self) -> str:
        return f"member:{self.pk}"

    def set_identity(self, *, name: str, id_number: str) -> None:
        self.name = name
        self.id_number = id_number
        self.id_number_index = blind_index(id_number, purpose="id_number")

    # --- FSM: real-name verification (changes only this row's fields) ---------------------------------------

    @transition(field=verification_status, source=[Verification.UNVERIFIED, Verification.FAILED],
                target=Verification.VERIFIED)
    def mark_verified(self, *, at, via: str) -> None:
        self.verified_at = at
        self.verification_method = via
        self.failure_reason = ""

    @transition(field=verification_status, source=[Verification.UNVERIFIED, Verification.FAILED],
                target=Verification.FAILED)
    def mark_failed(self, *, reason: str) -> None:
        self.failure_reason = reason[:200]

    @property
    def name_masked(self) -> str:
        return mask_name(self.name)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def is_verified(self) -> bool:
        return self.verification_status == self.Verification.VERIFIED


class VerificationAttempt(models.Model):
    """One real-name check sent to the provider (or stopped before it). Holds no plaintext personal data."""

    class Outcome(models.TextChoices):
        PASSED = "PASSED", _("通过")
        FAILED = "FAILED", _("未通过")
        ERROR = "ERROR", _("通道异常（未计次）")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="verification_attempts",
                               verbose_name=_("灵工人员"))
    at = models.DateTimeField(_("时间"), db_index=True)
    factors = models.PositiveSmallIntegerField(_("要素数"))
    outcome = models.CharField(_("结果"), max_length=8, choices=Outcome.choices)
    reason_code = models.CharField(_("原因代码"), max_length=40, blank=True)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    provider = models.CharField(_("通道"), max_length=32)
    provider_ref = models.CharField(_("通道流水号"), max_length=64, blank=True)
    id_number_index = models.CharField(max_length=40, blank=True, editable=False)
    id_number_masked = models.CharField(_("身份证号（脱敏）"), max_length=24, blank=True)
    bank_card_masked = models.CharField(_("银行卡（脱敏）"), max_length=32, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)

    class Meta:
        verbose_name = _("实名认证记录")
        verbose_name_plural = _("实名认证记录")
        indexes = [models.Index(fields=["member", "at"], name="member_attempt_at_idx")]

    def __str__(self) -> str:
        return f"#{self.member_id} {self.at:%Y-%m-%d %H:%M} {self.outcome}"


class MemberMerchant(FSMModelMixin, TenantOwnedModel):
    """A worker's relationship with one enterprise (the tenant): invited → registered → verified → signed.

    An invitation carries the name, ID number and phone the enterprise entered (encrypted, with blind indexes); the
    worker is linked (``member``) when they accept it after signing in.
    """

    class Status(models.TextChoices):
        INVITED = "INVITED", _("已邀请")
        REGISTERED = "REGISTERED", _("已注册")
        VERIFIED = "VERIFIED", _("已实名")
        SIGNED = "SIGNED", _("已签约")
        TERMINATED = "TERMINATED", _("已解约")

    class Source(models.TextChoices):
        PORTAL = "PORTAL", _("企业端逐个邀请")
        UPLOAD = "UPLOAD", _("企业端名单导入")
        API = "API", _("合作方接口")
        OFFLINE = "OFFLINE", _("线下登记（运营代办）")

    class Side(models.TextChoices):
        ENTERPRISE = "ENTERPRISE", _("企业")
        WORKER = "WORKER", _("灵工人员")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="relationships",
                               null=True, blank=True, verbose_name=_("灵工人员"))
    status = FSMField(_("状态"), max_length=16, choices=Status.choices, default=Status.INVITED, protected=True)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices, default=Source.PORTAL)
    invite_name = EncryptedTextField(_("受邀人姓名"), blank=True, default="")
    invite_id_number = EncryptedTextField(_("受邀人身份证号"), blank=True, default="")
    invite_id_number_index = models.CharField(max_length=40, null=True, blank=True, editable=False)
    invite_phone = EncryptedTextField(_("受邀人手机号"), blank=True, default="")
    invite_phone_index = models.CharField(max_length=40, null=True, blank=True, editable=False, db_index=True)
    invite_token = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("邀请人"))
    invited_at = models.DateTimeField(_("邀请时间"), null=True, blank=True)
    registered_at = models.DateTimeField(_("注册时间"), null=True, blank=True)
    last_reminded_at = models.DateTimeField(_("最近提醒时间"), null=True, blank=True)
    reminder_count = models.PositiveIntegerField(_("提醒次数"), default=0)
    signed_at = models.DateTimeField(_("签约时间"), null=True, blank=True)
    terminated_at = models.DateTimeField(_("解约时间"), null=True, blank=True)
    terminated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+", verbose_name=_("解约操作人"))
    terminated_by_side = models.CharField(_("解约方"), max_length=16, choices=Side.choices, blank=True)
    termination_reason = models.TextField(_("解约原因"), blank=True)

    class Meta:
        verbose_name = _("企业与灵工人员关系")
        verbose_name_plural = _("企业与灵工人员关系")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "member"], name="member_merchant_unique"),
            models.UniqueConstraint(fields=["merchant", "invite_id_number_index"],
                                    condition=Q(invite_id_number_index__isnull=False),
                                    name="member_merchant_invite_id_unique"),
            models.UniqueConstraint(fields=["merchant", "invite_phone_index"],
                                    condition=Q(invite_phone_index__isnull=False),
                                    name="member_merchant_invite_phone_unique"),
            models.CheckConstraint(condition=~Q(status="SIGNED") | Q(signed_at__isnull=False),
                                   name="member_merchant_signed_has_time"),
            models.CheckConstraint(condition=~Q(status="TERMINATED") | Q(terminated_at__isnull=False),
                                   name="member_merchant_terminated_has_time"),
            models.CheckConstraint(condition=Q(status__in=["INVITED", "TERMINATED"]) | Q(member__isnull=False),
                                   name="member_merchant_linked_after_invite"),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id}:{self.member_id or '-'} {self.status}"

    # --- FSM (changes only this row's fields) --------------------------------------------------------------

    @transition(field=status, source=Status.INVITED, target=Status.REGISTERED)
    def register(self, *, member: Member, at) -> None:
        self.member = member
        self.registered_at = at

    @transition(field=status, source=[Status.INVITED, Status.REGISTERED], target=Status.VERIFIED)
    def mark_verified(self, *, member: Member, at) -> None:
        self.member = member
        self.registered_at = self.registered_at or at

    @transition(field=status, source=Status.VERIFIED, target=Status.SIGNED)
    def sign(self, *, at) -> None:
        self.signed_at = at

    @transition(field=status, source=[Status.INVITED, Status.REGISTERED, Status.VERIFIED, Status.SIGNED],
                target=Status.TERMINATED)
    def terminate(self, *, at, by=None, side: str = "", reason: str = "") -> None:
        """解约. The invitation link stops working (``invite_token`` cleared); the row stays, with its agreement."""
        self.terminated_at = at
        self.terminated_by = by
        self.terminated_by_side = side
        self.termination_reason = reason
        self.invite_token = None

    @property
    def invite_name_masked(self) -> str:
        return mask_name(self.invite_name or (self.member.name if self.member_id else ""))

    @property
    def invite_phone_masked(self) -> str:
        return mask_phone(self.invite_phone or (self.member.user.phone if self.member_id else ""))

    @property
    def invite_id_number_masked(self) -> str:
        return mask_id_number(self.invite_id_number or (self.member.id_number if self.member_id else ""))


def _agreement_path(instance, filename: str) -> str:
    return f"agreements/{instance.merchant_id}/{instance.number}.pdf" if filename.endswith(".pdf") \
        else f"agreements/{instance.merchant_id}/{instance.number}-{filename}"


class Agreement(TenantOwnedModel):
    """合作协议 (DB12/T 1211 §6.1.2.2): one per worker–enterprise relationship, signed once.

    Online: the worker consents with an SMS code (time, IP, document hash recorded) and the platform seals the PDF with
    its digital signature. Offline: operations upload the signed paper contract.
    """

    class Method(models.TextChoices):
        ONLINE = "ONLINE", _("线上电子签署")
        OFFLINE = "OFFLINE", _("线下纸质合同")

    relationship = models.OneToOneField(MemberMerchant, on_delete=models.PROTECT, related_name="agreement",
                                        verbose_name=_("企业与灵工人员关系"))
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="agreements",
                               verbose_name=_("灵工人员"))
    number = models.CharField(_("协议编号"), max_length=40, unique=True)
    template_version = models.CharField(_("模板版本"), max_length=32)
    method = models.CharField(_("签署方式"), max_length=16, choices=Method.choices)
    file = models.FileField(_("协议文件"), upload_to=_agreement_path, max_length=255)
    content_type = models.CharField(max_length=64, default="application/pdf")
    sha256 = models.CharField(_("文件 SHA-256"), max_length=64)
    unsigned_sha256 = models.CharField(_("签章前 SHA-256"), max_length=64, blank=True)
    signer = models.CharField(_("平台签章证书"), max_length=300, blank=True)
    signed_at = models.DateTimeField(_("签署时间"))
    signed_ip = models.GenericIPAddressField(_("签署 IP"), null=True, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("签署/登记人"))
    # set when either side ends the relationship (解约); the signed file is kept unchanged
    terminated_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("合作协议")
        verbose_name_plural = _("合作协议")

    def __str__(self) -> str:
        return self.number


class PayoutAccount(TimeStampedModel):
    """Where a worker is paid: a bank card (ownership checked by the verification provider), Alipay or WeChat."""

    class Kind(models.TextChoices):
        BANK = "BANK", _("银行卡")
        ALIPAY = "ALIPAY", _("支付宝")
        WECHAT = "WECHAT", _("微信")

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", _("可用")
        REMOVED = "REMOVED", _("已删除")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="payout_accounts",
                               verbose_name=_("灵工人员"))
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    account = EncryptedTextField(_("账号"))
    account_index = models.CharField(max_length=40, editable=False)
    account_masked = models.CharField(_("账号（脱敏）"), max_length=40)
    bank_name = models.CharField(_("开户行"), max_length=100, blank=True)
    is_default = models.BooleanField(_("默认"), default=False)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    verified_at = models.DateTimeField(_("核验时间"), null=True, blank=True)
    removed_at = models.DateTimeField(_("删除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("收款账户")
        verbose_name_plural = _("收款账户")
        constraints = [
            models.UniqueConstraint(fields=["member"], condition=Q(is_default=True, status="ACTIVE"),
                                    name="payout_account_one_default"),
            models.UniqueConstraint(fields=["member", "kind", "account_index"], condition=Q(status="ACTIVE"),
                                    name="payout_account_unique_active"),
            models.CheckConstraint(condition=~Q(is_default=True) | Q(status="ACTIVE"),
                                   name="payout_account_default_is_active"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.account_masked}"
