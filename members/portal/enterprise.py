"""The enterprise portal's worker pages: the list with every worker's state, invitations (one or a file), reminders,
the list templates, agreement downloads and 解约 (a confirmation page with the reason, then one POST)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import enterprise_required
from accounts.views import client_ip
from core.exceptions import DomainError
from members import conf, selectors, services, uploads
from members.forms import InviteForm, TerminateForm, UploadForm
from members.models import MemberMerchant
from members.services.termination import open_items

WORKERS_PER_PAGE = 100


def _page(request, *, invite_form=None, upload_form=None, upload_errors=None, status=200):
    current = request.GET.get("status", "")
    if current not in MemberMerchant.Status.values:
        current = ""
    counts = selectors.relationship_status_counts(merchant=request.merchant)
    page = Paginator(selectors.relationship_list(merchant=request.merchant, status=current or None),
                     WORKERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "members/enterprise/workers.html", {
        "relationships": page, "page": page,
        "counts": [(value, label, counts[value]) for value, label in MemberMerchant.Status.choices],
        "total": sum(counts.values()), "current": current,
        "invite_form": invite_form or InviteForm(), "upload_form": upload_form or UploadForm(),
        "upload_errors": upload_errors or [], "max_mb": int(conf.get("MEMBERS_UPLOAD_MAX_BYTES")) // 1024 // 1024,
    }, status=status)


@enterprise_required("view")
@require_GET
def workers(request):
    return _page(request)


@enterprise_required("manage_workers")
@require_POST
def worker_invite(request):
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            services.worker_invite(merchant=request.merchant, name=form.cleaned_data["name"],
                                   id_number=form.cleaned_data["id_number"], phone=form.cleaned_data["phone"],
                                   actor=request.user, now=timezone.now())
        except DomainError as error:
            field = (error.extra or {}).get("form_field")
            form.add_error(field if field in form.fields else None, error.message)
        else:
            messages.success(request, _("邀请已发送：对方将收到带有注册与签约链接的短信。"))
            return redirect("enterprise:members-workers")
    return _page(request, invite_form=form, status=400)


@enterprise_required("manage_workers")
@require_POST
def worker_upload(request):
    form = UploadForm(request.POST, request.FILES)
    errors = []
    if form.is_valid():
        upload = form.cleaned_data["file"]
        limit = int(conf.get("MEMBERS_UPLOAD_MAX_BYTES"))
        content = upload.read(limit + 1)
        try:
            created = services.worker_invite_upload(merchant=request.merchant, filename=upload.name,
                                                    content=content, actor=request.user, now=timezone.now())
        except DomainError as error:
            form.add_error(None, error.message)
            errors = (error.extra or {}).get("errors", [])
        else:
            messages.success(request, _("已导入 {n_created} 人，邀请短信已发送。").format(n_created=len(created)))
            return redirect("enterprise:members-workers")
    return _page(request, upload_form=form, upload_errors=errors, status=400)


@enterprise_required("manage_workers")
@require_POST
def worker_remind(request, relationship_id: int):
    try:
        services.worker_remind(merchant=request.merchant, relationship_id=relationship_id, actor=request.user,
                               now=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("提醒短信已发送。"))
    return redirect("enterprise:members-workers")


@enterprise_required("manage_workers")
@require_http_methods(["GET", "POST"])
def worker_terminate(request, relationship_id: int):
    """解约: GET shows who, what is still open and asks for the reason; POST ends the relationship."""
    try:
        relationship = selectors.relationship_get(merchant=request.merchant, relationship_id=relationship_id)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("enterprise:members-workers")
    if relationship.status == MemberMerchant.Status.TERMINATED and request.method == "GET":
        messages.info(request, _("该人员已解约。"))
        return redirect("enterprise:members-workers")
    form = TerminateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.relationship_terminate(merchant=request.merchant, relationship_id=relationship.pk,
                                            actor=request.user, now=timezone.now(),
                                            reason=form.cleaned_data["reason"], ip=client_ip(request))
        except DomainError as error:
            field = (error.extra or {}).get("form_field")
            form.add_error(field if field in form.fields else None, error.message)
        else:
            messages.success(request, _("已与该人员解约。"))
            return redirect("enterprise:members-workers")
    return render(request, "members/enterprise/terminate.html", {
        "relationship": relationship, "form": form, "open": open_items(relationship=relationship),
        "agreement": selectors.agreement_of(relationship),
    }, status=400 if form.errors else 200)


@enterprise_required("view")
@require_GET
def worker_agreement(request, relationship_id: int):
    try:
        agreement = selectors.agreement_get_for_merchant(merchant=request.merchant, relationship_id=relationship_id)
    except DomainError as error:
        return HttpResponse(error.message, status=error.http_status, content_type="text/plain; charset=utf-8")
    return FileResponse(agreement.file.open("rb"), content_type=agreement.content_type, as_attachment=True,
                        filename=f"合作协议-{agreement.number}.{agreement.file.name.rsplit('.', 1)[-1]}")


@enterprise_required("view")
@require_GET
def worker_template(request, fmt: str):
    if fmt == "xlsx":
        return HttpResponse(uploads.template_xlsx(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            headers={"Content-Disposition": 'attachment; filename="worker-list-template.xlsx"'})
    return HttpResponse(uploads.template_csv(), content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="worker-list-template.csv"'})
