"""Users and roles. One user table for everybody: platform staff, enterprise staff and workers.

Staff sign in with a username and password plus TOTP; workers with their phone number and an SMS code. A phone
number is personal data: it is stored encrypted with a blind index for lookups.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.pii import EncryptedTextField, blind_index, mask_name, mask_phone


class Kind(models.TextChoices):
    PLATFORM = "PLATFORM", _("平台运营人员")
    ENTERPRISE = "ENTERPRISE", _("企业用户")
    WORKER = "WORKER", _("灵工人员")


class Role(models.TextChoices):
    OPS_ADMIN = "OPS_ADMIN", _("平台管理员")
    OPS_REVIEWER = "OPS_REVIEWER", _("审核专员")
    OPS_FINANCE = "OPS_FINANCE", _("财务专员")
    OPS_RISK = "OPS_RISK", _("风控专员")
    OPS_SUPPORT = "OPS_SUPPORT", _("客服专员")
    ENT_ADMIN = "ENT_ADMIN", _("企业管理员")
    ENT_FINANCE = "ENT_FINANCE", _("企业财务")
    ENT_OPERATOR = "ENT_OPERATOR", _("企业经办人")
    WORKER = "WORKER", _("灵工人员")


PLATFORM_ROLES = (Role.OPS_ADMIN, Role.OPS_REVIEWER, Role.OPS_FINANCE, Role.OPS_RISK, Role.OPS_SUPPORT)
ENTERPRISE_ROLES = (Role.ENT_ADMIN, Role.ENT_FINANCE, Role.ENT_OPERATOR)
ROLE_KIND = {**{r: Kind.PLATFORM for r in PLATFORM_ROLES}, **{r: Kind.ENTERPRISE for r in ENTERPRISE_ROLES},
             Role.WORKER: Kind.WORKER}


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **fields):
        if not username:
            raise ValueError("a username is required")
        role = fields.setdefault("role", Role.OPS_SUPPORT)
        fields.setdefault("kind", ROLE_KIND[role])
        phone = fields.pop("phone", None)
        user = self.model(username=username, **fields)
        if phone:
            user.set_phone(phone)
        user.set_password(password) if password else user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True, role=Role.OPS_ADMIN, kind=Kind.PLATFORM)
        return self.create_user(username, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    username = models.CharField(_("登录名"), max_length=150, unique=True)
    email = models.EmailField(_("邮箱"), blank=True)
    full_name = EncryptedTextField(_("姓名"), blank=True, default="")
    phone = EncryptedTextField(_("手机号"), blank=True, default="")
    phone_index = models.CharField(max_length=40, null=True, blank=True, unique=True, editable=False)
    kind = models.CharField(_("用户类型"), max_length=16, choices=Kind.choices)
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)
    merchant = models.ForeignKey(
        "merchants.Merchant", verbose_name=_("所属企业"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="staff",
    )
    is_staff = models.BooleanField(_("可登录运营后台"), default=False)
    is_active = models.BooleanField(_("有效"), default=True)
    date_joined = models.DateTimeField(_("注册时间"), auto_now_add=True)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="ENTERPRISE", merchant__isnull=False) | (~Q(kind="ENTERPRISE") & Q(merchant__isnull=True)),
                name="user_merchant_only_for_enterprise_staff",
            ),
            models.CheckConstraint(
                condition=(Q(kind="PLATFORM", role__startswith="OPS_") | Q(kind="ENTERPRISE", role__startswith="ENT_")
                           | Q(kind="WORKER", role="WORKER")),
                name="user_role_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.audit_label()

    def audit_label(self) -> str:
        """A label without personal data (workers are known by id, staff by login name)."""
        if self.kind == Kind.WORKER:
            return f"worker:{self.pk}"
        return self.username

    def set_phone(self, phone: str) -> None:
        self.phone = phone
        self.phone_index = blind_index(phone, purpose="phone") if phone else None

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def name_masked(self) -> str:
        return mask_name(self.full_name) or self.username

    def has_role(self, *roles: str) -> bool:
        return self.is_active and self.role in roles

    @property
    def is_platform(self) -> bool:
        return self.kind == Kind.PLATFORM

    @property
    def is_enterprise(self) -> bool:
        return self.kind == Kind.ENTERPRISE

    @property
    def is_worker(self) -> bool:
        return self.kind == Kind.WORKER


class SmsCode(models.Model):
    """A one-time SMS code. Only its hash is kept; the phone is kept as its blind index."""

    class Purpose(models.TextChoices):
        LOGIN = "LOGIN", _("登录/注册")
        SIGN = "SIGN", _("签署确认")
        PAYMENT = "PAYMENT", _("付款确认")
        CHANGE = "CHANGE", _("信息变更")

    phone_index = models.CharField(max_length=40, db_index=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [models.Index(fields=["phone_index", "purpose", "created_at"], name="smscode_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class SmsOutbox(models.Model):
    """Messages handed to the SMS provider. The sandbox provider stops here, so staff can read them in the admin."""

    phone = EncryptedTextField(_("手机号"))
    template = models.CharField(_("模板"), max_length=64)
    body = EncryptedTextField(_("内容"))
    provider = models.CharField(_("通道"), max_length=32)
    provider_message_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(_("状态"), max_length=16, default="SENT")
    created_at = models.DateTimeField(_("发送时间"))

    class Meta:
        verbose_name = _("短信发件箱")
        verbose_name_plural = _("短信发件箱")

    def __str__(self) -> str:
        return f"{self.template} → {mask_phone(self.phone)}"
