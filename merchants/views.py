"""Enterprise portal pages of 商户入驻: the guided application, the agreement, the account, staff and API keys.

Views are thin: they check the input and the permission, call one service and render. Errors of the services are
shown as form errors (``extra.form_field`` names the field) or as messages.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth import login
from django.http import FileResponse, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.exceptions import RoleRequired
from accounts.models import Kind
from accounts.permissions import can
from accounts.permissions import enterprise_required as _enterprise_required
from accounts.views import client_ip, sandbox_sms_visible
from core.exceptions import DomainError
from merchants import forms, selectors, services
from merchants.documents import render_service_agreement, render_terms_amendment, signed_pdf_response, terms_rows
from merchants.models import Merchant, MerchantApplication, TermsAmendment
from merchants.services.account import close_blockers
from merchants.services.application import missing_fields

STEPS = [(1, gettext_lazy("创建账号"), "enterprise:merchants-apply"), (2, gettext_lazy("企业信息"), "enterprise:merchants-apply-company"),
         (3, gettext_lazy("业务信息"), "enterprise:merchants-apply-business"), (4, gettext_lazy("营业执照"), "enterprise:merchants-apply-licence"),
         (5, gettext_lazy("提交审核"), "enterprise:merchants-apply-submit")]


def enterprise_required(capability: str = "view"):
    """``accounts.permissions.enterprise_required`` that answers a missing role with 403 instead of an error page."""

    def decorator(view):
        guarded = _enterprise_required(capability)(view)

        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                return guarded(request, *args, **kwargs)
            except RoleRequired as error:
                return HttpResponseForbidden(error.message)

        return wrapper

    return decorator


def _form_error(form, error: DomainError) -> None:
    field = (error.extra or {}).get("form_field")
    form.add_error(field if field in form.fields else None, error.message)


def _application(request) -> MerchantApplication | None:
    return selectors.merchant_application(merchant=request.merchant)


def _steps(current: int, done: int) -> list[dict]:
    return [{"n": n, "label": label, "url": reverse(url), "current": n == current, "done": n <= done}
            for n, label, url in STEPS]


# --- public: guide and the first step ------------------------------------------------------------------------

def guide(request):
    return render(request, "merchants/guide.html", {})


@require_http_methods(["GET", "POST"])
def apply_start(request):
    user = request.user
    if user.is_authenticated and user.kind == Kind.ENTERPRISE:
        return redirect("enterprise:merchants-apply-status")
    form = forms.ApplyStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            application = services.merchant_application_start(
                company_name=data["company_name"], uscc=data["uscc"], username=data["username"],
                password=data["password"], phone=data["phone"], full_name=data["full_name"],
                now=timezone.now(), ip=client_ip(request),
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            login(request, application.applicant, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, gettext("账号已创建，申请草稿已保存。下一步：填写企业信息。"))
            return redirect("enterprise:merchants-apply-company")
    return render(request, "merchants/apply_start.html", {"form": form, "steps": _steps(1, 0)})


# --- the guided steps (the applicant, signed in) ---------------------------------------------------------------

def _editable_or_status(request, application):
    if application is None:
        messages.error(request, gettext("未找到入驻申请"))
        return redirect("enterprise:home")
    if not application.editable:
        return redirect("enterprise:merchants-apply-status")
    return None


def _step_view(request, *, step: int, form_class, initial_fields: tuple, template: str, next_url: str):
    application = _application(request)
    bounce = _editable_or_status(request, application)
    if bounce:
        return bounce
    initial = {name: getattr(application, name) for name in initial_fields}
    if "expected_monthly_volume" in form_class.base_fields:
        from core.money import format_yuan

        fen = application.expected_monthly_volume_fen
        initial["expected_monthly_volume"] = format_yuan(fen) if fen else ""
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.merchant_application_update(application=application, actor=request.user, now=timezone.now(),
                                                 step=step, ip=client_ip(request), **form.cleaned_data)
        except DomainError as error:
            _form_error(form, error)
        else:
            if "save_draft" in request.POST:
                messages.success(request, gettext("草稿已保存，可随时回来继续。"))
                return redirect(request.path)
            return redirect(next_url)
    return render(request, template, {"form": form, "application": application,
                                      "steps": _steps(step, application.step)})


@enterprise_required("sign_agreements")
def apply_company(request):
    return _step_view(request, step=2, form_class=forms.CompanyForm, template="merchants/apply_step.html",
                      initial_fields=("company_name", "uscc", "registered_address", "legal_rep_name",
                                      "legal_rep_id_number", "contact_name", "contact_phone", "contact_email"),
                      next_url=reverse("enterprise:merchants-apply-business"))


@enterprise_required("sign_agreements")
def apply_business(request):
    return _step_view(request, step=3, form_class=forms.BusinessForm, template="merchants/apply_step.html",
                      initial_fields=("industry", "business_scenario", "expected_monthly_workers"),
                      next_url=reverse("enterprise:merchants-apply-licence"))


@enterprise_required("sign_agreements")
def apply_licence(request):
    application = _application(request)
    bounce = _editable_or_status(request, application)
    if bounce:
        return bounce
    form = forms.LicenceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > forms.MAX_UPLOAD:
            form.add_error("file", gettext("文件大小为 {value:.1f} MB，超过 5 MB 的上限，请压缩后重新上传").format(value=upload.size / 1024 / 1024))
        else:
            try:
                services.merchant_application_upload_licence(
                    application=application, actor=request.user, content=upload.read(), name=upload.name,
                    now=timezone.now(), ip=client_ip(request))
            except DomainError as error:
                _form_error(form, error)
            else:
                messages.success(request, gettext("营业执照已上传。"))
                return redirect("enterprise:merchants-apply-submit")
    return render(request, "merchants/apply_licence.html", {"form": form, "application": application,
                                                            "steps": _steps(4, application.step)})


@enterprise_required("sign_agreements")
def apply_submit(request):
    application = _application(request)
    bounce = _editable_or_status(request, application)
    if bounce:
        return bounce
    error = None
    if request.method == "POST":
        try:
            services.merchant_application_submit(application=application, actor=request.user, now=timezone.now(),
                                                 ip=client_ip(request))
        except DomainError as exc:
            error = exc.message
            application.refresh_from_db()
        else:
            messages.success(request, gettext("申请已提交，企业认证已通过，请等待平台审核（一般 1 个工作日内）。"))
            return redirect("enterprise:merchants-apply-status")
    return render(request, "merchants/apply_submit.html", {
        "application": application, "missing": missing_fields(application), "error": error,
        "steps": _steps(5, application.step)})


@enterprise_required()
def apply_status(request):
    application = _application(request)
    if application is None:
        return redirect("enterprise:merchants-account")
    return render(request, "merchants/apply_status.html", {
        "application": application, "merchant": request.merchant,
        "agreement": selectors.agreement_current(merchant=request.merchant)})


@require_POST
@enterprise_required("sign_agreements")
def apply_reopen(request):
    application = _application(request)
    try:
        services.merchant_application_reopen(application=application, actor=request.user, now=timezone.now(),
                                             ip=client_ip(request))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("enterprise:merchants-apply-status")
    messages.success(request, gettext("申请已重新打开，请根据驳回原因修改后再次提交。"))
    return redirect("enterprise:merchants-apply-company")


@require_POST
@enterprise_required("manage_staff")
def account_change_withdraw(request, change_id: int):
    try:
        services.merchant_change_withdraw(merchant=request.merchant, actor=request.user, change_id=change_id,
                                          now=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, gettext("申请已撤回。"))
    return redirect("enterprise:merchants-account")


@enterprise_required()
def document_download(request, document_id: int):
    """Files of the tenant only (another enterprise's file is "not found")."""
    try:
        document = selectors.document_get(merchant=request.merchant, document_id=document_id)
    except DomainError as error:
        return HttpResponse(error.message, status=404)
    return FileResponse(document.file.open("rb"), as_attachment=True, filename=document.original_name,
                        content_type=document.content_type)


# --- service agreement ----------------------------------------------------------------------------------------

@enterprise_required()
def agreement(request):
    merchant = request.merchant
    current = selectors.agreement_current(merchant=merchant)
    amendment = selectors.terms_amendment_pending(merchant=merchant)
    return render(request, "merchants/agreement.html", {
        "agreement": current, "agreements": selectors.agreement_list(merchant=merchant),
        "form": forms.SignForm(), "can_sign": can(request.user, "sign_agreements"),
        "phone_masked": request.user.phone_masked,
        "amendment": amendment, "amendment_rows": terms_rows(amendment.changes) if amendment else [],
        "amendment_form": forms.TermsAmendmentSignForm(),
        "signed_amendments": [(signed, terms_rows(signed.changes)) for signed in selectors.terms_amendment_list(
            merchant=merchant, status=TermsAmendment.Status.SIGNED)]})


@enterprise_required()
def agreement_preview(request):
    """The full text to read before signing (unsigned, rendered on the fly)."""
    current = selectors.agreement_current(merchant=request.merchant)
    if current is None:
        return HttpResponse(gettext("当前没有服务协议"), status=404)
    if current.document_id:
        return redirect("enterprise:merchants-agreement-pdf", agreement_id=current.pk)
    rendered = render_service_agreement(current)
    return HttpResponse(rendered.content, content_type="application/pdf")


@require_POST
@enterprise_required("sign_agreements")
def agreement_send_code(request):
    _send_signing_code(request, services.service_agreement_send_code)
    return redirect("enterprise:merchants-agreement")


def _send_signing_code(request, send) -> None:
    """Send the signer's SMS code with ``send`` (a ``*_send_code`` service) and say so (or why not) on the page."""
    try:
        sms = send(merchant=request.merchant, actor=request.user, now=timezone.now(), ip=client_ip(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        text = gettext("验证码已发送至 {phone_masked}").format(phone_masked=request.user.phone_masked)
        if sandbox_sms_visible():
            text += gettext("（演示沙箱短信：{plain_code}）").format(plain_code=sms.plain_code)
        messages.success(request, text)


@require_POST
@enterprise_required("sign_agreements")
def agreement_sign(request):
    form = forms.SignForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("请输入短信验证码并勾选同意协议"))
        return redirect("enterprise:merchants-agreement")
    try:
        signed = services.service_agreement_sign(merchant=request.merchant, actor=request.user,
                                                 code=form.cleaned_data["code"], now=timezone.now(),
                                                 ip=client_ip(request))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("enterprise:merchants-agreement")
    messages.success(request, gettext("服务协议 {number} 已签署，平台已完成电子签章并为贵司开立账户。").format(number=signed.number))
    return redirect("enterprise:merchants-account")


@enterprise_required()
def agreement_pdf(request, agreement_id: int):
    try:
        signed, content = selectors.agreement_pdf(merchant=request.merchant, agreement_id=agreement_id)
    except DomainError as error:
        return HttpResponse(error.message, status=404)
    return signed_pdf_response(content, filename=f"service-agreement-{signed.number}.pdf")


# --- 补充协议 (changed commercial terms) ------------------------------------------------------------------------

@enterprise_required()
def terms_amendment_preview(request):
    """The pending 补充协议 to read before signing (unsigned, rendered on the fly)."""
    amendment = selectors.terms_amendment_pending(merchant=request.merchant)
    if amendment is None:
        return HttpResponse(gettext("当前没有待签署的补充协议"), status=404)
    rendered = render_terms_amendment(amendment)
    return HttpResponse(rendered.content, content_type="application/pdf")


@require_POST
@enterprise_required("sign_agreements")
def terms_amendment_send_code(request):
    _send_signing_code(request, services.terms_amendment_send_code)
    return redirect(reverse("enterprise:merchants-agreement") + "#amendment")


@require_POST
@enterprise_required("sign_agreements")
def terms_amendment_sign(request):
    form = forms.TermsAmendmentSignForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("请输入短信验证码并勾选同意补充协议"))
        return redirect(reverse("enterprise:merchants-agreement") + "#amendment")
    try:
        signed = services.terms_amendment_sign(merchant=request.merchant, actor=request.user,
                                               code=form.cleaned_data["code"], now=timezone.now(),
                                               ip=client_ip(request))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(reverse("enterprise:merchants-agreement") + "#amendment")
    messages.success(request, gettext("补充协议 {number} 已签署，平台已完成电子签章，变更后的商务条款自现在起生效。").format(
        number=signed.number))
    return redirect("enterprise:merchants-agreement")


@enterprise_required()
def terms_amendment_pdf(request, amendment_id: int):
    try:
        signed, content = selectors.terms_amendment_pdf(merchant=request.merchant, amendment_id=amendment_id)
    except DomainError as error:
        return HttpResponse(error.message, status=404)
    return signed_pdf_response(content, filename=f"terms-amendment-{signed.number}.pdf")


# --- the account: profile, configuration, changes, closing -----------------------------------------------------

@enterprise_required()
def account(request):
    merchant = request.merchant
    return render(request, "merchants/account.html", {
        "merchant": merchant, "application": _application(request),
        "config": selectors.merchant_configuration(merchant=merchant),
        "topup": selectors.topup_account(merchant=merchant), "balances": selectors.balances(merchant=merchant),
        "changes": selectors.change_list(merchant=merchant), "agreement": selectors.agreement_current(merchant=merchant),
        "pending_amendment": selectors.terms_amendment_pending(merchant=merchant),
        "is_admin": can(request.user, "manage_staff")})


@require_http_methods(["GET", "POST"])
@enterprise_required("manage_staff")
def account_change(request):
    form = forms.ChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        changes = {name: value for name, value in data.items() if value}
        try:
            services.merchant_change_request(merchant=request.merchant, actor=request.user, changes=changes,
                                             reason=reason, now=timezone.now(), ip=client_ip(request))
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, gettext("变更申请已提交，平台审核通过后生效。"))
            return redirect("enterprise:merchants-account")
    return render(request, "merchants/account_change.html", {"form": form, "application": _application(request)})


@require_http_methods(["GET", "POST"])
@enterprise_required("manage_staff")
def account_close(request):
    form = forms.ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.merchant_close_request(merchant=request.merchant, actor=request.user,
                                            reason=form.cleaned_data["reason"], now=timezone.now(),
                                            ip=client_ip(request))
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, gettext("注销申请已提交，平台审核通过后账户将注销。"))
            return redirect("enterprise:merchants-account")
    blockers = close_blockers(request.merchant) if request.merchant.status == Merchant.Status.ACTIVE else []
    return render(request, "merchants/account_close.html", {"form": form, "blockers": blockers})


# --- staff -----------------------------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@enterprise_required("manage_staff")
def staff(request):
    form = forms.InviteForm(request.POST or None)
    link = None
    if request.method == "POST" and form.is_valid():
        try:
            _, token = services.staff_invite(merchant=request.merchant, actor=request.user, now=timezone.now(),
                                             ip=client_ip(request), **form.cleaned_data)
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, gettext("邀请已发送。"))
            if sandbox_sms_visible():
                link = reverse("enterprise:merchants-invite", args=[token])
            form = forms.InviteForm()
    now = timezone.now()
    invitations = [(inv, inv.state_on(now)) for inv in selectors.invitation_list(merchant=request.merchant)]
    return render(request, "merchants/staff.html", {
        "form": form, "staff": selectors.staff_list(merchant=request.merchant), "invitations": invitations,
        "sandbox_link": link})


@require_POST
@enterprise_required("manage_staff")
def staff_deactivate(request, user_id: int):
    try:
        services.staff_deactivate(merchant=request.merchant, actor=request.user, user_id=user_id, now=timezone.now(),
                                  ip=client_ip(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, gettext("已停用该员工账号。"))
    return redirect("enterprise:merchants-staff")


@require_http_methods(["GET", "POST"])
def invite_accept(request, token: str):
    form = forms.AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.staff_invitation_accept(token=token, username=form.cleaned_data["username"],
                                                    password=form.cleaned_data["password"], now=timezone.now(),
                                                    ip=client_ip(request))
        except DomainError as error:
            _form_error(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, gettext("账号已创建，欢迎使用灵工企业端。"))
            return redirect("enterprise:home")
    return render(request, "merchants/invite_accept.html", {"form": form})


# --- API keys --------------------------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@enterprise_required("manage_api_keys")
def api_keys(request):
    form = forms.ApiKeyForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            key, secret = services.api_key_create(merchant=request.merchant, actor=request.user,
                                                  label=form.cleaned_data["label"], now=timezone.now(),
                                                  ip=client_ip(request))
        except DomainError as error:
            _form_error(form, error)
        else:
            created = {"key_id": key.key_id, "secret": secret}
    response = render(request, "merchants/api_keys.html", {
        "form": form, "keys": selectors.api_key_list(merchant=request.merchant), "created": created})
    if created:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@enterprise_required("manage_api_keys")
def api_key_revoke(request, key_id: str):
    try:
        services.api_key_revoke(merchant=request.merchant, actor=request.user, key_id=key_id, now=timezone.now(),
                                ip=client_ip(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, gettext("密钥 {key_id} 已吊销。").format(key_id=key_id))
    return redirect("enterprise:merchants-api-keys")
