"""Operations admin for workers: read-only, masked views; offline registration (线下签约) through a service."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import DomainError
from members.forms import OfflineRegistrationForm
from members.models import Agreement, Member, MemberMerchant, PayoutAccount, VerificationAttempt
from members.selectors import agreement_of
from members.services import member_register_offline


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Member)
class MemberAdmin(ReadOnlyAdmin):
    list_display = ("id", "name_masked", "id_number_masked", "verification_status", "verification_method",
                    "verified_at", "created_at")
    list_filter = ("verification_status", "verification_method")
    fields = ("user", "name_masked", "id_number_masked", "birth_date", "verification_status", "verification_method",
              "verified_at", "failure_reason", "is_individual_business", "created_at")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("姓名"))
    def name_masked(self, obj):
        return obj.name_masked

    @admin.display(description=gettext_lazy("身份证号"))
    def id_number_masked(self, obj):
        return obj.id_number_masked


@admin.register(VerificationAttempt)
class VerificationAttemptAdmin(ReadOnlyAdmin):
    list_display = ("at", "member", "factors", "outcome", "reason_code", "id_number_masked", "bank_card_masked",
                    "provider", "provider_ref")
    list_filter = ("outcome", "reason_code", "provider")
    exclude = ("id_number_index",)


@admin.register(MemberMerchant)
class MemberMerchantAdmin(ReadOnlyAdmin):
    """The add button opens the offline registration form: a worker registered on their behalf with a paper contract."""

    list_display = ("id", "merchant", "worker_name", "worker_phone", "status", "source", "invited_at", "signed_at",
                    "agreement_link")
    list_filter = ("status", "source", "merchant")
    list_select_related = ("merchant", "member", "member__user", "agreement")
    fields = ("merchant", "member", "worker_name", "worker_phone", "worker_id_number", "status", "source",
              "invited_by", "invited_at", "registered_at", "signed_at", "reminder_count", "last_reminded_at",
              "agreement_link", "terminated_at", "terminated_by_side", "terminated_by", "termination_reason")
    readonly_fields = fields

    def has_add_permission(self, request):
        return request.user.has_perm("members.add_membermerchant")

    @admin.display(description=gettext_lazy("姓名"))
    def worker_name(self, obj):
        return obj.invite_name_masked

    @admin.display(description=gettext_lazy("手机号"))
    def worker_phone(self, obj):
        return obj.invite_phone_masked

    @admin.display(description=gettext_lazy("身份证号"))
    def worker_id_number(self, obj):
        return obj.invite_id_number_masked

    @admin.display(description=gettext_lazy("协议"))
    def agreement_link(self, obj):
        agreement = agreement_of(obj)
        if agreement is None:
            return "-"
        url = reverse("admin:members_agreement_download", args=[agreement.pk])
        return format_html('<a href="{}">{}（{}）</a>', url, agreement.number, agreement.get_method_display())

    def add_view(self, request, form_url="", extra_context=None):
        form = OfflineRegistrationForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            contract = form.cleaned_data["contract"]
            try:
                relationship = member_register_offline(
                    merchant=form.cleaned_data["merchant"], name=form.cleaned_data["name"],
                    id_number=form.cleaned_data["id_number"], phone=form.cleaned_data["phone"],
                    contract_filename=contract.name, contract_content=contract.read(),
                    signed_on=form.cleaned_data["signed_on"], actor=request.user, now=timezone.now(),
                    ip=request.META.get("REMOTE_ADDR", ""),
                )
            except DomainError as error:
                field = (error.extra or {}).get("form_field")
                form.add_error(field if field in form.fields else None, error.message)
            else:
                messages.success(request, _("已线下登记并签约：关系 #{pk}（{kind}）").format(pk=relationship.pk, kind=relationship.merchant.name))
                return redirect("admin:members_membermerchant_changelist")
        context = {**self.admin_site.each_context(request), "title": _("线下登记灵工人员（上传纸质合同）"),
                   "form": form, "opts": self.model._meta}
        return TemplateResponse(request, "admin/members/offline_form.html", context)


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyAdmin):
    list_display = ("number", "merchant", "member", "method", "template_version", "signed_at", "signed_ip",
                    "download")
    list_filter = ("method", "template_version", "merchant")
    exclude = ("file",)
    readonly_fields = ("download",)

    @admin.display(description=gettext_lazy("文件"))
    def download(self, obj):
        return format_html(_('<a href="{}">下载</a>'), reverse("admin:members_agreement_download", args=[obj.pk]))

    def get_urls(self):
        return [path("<int:agreement_id>/download/", self.admin_site.admin_view(self.download_view),
                     name="members_agreement_download"), *super().get_urls()]

    def download_view(self, request, agreement_id: int):
        if not self.has_view_permission(request):
            raise Http404
        agreement = Agreement.objects.filter(pk=agreement_id).first()
        if agreement is None:
            raise Http404
        return FileResponse(agreement.file.open("rb"), content_type=agreement.content_type, as_attachment=True,
                            filename=f"{agreement.number}.{agreement.file.name.rsplit('.', 1)[-1]}")


@admin.register(PayoutAccount)
class PayoutAccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "member", "kind", "account_masked", "bank_name", "is_default", "status", "verified_at")
    list_filter = ("kind", "status", "is_default")
    exclude = ("account", "account_index")
