"""The worker's mobile pages: my verification, my enterprises (and invitations, and 解除合作), my agreements, my payout
accounts."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import worker_required
from accounts.views import client_ip, sandbox_sms_visible
from core.exceptions import DomainError
from members import conf, selectors, services
from members.forms import PayoutAccountForm, SignForm, TerminateForm, VerifyForm
from members.models import MemberMerchant
from members.services.agreements import relationship_for_member
from members.services.termination import open_items
from members.services.verification import attempts_counted_today


def _form_error(form, error: DomainError) -> None:
    field = (error.extra or {}).get("form_field")
    form.add_error(field if field in form.fields else None, error.message)


@worker_required()
def me(request):
    """我的: where the worker stands on each onboarding step, with a link to each page."""
    member = selectors.member_for_user(user=request.user)
    relationships = list(selectors.relationship_list_for_member(member=member))
    return render(request, "members/m/me.html", {
        "member": member,
        "signed": sum(1 for r in relationships if r.status == MemberMerchant.Status.SIGNED),
        "to_sign": sum(1 for r in relationships if r.status == MemberMerchant.Status.VERIFIED),
        "enterprises": len(relationships),
        "invitations": selectors.pending_invitations_for_user(user=request.user).count(),
        "default_account": selectors.payout_account_default(member=member) if member else None,
    })


@worker_required()
@require_http_methods(["GET", "POST"])
def verify(request):
    member = selectors.member_for_user(user=request.user)
    form = VerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_verify(
                user=request.user, name=form.cleaned_data["name"], id_number=form.cleaned_data["id_number"],
                bank_card=form.cleaned_data["bank_card"], bank_name=form.cleaned_data["bank_name"],
                now=timezone.now(), ip=client_ip(request),
            )
        except DomainError as error:
            _form_error(form, error)
            member = selectors.member_for_user(user=request.user)
        else:
            messages.success(request, _("实名认证成功。银行卡已设为默认收款账户，下一步请签署合作协议。"))
            return redirect("m:members-agreements")
    limit = int(conf.get("MEMBERS_VERIFY_ATTEMPTS_PER_DAY"))
    used = attempts_counted_today(member=member, now=timezone.now()) if member else 0
    return render(request, "members/m/verify.html", {
        "form": form, "member": member, "attempts_left": max(0, limit - used), "limit": limit,
        "factors": int(conf.get("MEMBERS_VERIFICATION_FACTORS")), "phone_masked": request.user.phone_masked,
    }, status=400 if form.errors else 200)


@worker_required()
def enterprises(request):
    member = selectors.member_for_user(user=request.user)
    return render(request, "members/m/enterprises.html", {
        "member": member,
        "relationships": selectors.relationship_list_for_member(member=member),
        "invitations": selectors.pending_invitations_for_user(user=request.user),
    })


@worker_required()
@require_http_methods(["GET", "POST"])
def relationship_terminate(request, relationship_id: int):
    """解除合作 with one enterprise: GET shows what is still open and asks for the reason; POST ends it."""
    member = selectors.member_for_user(user=request.user)
    try:
        relationship = relationship_for_member(member=member, relationship_id=relationship_id)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("m:members-enterprises")
    if relationship.status == MemberMerchant.Status.TERMINATED and request.method == "GET":
        messages.info(request, _("与该企业的合作已解除。"))
        return redirect("m:members-enterprises")
    form = TerminateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.relationship_terminate_by_member(user=request.user, relationship_id=relationship.pk,
                                                      now=timezone.now(), reason=form.cleaned_data["reason"],
                                                      ip=client_ip(request))
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("已与“{kind}”解除合作。").format(kind=relationship.merchant.name))
            return redirect("m:members-enterprises")
    return render(request, "members/m/terminate.html", {
        "relationship": relationship, "form": form, "open": open_items(relationship=relationship),
    }, status=400 if form.errors else 200)


@worker_required()
@require_http_methods(["GET", "POST"])
def invitation(request, token: str):
    """The link in the invitation SMS: after sign-in the worker sees who invites them and accepts (a POST)."""
    if request.method == "GET":
        pending = MemberMerchant.objects.select_related("merchant", "member").filter(invite_token=token or "-").first()
        if pending is not None and pending.member_id and pending.member.user_id == request.user.pk:
            return _next_step(pending)  # the link is also the signing link: take the worker to where they stand
        return render(request, "members/m/invitation.html", {"relationship": pending, "token": token})
    try:
        relationship = services.invitation_accept(user=request.user, token=token, now=timezone.now(),
                                                  ip=client_ip(request))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("m:members-enterprises")
    messages.success(request, _("已加入“{kind}”。").format(kind=relationship.merchant.name))
    if not relationship.member.is_verified:
        messages.info(request, _("下一步：完成实名认证。"))
    return _next_step(relationship)


def _next_step(relationship: MemberMerchant):
    if not relationship.member.is_verified:
        return redirect("m:members-verify")
    if relationship.status == MemberMerchant.Status.VERIFIED:
        return redirect("m:members-sign", relationship_id=relationship.pk)
    if relationship.status == MemberMerchant.Status.REGISTERED:
        return redirect("m:members-enterprises")
    return redirect("m:members-agreements")


@worker_required()
def agreements(request):
    member = selectors.member_for_user(user=request.user)
    to_sign = [r for r in selectors.relationship_list_for_member(member=member)
               if r.status == MemberMerchant.Status.VERIFIED]
    return render(request, "members/m/agreements.html", {
        "member": member, "to_sign": to_sign, "agreements": selectors.agreement_list_for_member(member=member),
    })


@worker_required()
@require_http_methods(["GET", "POST"])
def agreement_sign(request, relationship_id: int):
    member = selectors.member_for_user(user=request.user)
    try:
        relationship = relationship_for_member(member=member, relationship_id=relationship_id)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("m:members-agreements")
    if relationship.status == MemberMerchant.Status.SIGNED:
        messages.info(request, _("您已与“{kind}”签署合作协议，可在下方下载。").format(kind=relationship.merchant.name))
        return redirect("m:members-agreements")
    if not member.is_verified:
        messages.error(request, _("请先完成实名认证，再签署合作协议。"))
        return redirect("m:members-verify")
    form = SignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            agreement = services.agreement_sign(user=request.user, relationship_id=relationship.pk,
                                                code=form.cleaned_data["code"], now=timezone.now(),
                                                ip=client_ip(request))
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("签署成功：《合作协议》{number}，可随时下载查看。").format(number=agreement.number))
            return redirect("m:members-agreements")
    return render(request, "members/m/sign.html", {
        "form": form, "relationship": relationship,
        "text": services.agreement_text_html(relationship=relationship, member=member),
    }, status=400 if form.errors else 200)


@worker_required()
@require_POST
def agreement_sign_code(request, relationship_id: int):
    try:
        sms = services.agreement_sign_code_send(user=request.user, relationship_id=relationship_id,
                                                now=timezone.now(), ip=client_ip(request))
    except DomainError as error:
        return JsonResponse(error.as_dict(), status=error.http_status)
    body = {"code": "ok", "message": _("验证码已发送至 {phone_masked}").format(phone_masked=request.user.phone_masked)}
    if sandbox_sms_visible():
        body["message"] += _("（演示沙箱短信：{plain_code}）").format(plain_code=sms.plain_code)
    return JsonResponse(body)


@worker_required()
def agreement_download(request, agreement_id: int):
    member = selectors.member_for_user(user=request.user)
    try:
        agreement = selectors.agreement_get_for_member(member=member, agreement_id=agreement_id)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("m:members-agreements")
    return _file_response(agreement)


def _file_response(agreement):
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(agreement.content_type, "pdf")
    return FileResponse(agreement.file.open("rb"), content_type=agreement.content_type, as_attachment=True,
                        filename=f"合作协议-{agreement.number}.{extension}")


@worker_required()
@require_http_methods(["GET", "POST"])
def accounts(request):
    member = services.member_ensure(user=request.user)
    form = PayoutAccountForm(request.POST or None)
    if request.method == "POST":
        action = request.POST.get("action", "add")
        now, ip = timezone.now(), client_ip(request)
        try:
            if action == "default":
                services.payout_account_set_default(member=member, account_id=_int(request.POST.get("account_id")),
                                                    actor=request.user, now=now, ip=ip)
                messages.success(request, _("已设为默认收款账户。"))
                return redirect("m:members-accounts")
            if action == "remove":
                services.payout_account_remove(member=member, account_id=_int(request.POST.get("account_id")),
                                               actor=request.user, now=now, ip=ip)
                messages.success(request, _("收款账户已删除。"))
                return redirect("m:members-accounts")
            if form.is_valid():
                services.payout_account_add(member=member, kind=form.cleaned_data["kind"],
                                            account=form.cleaned_data["account"],
                                            bank_name=form.cleaned_data["bank_name"],
                                            make_default=form.cleaned_data["make_default"], actor=request.user,
                                            now=now, ip=ip)
                messages.success(request, _("收款账户已添加。"))
                return redirect("m:members-accounts")
        except DomainError as error:
            if action == "add":
                _form_error(form, error)
            else:
                messages.error(request, error.message)
                return redirect("m:members-accounts")
    return render(request, "members/m/accounts.html", {
        "member": member, "form": form, "accounts": selectors.payout_account_list(member=member),
    }, status=400 if form.errors else 200)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
