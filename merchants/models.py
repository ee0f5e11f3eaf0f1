"""商户入驻: the merchant (enterprise) is the tenant of the platform.

- ``Merchant``: the tenant and its account state (申请中 → 待签约 → 已签约 → 已开户 → 已冻结/已注销).
- ``MerchantApplication``: the self-service application (入驻申请) with its review state.
- ``MerchantDocument``: uploaded files (business licence) with their checksum; served only through a checked view.
- ``ServiceAgreement``: the service agreement (服务协议), signed by the enterprise with an SMS code and sealed by the platform.
- ``MerchantConfiguration``: configuration items (配置项) set by operations.
- ``TermsAmendment``: a supplementary agreement (补充协议) changing the commercial terms of a signed agreement; the new
  terms apply only once the enterprise signs it.
- ``MerchantChangeRequest``: changes of key data and closing requests (账户变更 / 账户注销), re-reviewed; the rows are the history.
- ``StaffInvitation``: an invitation of finance/operator staff with a one-time link.
- ``ApiKey`` / ``ApiNonce``: partner API credentials and the replay guard of signed requests.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.models import TenantOwnedModel
from core.pii import EncryptedTextField, mask_id_number, mask_name, mask_phone


class Merchant(FSMModelMixin, models.Model):
    class Status(models.TextChoices):
        APPLYING = "APPLYING", _("申请中")
        REJECTED = "REJECTED", _("申请未通过")
        APPROVED = "APPROVED", _("待签约")
        SIGNED = "SIGNED", _("已签约待开户")
        ACTIVE = "ACTIVE", _("已开户")
        SUSPENDED = "SUSPENDED", _("已冻结")
        CLOSED = "CLOSED", _("已注销")

    name = models.CharField(_("企业名称"), max_length=200)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    status = FSMField(_("状态"), max_length=16, choices=Status.choices, default=Status.APPLYING, protected=True)
    approved_at = models.DateTimeField(_("审核通过时间"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签约时间"), null=True, blank=True)
    activated_at = models.DateTimeField(_("开户时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("注销时间"), null=True, blank=True)
    archive_pending = models.BooleanField(_("待归档"), default=False,
                                          help_text=_("注销后其记录待档案管理接收"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    # --- transitions (own fields only; the services save and audit) ---------------------------------------
    @transition(field=status, source=Status.APPLYING, target=Status.APPROVED)
    def approve(self, *, at) -> None:
        self.approved_at = at

    @transition(field=status, source=Status.APPLYING, target=Status.REJECTED)
    def reject(self) -> None:
        pass

    @transition(field=status, source=Status.REJECTED, target=Status.APPLYING)
    def reapply(self) -> None:
        pass

    @transition(field=status, source=Status.APPROVED, target=Status.SIGNED)
    def sign(self, *, at) -> None:
        self.signed_at = at

    @transition(field=status, source=Status.SIGNED, target=Status.ACTIVE)
    def open_account(self, *, at) -> None:
        self.activated_at = at

    @transition(field=status, source=Status.ACTIVE, target=Status.SUSPENDED)
    def suspend(self) -> None:
        pass

    @transition(field=status, source=Status.SUSPENDED, target=Status.ACTIVE)
    def resume(self) -> None:
        pass

    @transition(field=status, source=[Status.ACTIVE, Status.SUSPENDED], target=Status.CLOSED)
    def close(self, *, at) -> None:
        self.closed_at = at
        self.archive_pending = True


class Industry(models.TextChoices):
    LOGISTICS = "LOGISTICS", _("交通运输与即时配送")
    INFORMATION = "INFORMATION", _("信息技术与数据服务")
    LIFE_SERVICE = "LIFE_SERVICE", _("居民生活服务（家政、维修等）")
    MARKETING = "MARKETING", _("市场推广与营销服务")
    EDUCATION = "EDUCATION", _("教育培训与知识服务")
    CULTURE = "CULTURE", _("文化、体育与娱乐（内容创作）")
    MANUFACTURING = "MANUFACTURING", _("制造业（生产辅助）")
    CONSTRUCTION = "CONSTRUCTION", _("建筑安装与装饰")
    HOSPITALITY = "HOSPITALITY", _("住宿与餐饮")
    OTHER = "OTHER", _("其他（请在业务场景中说明）")


def document_path(instance, filename: str) -> str:
    """Files are stored under a random name per tenant; the original name is kept in the row only."""
    import os
    import uuid

    return f"merchants/{instance.merchant_id}/{uuid.uuid4().hex}{os.path.splitext(filename)[1].lower()}"


class MerchantDocument(TenantOwnedModel):
    """An uploaded file of an enterprise. Its type is checked by its content; its SHA-256 is kept for integrity."""

    class Kind(models.TextChoices):
        LICENCE = "LICENCE", _("营业执照")
        AGREEMENT = "AGREEMENT", _("服务协议")
        AMENDMENT = "AMENDMENT", _("补充协议")

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    file = models.FileField(_("文件"), upload_to=document_path)
    content_type = models.CharField(_("内容类型"), max_length=64)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("上传人"))

    class Meta:
        verbose_name = _("企业文件")
        verbose_name_plural = _("企业文件")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"


class MerchantApplication(FSMModelMixin, TenantOwnedModel):
    """入驻申请. One per merchant; editable while DRAFT or INFO_REQUESTED; reviewed by operations once SUBMITTED."""

    class Status(models.TextChoices):
        DRAFT = "DRAFT", _("草稿")
        SUBMITTED = "SUBMITTED", _("待审核")
        INFO_REQUESTED = "INFO_REQUESTED", _("待补充资料")
        APPROVED = "APPROVED", _("审核通过")
        REJECTED = "REJECTED", _("已驳回")

    class Verification(models.TextChoices):
        NOT_STARTED = "NOT_STARTED", _("未认证")
        PASSED = "PASSED", _("认证通过")
        FAILED = "FAILED", _("认证未通过")

    merchant = models.OneToOneField("merchants.Merchant", on_delete=models.PROTECT, related_name="application",
                                    verbose_name=_("企业"))
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("申请人"))
    status = FSMField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT, protected=True)
    step = models.PositiveSmallIntegerField(_("已完成步骤"), default=1)
    company_name = models.CharField(_("企业名称"), max_length=200)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18)
    legal_rep_name = EncryptedTextField(_("法定代表人姓名"), blank=True, default="")
    legal_rep_id_number = EncryptedTextField(_("法定代表人身份证号"), blank=True, default="")
    legal_rep_id_index = models.CharField(max_length=40, blank=True, default="", editable=False, db_index=True)
    contact_name = EncryptedTextField(_("联系人姓名"), blank=True, default="")
    contact_phone = EncryptedTextField(_("联系人手机号"), blank=True, default="")
    contact_email = models.EmailField(_("联系人邮箱"), blank=True, default="")
    registered_address = models.CharField(_("注册地址"), max_length=300, blank=True, default="")
    industry = models.CharField(_("所属行业"), max_length=32, choices=Industry.choices, blank=True, default="")
    business_scenario = models.TextField(_("业务场景（灵工人员从事的工作）"), blank=True, default="")
    expected_monthly_volume_fen = models.BigIntegerField(_("预计月发放金额（分）"), null=True, blank=True)
    expected_monthly_workers = models.PositiveIntegerField(_("预计月用工人数"), null=True, blank=True)
    licence = models.ForeignKey(MerchantDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("营业执照"))
    verification_status = models.CharField(_("企业认证"), max_length=16, choices=Verification.choices,
                                           default=Verification.NOT_STARTED)
    verification_reason = models.CharField(_("认证结果说明"), max_length=300, blank=True, default="")
    verification_reference = models.CharField(_("认证流水号"), max_length=64, blank=True, default="")
    verified_at = models.DateTimeField(_("认证时间"), null=True, blank=True)
    risk_outcome = models.CharField(_("风控结论"), max_length=16, blank=True, default="")
    risk_reasons = models.JSONField(_("风控原因"), default=list, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("审核人"))
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = models.TextField(_("审核意见"), blank=True, default="")

    class Meta:
        verbose_name = _("入驻申请")
        verbose_name_plural = _("入驻申请")
        indexes = [models.Index(fields=["status", "submitted_at"], name="merchant_app_queue_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(expected_monthly_volume_fen__isnull=True)
                                   | models.Q(expected_monthly_volume_fen__gt=0),
                                   name="merchant_app_volume_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.company_name}（{self.get_status_display()}）"

    @property
    def editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.INFO_REQUESTED)

    @property
    def legal_rep_name_masked(self) -> str:
        return mask_name(self.legal_rep_name)

    @property
    def legal_rep_id_masked(self) -> str:
        return mask_id_number(self.legal_rep_id_number)

    @property
    def contact_name_masked(self) -> str:
        return mask_name(self.contact_name)

    @property
    def contact_phone_masked(self) -> str:
        return mask_phone(self.contact_phone)

    @transition(field=status, source=[Status.DRAFT, Status.INFO_REQUESTED], target=Status.SUBMITTED)
    def submit(self, *, at) -> None:
        self.submitted_at = at

    @transition(field=status, source=Status.SUBMITTED, target=Status.INFO_REQUESTED)
    def request_info(self, *, by, at, note: str) -> None:
        self.reviewed_by, self.reviewed_at, self.review_note = by, at, note

    @transition(field=status, source=Status.SUBMITTED, target=Status.APPROVED)
    def approve(self, *, by, at, note: str) -> None:
        self.reviewed_by, self.reviewed_at, self.review_note = by, at, note

    @transition(field=status, source=Status.SUBMITTED, target=Status.REJECTED)
    def reject(self, *, by, at, note: str) -> None:
        self.reviewed_by, self.reviewed_at, self.review_note = by, at, note

    @transition(field=status, source=Status.REJECTED, target=Status.DRAFT)
    def reopen(self) -> None:
        self.verification_status = self.Verification.NOT_STARTED
        self.risk_outcome, self.risk_reasons = "", []


class SignedByEnterprise(models.Model):
    """A document the enterprise signs with an SMS code and the platform seals: who signed, when, from where, and the
    sealed PDF with its hash (the service agreement and its supplementary agreements)."""

    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("企业签署人"))
    signer_label = models.CharField(_("签署人（脱敏）"), max_length=100, blank=True, default="")
    signed_at = models.DateTimeField(_("签署时间"), null=True, blank=True)
    signed_ip = models.GenericIPAddressField(_("签署 IP"), null=True, blank=True)
    document = models.ForeignKey(MerchantDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("已签署文件"))
    sha256 = models.CharField(_("文件 SHA-256"), max_length=64, blank=True, default="")
    platform_signer = models.CharField(_("平台签章证书"), max_length=255, blank=True, default="")

    class Meta:
        abstract = True

    def record_signature(self, *, by, at, ip, label: str) -> None:
        self.signed_by, self.signed_at, self.signed_ip, self.signer_label = by, at, ip or None, label


class ServiceAgreement(FSMModelMixin, SignedByEnterprise, TenantOwnedModel):
    """服务协议 (DB12/T 1211 §6.1.2.1). Terms are fixed when it is issued (fee snapshot); signing records the consent
    (who, when, IP, SMS) and stores the platform-sealed PDF with its hash."""

    class Status(models.TextChoices):
        PENDING = "PENDING", _("待签署")
        SIGNED = "SIGNED", _("已签署")
        TERMINATED = "TERMINATED", _("已终止")

    status = FSMField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING, protected=True)
    number = models.CharField(_("协议编号"), max_length=40, unique=True)
    template_version = models.CharField(_("模板版本"), max_length=20)
    terms = models.JSONField(_("协议条款快照"), default=dict)
    issued_at = models.DateTimeField(_("生成时间"))
    terminated_at = models.DateTimeField(_("终止时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("服务协议")
        verbose_name_plural = _("服务协议")
        constraints = [
            models.UniqueConstraint(fields=["merchant"], condition=models.Q(status="PENDING"),
                                    name="service_agreement_one_pending"),
            models.UniqueConstraint(fields=["merchant"], condition=models.Q(status="SIGNED"),
                                    name="service_agreement_one_signed"),
        ]

    def __str__(self) -> str:
        return f"服务协议 {self.number}"

    @transition(field=status, source=Status.PENDING, target=Status.SIGNED)
    def sign(self, *, by, at, ip, label: str) -> None:
        self.record_signature(by=by, at=at, ip=ip, label=label)

    @transition(field=status, source=[Status.PENDING, Status.SIGNED], target=Status.TERMINATED)
    def terminate(self, *, at) -> None:
        self.terminated_at = at


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


class TermsAmendment(FSMModelMixin, SignedByEnterprise, TenantOwnedModel):
    """补充协议: operations change the commercial terms (fee rate, fixed fee, minimum, tiers, bearers, timing) of an
    enterprise whose service agreement is signed. The change waits here until the enterprise admin signs it with an SMS
    code; then the platform seals the PDF and the new terms are written into the configuration.

    ``changes``: field → {"before", "after"} as configuration values (fee_rate as "0.0550"); ``rows``: the same as
    the Chinese lines of the document (条款 / 原约定 / 变更后). One pending per enterprise: a new proposal withdraws it.
    """

    class Status(models.TextChoices):
        PENDING = "PENDING", _("待签署")
        SIGNED = "SIGNED", _("已签署")
        WITHDRAWN = "WITHDRAWN", _("已撤回")

    status = FSMField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING, protected=True)
    number = models.CharField(_("补充协议编号"), max_length=40, unique=True)
    agreement = models.ForeignKey(ServiceAgreement, on_delete=models.PROTECT, related_name="amendments",
                                  verbose_name=_("所补充的服务协议"))
    template_version = models.CharField(_("模板版本"), max_length=20)
    changes = models.JSONField(_("变更的条款（配置值）"), default=dict)
    rows = models.JSONField(_("变更的条款（协议文本）"), default=list)
    reason = models.TextField(_("变更原因"), blank=True, default="")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("提出人"))
    proposed_at = models.DateTimeField(_("提出时间"))
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    replaced_by = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("被替换为"))

    class Meta:
        verbose_name = _("补充协议")
        verbose_name_plural = _("补充协议")
        constraints = [
            models.UniqueConstraint(fields=["merchant"], condition=models.Q(status="PENDING"),
                                    name="terms_amendment_one_pending"),
        ]

    def __str__(self) -> str:
        return f"补充协议 {self.number}"

    @transition(field=status, source=Status.PENDING, target=Status.SIGNED)
    def sign(self, *, by, at, ip, label: str) -> None:
        self.record_signature(by=by, at=at, ip=ip, label=label)

    @transition(field=status, source=Status.PENDING, target=Status.WITHDRAWN)
    def withdraw(self, *, at) -> None:
        self.withdrawn_at = at


class MerchantChangeRequest(FSMModelMixin, TenantOwnedModel):
    """账户变更 / 账户注销 requested by the enterprise, re-reviewed by operations. The rows are the change history.

    ``changes`` holds the new values of key data (field → value); personal data in it is encrypted (``changes_secret``
    holds the JSON of the personal fields). ``previous`` keeps the masked values before the change.
    """

    class Kind(models.TextChoices):
        CHANGE = "CHANGE", _("账户变更")
        CLOSE = "CLOSE", _("账户注销")

    class Status(models.TextChoices):
        PENDING = "PENDING", _("待审核")
        APPROVED = "APPROVED", _("已通过")
        REJECTED = "REJECTED", _("已驳回")
        WITHDRAWN = "WITHDRAWN", _("已撤回")

    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices, default=Kind.CHANGE)
    status = FSMField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING, protected=True)
    changes = models.JSONField(_("变更内容（非个人信息）"), default=dict, blank=True)
    changes_secret = EncryptedTextField(_("变更内容（个人信息，加密）"), blank=True, default="")
    changes_masked = models.JSONField(_("变更内容（脱敏展示）"), default=dict, blank=True)
    previous = models.JSONField(_("变更前（脱敏）"), default=dict, blank=True)
    reason = models.TextField(_("申请说明"), blank=True, default="")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("申请人"))
    requested_at = models.DateTimeField(_("申请时间"))
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("审核人"))
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = models.TextField(_("审核意见"), blank=True, default="")
    risk_outcome = models.CharField(_("风控结论"), max_length=16, blank=True, default="")
    risk_reasons = models.JSONField(_("风控原因"), default=list, blank=True)

    class Meta:
        verbose_name = _("账户变更/注销申请")
        verbose_name_plural = _("账户变更/注销申请")
        constraints = [
            models.UniqueConstraint(fields=["merchant"], condition=models.Q(status="PENDING"),
                                    name="merchant_change_one_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}（{self.get_status_display()}）"

    @transition(field=status, source=Status.PENDING, target=Status.APPROVED)
    def approve(self, *, by, at, note: str) -> None:
        self.reviewed_by, self.reviewed_at, self.review_note = by, at, note

    @transition(field=status, source=Status.PENDING, target=Status.REJECTED)
    def reject(self, *, by, at, note: str) -> None:
        self.reviewed_by, self.reviewed_at, self.review_note = by, at, note

    @transition(field=status, source=Status.PENDING, target=Status.WITHDRAWN)
    def withdraw(self, *, at) -> None:
        self.reviewed_at = at


class StaffInvitation(TenantOwnedModel):
    """An invitation of enterprise staff (finance / operator). Only the token's hash is kept; the link works once."""

    role = models.CharField(_("角色"), max_length=16)
    full_name = EncryptedTextField(_("姓名"), blank=True, default="")
    phone = EncryptedTextField(_("手机号"), blank=True, default="")
    email = models.EmailField(_("邮箱"), blank=True, default="")
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("邀请人"))
    invited_at = models.DateTimeField(_("邀请时间"))
    expires_at = models.DateTimeField(_("过期时间"))
    accepted_at = models.DateTimeField(_("接受时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("创建的账号"))

    class Meta:
        verbose_name = _("员工邀请")
        verbose_name_plural = _("员工邀请")

    def __str__(self) -> str:
        return f"{self.role} {mask_phone(self.phone) or self.email}"

    def state_on(self, now) -> str:
        if self.accepted_at:
            return "ACCEPTED"
        if self.revoked_at:
            return "REVOKED"
        if self.expires_at <= now:
            return "EXPIRED"
        return "PENDING"


class ApiKey(TenantOwnedModel):
    """A partner API credential. The secret is shown once; only its SHA-256 is kept (encrypted at rest), and that
    hash is the HMAC key of the request signature (see docs/api.md), so the secret itself is never stored."""

    key_id = models.CharField(_("Key ID"), max_length=40, unique=True)
    label = models.CharField(_("用途说明"), max_length=100, blank=True, default="")
    secret_hash = EncryptedTextField(_("密钥摘要（加密）"))
    secret_hint = models.CharField(_("密钥末四位"), max_length=8)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("创建人"))
    issued_at = models.DateTimeField(_("创建时间"))
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("吊销人"))

    class Meta:
        verbose_name = _("API 密钥")
        verbose_name_plural = _("API 密钥")

    def __str__(self) -> str:
        return self.key_id

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiNonce(models.Model):
    """Nonces seen within the timestamp window; the unique constraint refuses a replayed request."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("API 请求随机数")
        verbose_name_plural = _("API 请求随机数")
        constraints = [models.UniqueConstraint(fields=["api_key", "nonce"], name="api_nonce_unique_per_key")]
