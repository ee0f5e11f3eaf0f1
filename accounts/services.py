"""Sign-in and one-time codes. Every write of the accounts app goes through here."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.adapters.sms import get_sms_adapter
from accounts.exceptions import LoginFailed, SmsCodeExpired, SmsCodeInvalid, SmsCodeTooSoon
from accounts.models import Kind, Role, SmsCode, User
from core import audit, ratelimit
from core.pii import blind_index
from core.validators import validate_mobile

_PURPOSE_TEMPLATE = {
    SmsCode.Purpose.LOGIN: "login_code",
    SmsCode.Purpose.SIGN: "sign_code",
    SmsCode.Purpose.PAYMENT: "payment_code",
    SmsCode.Purpose.CHANGE: "change_code",
}


def _code_hash(phone_index: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{phone_index}:{code}".encode(), hashlib.sha256).hexdigest()


def sms_send(*, phone: str, template: str, params: dict, now) -> None:
    """Hand a message to the SMS provider after the surrounding transaction commits."""
    transaction.on_commit(lambda: get_sms_adapter().send(phone=phone, template=template, params=params, now=now))


def sms_code_send(*, phone: str, purpose: str, now: dt.datetime, ip: str = "", params: dict | None = None) -> SmsCode:
    """Create a 6-digit code for ``phone`` and send it. Limits: one per minute per phone and purpose, five an hour
    per phone, twenty an hour per IP address.

    Raises ValidationFailed (bad number), SmsCodeTooSoon, RateLimited.
    """
    phone = validate_mobile(phone)
    phone_index = blind_index(phone, purpose="phone")
    last = (SmsCode.objects.filter(phone_index=phone_index, purpose=purpose)
            .order_by("-created_at", "-id").first())
    if last and (now - last.created_at).total_seconds() < settings.SMS_CODE_RESEND_SECONDS:
        wait = settings.SMS_CODE_RESEND_SECONDS - int((now - last.created_at).total_seconds())
        raise SmsCodeTooSoon(_("验证码已发送，请 {wait} 秒后再重新获取").format(wait=wait), extra={"retry_after_seconds": wait})
    ratelimit.hit("sms_code_send_phone", phone_index, message=_("该手机号获取验证码过于频繁，请 1 小时后再试"))
    if ip:
        ratelimit.hit("sms_code_send_ip", ip, message=_("当前网络获取验证码过于频繁，请稍后再试"))
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        sms = SmsCode.objects.create(
            phone_index=phone_index, purpose=purpose, code_hash=_code_hash(phone_index, code), created_at=now,
            expires_at=now + dt.timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
        )
        template_params = {"code": code, "minutes": settings.SMS_CODE_TTL_SECONDS // 60, **(params or {})}
        sms_send(phone=phone, template=_PURPOSE_TEMPLATE[purpose], params=template_params, now=now)
    sms.plain_code = code  # transient, never stored: the sandbox login page may show it in development
    return sms


def sms_code_verify(*, phone: str, purpose: str, code: str, now: dt.datetime) -> None:
    """Check and consume the latest code for (phone, purpose). Five wrong tries burn the code.

    Raises SmsCodeInvalid, SmsCodeExpired.
    """
    phone = validate_mobile(phone)
    phone_index = blind_index(phone, purpose="phone")
    code = (code or "").strip()
    max_attempts = settings.LINGGONG_RATE_LIMITS["sms_code_verify"][0]
    # The failed attempt must be committed even though we raise afterwards, so the error leaves the block first.
    error = None
    with transaction.atomic():
        sms = (SmsCode.objects.select_for_update()
               .filter(phone_index=phone_index, purpose=purpose, used_at__isnull=True)
               .order_by("-created_at", "-id").first())
        if sms is None:
            error = SmsCodeInvalid(_("请先获取验证码"))
        elif sms.expires_at <= now:
            error = SmsCodeExpired(_("验证码已过期，请重新获取"))
        elif sms.attempts >= max_attempts:
            error = SmsCodeExpired(_("验证码错误次数过多已失效，请重新获取"))
        elif not hmac.compare_digest(sms.code_hash, _code_hash(phone_index, code)):
            sms.attempts += 1
            sms.save(update_fields=["attempts"])
            left = max_attempts - sms.attempts
            error = SmsCodeInvalid(_("验证码不正确，还可尝试 {left} 次").format(left=left) if left > 0 else _("验证码错误次数过多已失效，请重新获取"))
        else:
            sms.used_at = now
            sms.save(update_fields=["used_at"])
    if error is not None:
        raise error


def worker_login_with_sms(*, phone: str, code: str, now: dt.datetime, ip: str = "") -> tuple[User, bool]:
    """Sign a worker in with phone + SMS code; a first sign-in registers the account. Returns (user, created).

    Raises SmsCodeInvalid, SmsCodeExpired, LoginFailed (the number belongs to a staff account or is disabled).
    """
    phone = validate_mobile(phone)
    sms_code_verify(phone=phone, purpose=SmsCode.Purpose.LOGIN, code=code, now=now)
    phone_index = blind_index(phone, purpose="phone")
    with transaction.atomic():
        user = User.objects.select_for_update().filter(phone_index=phone_index).first()
        created = False
        if user is None:
            user = User.objects.create_user(
                username=f"w{secrets.token_hex(8)}", role=Role.WORKER, kind=Kind.WORKER, phone=phone
            )
            created = True
            audit.record(event="accounts.worker.registered", now=now, actor=user, subject=user, ip=ip)
        elif user.kind != Kind.WORKER or not user.is_active:
            raise LoginFailed(_("该手机号不能登录灵工人员端，请使用对应的登录入口或联系客服"))
        audit.record(event="accounts.user.logged_in", now=now, actor=user, subject=user, ip=ip,
                     after={"method": "sms"})
    return user, created


def staff_authenticate(*, request, username: str, password: str, now: dt.datetime, ip: str = "") -> User:
    """Check a staff member's password; failures are rate-limited per login name and per IP.

    The TOTP step (for users with a device) is checked by the caller's form. Raises LoginFailed, RateLimited.
    """
    ident = f"{username.lower()}|{ip}"
    if ratelimit.peek("login_password", ident) >= settings.LINGGONG_RATE_LIMITS["login_password"][0]:
        ratelimit.hit("login_password", ident, message=_("登录失败次数过多，请 15 分钟后再试"))
    user = authenticate(request, username=username, password=password)
    if user is None or user.kind == Kind.WORKER:
        ratelimit.hit("login_password", ident, message=_("登录失败次数过多，请 15 分钟后再试"))
        raise LoginFailed(_("登录名或密码不正确"))
    ratelimit.reset("login_password", ident)
    audit.record(event="accounts.user.logged_in", now=now, actor=user, subject=user, ip=ip,
                 after={"method": "password"})
    return user
