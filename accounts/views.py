"""Sign-in pages of the enterprise portal and the workers' mobile site."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import devices_for_user, match_token
from django_otp import login as otp_login

from accounts import services
from accounts.forms import PhoneForm, SmsLoginForm, StaffLoginForm
from accounts.models import Kind, SmsCode
from accounts.permissions import enterprise_required, worker_required
from core.exceptions import DomainError


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@require_http_methods(["GET", "POST"])
def enterprise_login(request):
    form = StaffLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.staff_authenticate(
                request=request, username=form.cleaned_data["username"], password=form.cleaned_data["password"],
                now=timezone.now(), ip=client_ip(request),
            )
            if user.kind != Kind.ENTERPRISE:
                raise services.LoginFailed(_("该账号不是企业用户，运营人员请从运营后台登录"))
            device = None
            if any(devices_for_user(user, confirmed=True)):
                token = form.cleaned_data["otp_token"].strip()
                if not token:
                    raise services.LoginFailed(_("该账号已绑定动态口令，请输入验证器 App 中的 6 位动态口令"))
                device = match_token(user, token)
                if device is None:
                    raise services.LoginFailed(_("动态口令不正确，请查看您绑定的验证器 App"))
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            if device is not None:
                otp_login(request, device)
            return redirect(_next_url(request, "/enterprise/"))
    return render(request, "enterprise/login.html", {"form": form, "next": _next_url(request, "")})


@require_http_methods(["GET", "POST"])
def member_login(request):
    form = SmsLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user, created = services.worker_login_with_sms(
                phone=form.cleaned_data["phone"], code=form.cleaned_data["code"], now=timezone.now(),
                ip=client_ip(request),
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            if created:
                messages.success(request, _("注册成功，欢迎加入灵工。下一步请完成实名认证。"))
            return redirect(_next_url(request, "/m/"))
    return render(request, "m/login.html", {"form": form, "next": _next_url(request, "")})


@require_POST
def member_send_code(request):
    """Send a sign-in code; answers JSON for the page's script and a redirect for browsers without it."""
    from django.http import JsonResponse

    form = PhoneForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"code": "validation_failed", "message": _("请填写手机号")}, status=400)
    try:
        sms = services.sms_code_send(phone=form.cleaned_data["phone"], purpose=SmsCode.Purpose.LOGIN,
                                     now=timezone.now(), ip=client_ip(request))
    except DomainError as error:
        return JsonResponse(error.as_dict(), status=error.http_status)
    body = {"code": "ok", "message": _("验证码已发送")}
    if sandbox_sms_visible():
        body["message"] = _("验证码已发送（演示沙箱短信：{plain_code}）").format(plain_code=sms.plain_code)
    return JsonResponse(body)


def sandbox_sms_visible() -> bool:
    """Outside production, with the sandbox SMS provider, the page shows the code (there is no real phone)."""
    from django.conf import settings

    return not settings.PRODUCTION and settings.SMS_ADAPTER.endswith("SandboxSmsAdapter")


@require_POST
def sign_out(request):
    kind = getattr(request.user, "kind", None)
    logout(request)
    return redirect("/m/login/" if kind == Kind.WORKER else "/enterprise/login/")


def _home_cards(hook: str, request) -> list[dict]:
    """Dashboard cards contributed by the apps: an app's ``urls.py`` may define ``<hook>(request) -> list[dict]``."""
    from importlib import import_module

    from config.urls import DOMAIN_APPS

    cards: list[dict] = []
    for app in DOMAIN_APPS:
        try:
            module = import_module(f"{app}.urls")
        except ModuleNotFoundError:
            continue
        contribute = getattr(module, hook, None)
        if contribute:
            cards += contribute(request)
    return cards


@enterprise_required()
def enterprise_home(request):
    return render(request, "enterprise/home.html",
                  {"merchant": request.merchant, "cards": _home_cards("enterprise_home_cards", request)})


@worker_required()
def member_home(request):
    return render(request, "m/home.html", {"cards": _home_cards("member_home_cards", request)})
