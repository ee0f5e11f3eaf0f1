"""Enterprise staff: the enterprise admin invites finance and operator users with a one-time link."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role, User
from accounts.permissions import require_capability
from accounts.services import sms_send
from core import audit
from core.exceptions import ValidationFailed
from core.pii import blind_index, mask_phone
from core.tenancy import get_for_tenant
from core.validators import validate_mobile
from merchants.exceptions import InvitationExpired, InvitationInvalid, MerchantNotActive, PhoneTaken, UsernameTaken
from merchants.models import Merchant, StaffInvitation

INVITABLE_ROLES = {Role.ENT_FINANCE: gettext_lazy("企业财务"), Role.ENT_OPERATOR: gettext_lazy("企业经办人")}
INVITATION_TTL = dt.timedelta(hours=72)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_link(token: str) -> str:
    return f"{settings.SITE_URL}/enterprise/invite/{token}/"


@transaction.atomic
def staff_invite(*, merchant: Merchant, actor, role: str, full_name: str = "", phone: str = "", email: str = "",
                 now, ip: str = "") -> tuple[StaffInvitation, str]:
    """Invite a finance or operator user; the link (valid 72 hours, once) goes by SMS and/or e-mail.
    Returns (invitation, token) — the token is not stored (only its hash).

    Raises RoleRequired, MerchantNotActive, ValidationFailed, PhoneTaken.
    """
    require_capability(actor, "manage_staff")
    if actor.merchant_id != merchant.pk:
        raise InvitationInvalid(_("未找到该企业"))
    merchant = Merchant.objects.get(pk=merchant.pk)  # the caller's copy may be stale
    if merchant.status not in (Merchant.Status.ACTIVE, Merchant.Status.SIGNED, Merchant.Status.APPROVED):
        raise MerchantNotActive(_("入驻审核通过后才能邀请员工"))
    if role not in INVITABLE_ROLES:
        raise ValidationFailed(_("只能邀请企业财务或企业经办人"), extra={"form_field": "role"})
    phone = (phone or "").strip()
    email = (email or "").strip()
    if not phone and not email:
        raise ValidationFailed(_("请填写手机号或邮箱，用于发送邀请链接"), extra={"form_field": "phone"})
    if phone:
        phone = validate_mobile(phone)
        if User.objects.filter(phone_index=blind_index(phone, purpose="phone")).exists():
            raise PhoneTaken(_("手机号 {phone} 已注册平台账号，不能重复邀请").format(phone=mask_phone(phone)), extra={"form_field": "phone"})
    token = secrets.token_urlsafe(32)
    invitation = StaffInvitation.objects.create(
        merchant=merchant, role=role, full_name=(full_name or "").strip(), phone=phone, email=email,
        token_hash=_token_hash(token), invited_by=actor, invited_at=now, expires_at=now + INVITATION_TTL,
    )
    link = invitation_link(token)
    text = f"{merchant.name} 邀请您成为平台企业端的{INVITABLE_ROLES[role]}，请在 72 小时内打开 {link} 设置登录名和密码。"
    if phone:
        sms_send(phone=phone, template="notice", params={"text": text}, now=now)
    if email:
        transaction.on_commit(lambda: send_mail("灵工企业端员工邀请", text, None, [email], fail_silently=True))
    audit.record(event="merchants.staff.invited", now=now, actor=actor, subject=invitation, ip=ip,
                 after={"role": role, "phone": mask_phone(phone), "by_email": bool(email)})
    return invitation, token


@transaction.atomic
def staff_invitation_accept(*, token: str, username: str, password: str, now, ip: str = "") -> User:
    """Create the invited user's login. The link works once and for 72 hours.

    Raises InvitationInvalid, InvitationExpired, UsernameTaken, PhoneTaken, ValidationFailed (weak password).
    """
    invitation = (StaffInvitation.objects.select_for_update().select_related("merchant")
                  .filter(token_hash=_token_hash(token or "")).first())
    if invitation is None or invitation.accepted_at or invitation.revoked_at:
        raise InvitationInvalid(_("邀请链接无效或已被使用，请联系企业管理员重新邀请"))
    if invitation.expires_at <= now:
        raise InvitationExpired(_("邀请链接已过期（有效期 72 小时），请联系企业管理员重新邀请"))
    if invitation.merchant.status == Merchant.Status.CLOSED:
        raise InvitationInvalid(_("该企业账户已注销，邀请已失效"))
    username = (username or "").strip()
    if not username:
        raise ValidationFailed(_("请设置登录名"), extra={"form_field": "username"})
    if User.objects.filter(username__iexact=username).exists():
        raise UsernameTaken(_("登录名“{username}”已被使用，请换一个").format(username=username), extra={"form_field": "username"})
    try:
        validate_password(password, User(username=username))
    except DjangoValidationError as error:
        raise ValidationFailed("；".join(error.messages), extra={"form_field": "password"}) from None
    try:
        with transaction.atomic():
            user = User.objects.create_user(username, password, role=invitation.role, merchant=invitation.merchant,
                                            phone=invitation.phone or None, email=invitation.email,
                                            full_name=invitation.full_name)
    except IntegrityError:
        raise PhoneTaken(_("该手机号已注册平台账号，请联系企业管理员")) from None
    invitation.accepted_at, invitation.user = now, user
    invitation.save(update_fields=["accepted_at", "user", "updated_at"])
    audit.record(event="merchants.staff.joined", now=now, actor=user, subject=invitation, ip=ip,
                 after={"role": invitation.role, "username": username})
    return user


@transaction.atomic
def staff_deactivate(*, merchant: Merchant, actor, user_id: int, now, ip: str = "") -> User:
    """Disable a staff login of the same enterprise (not oneself). Raises RoleRequired, NotFound, ValidationFailed."""
    require_capability(actor, "manage_staff")
    user = get_for_tenant(User.objects.select_for_update(), merchant=merchant, message=_("未找到该员工"), pk=user_id)
    if user.pk == actor.pk:
        raise ValidationFailed(_("不能停用自己的账号"))
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit.record(event="merchants.staff.deactivated", now=now, actor=actor, subject=user, merchant=merchant, ip=ip)
    return user
