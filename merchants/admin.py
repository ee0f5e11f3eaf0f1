"""Operations admin for 商户入驻: the review queue with approve / reject / request-information, configuration items
(saved through the service, audited; changed commercial terms of a signed enterprise become a 补充协议), change and
closing requests, agreements, supplementary agreements and documents (download checked)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import PLATFORM_ROLES, Role
from core.exceptions import DomainError
from core.money import format_yuan
from merchants import services
from merchants.documents import terms_rows
from merchants.models import (
    ApiKey,
    Merchant,
    MerchantApplication,
    MerchantChangeRequest,
    MerchantConfiguration,
    MerchantDocument,
    ServiceAgreement,
    StaffInvitation,
    TermsAmendment,
)

REVIEW_ROLES = (Role.OPS_ADMIN, Role.OPS_REVIEWER, Role.OPS_RISK)


def _is_reviewer(request) -> bool:
    return request.user.is_superuser or request.user.role in REVIEW_ROLES


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "uscc", "status", "activated_at", "archive_pending", "created_at")
    list_filter = ("status", "archive_pending")
    search_fields = ("name", "uscc")
    readonly_fields = ("name", "uscc", "status", "approved_at", "signed_at", "activated_at", "closed_at",
                       "archive_pending", "created_at", "updated_at")

    actions = ["suspend_selected", "resume_selected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _run(self, request, queryset, call, done: str):
        if not _is_reviewer(request):
            self.message_user(request, _("您的角色不能执行此操作"), messages.ERROR)
            return
        for merchant in queryset.order_by("id"):
            try:
                call(merchant)
            except DomainError as error:
                self.message_user(request, f"{merchant.name}：{error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{merchant.name}：{done}", messages.SUCCESS)

    @admin.action(description=gettext_lazy("冻结所选企业（原因：运营风控冻结）"))
    def suspend_selected(self, request, queryset):
        self._run(request, queryset, lambda m: services.merchant_suspend(
            merchant=m, actor=request.user, reason="运营风控冻结", now=timezone.now()), _("已冻结"))

    @admin.action(description=gettext_lazy("解冻所选企业"))
    def resume_selected(self, request, queryset):
        self._run(request, queryset, lambda m: services.merchant_resume(merchant=m, actor=request.user,
                                                                        now=timezone.now()), _("已解冻"))


class ReviewForm(forms.Form):
    DECISIONS = [("approve", gettext_lazy("审核通过")), ("reject", gettext_lazy("驳回（申请企业可见原因）")), ("request_info", gettext_lazy("要求补充资料"))]
    decision = forms.ChoiceField(label=gettext_lazy("审核结论"), choices=DECISIONS, widget=forms.RadioSelect)
    note = forms.CharField(label=gettext_lazy("意见 / 原因"), required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


@admin.register(MerchantApplication)
class MerchantApplicationAdmin(admin.ModelAdmin):
    """入驻审核队列: filter "待审核"; open an application and use "审核" to decide."""

    list_display = ("id", "company_name", "uscc", "status", "verification_status", "risk_badge", "submitted_at",
                    "review_link")
    list_filter = ("status", "verification_status", "risk_outcome", "industry")
    search_fields = ("company_name", "uscc")
    ordering = ("submitted_at", "id")
    list_select_related = ("merchant",)
    actions = ["approve_selected"]
    fields = ("merchant", "company_name", "uscc", "status", "legal_rep_display", "contact_display", "contact_email",
              "registered_address", "industry", "business_scenario", "volume_display", "expected_monthly_workers",
              "licence_link", "verification_status", "verification_reason", "verification_reference", "verified_at",
              "risk_outcome", "risk_reasons_display", "submitted_at", "reviewed_by", "reviewed_at", "review_note",
              "review_link")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("风控"))
    def risk_badge(self, obj):
        return obj.risk_outcome or "—"

    @admin.display(description=gettext_lazy("法定代表人"))
    def legal_rep_display(self, obj):
        return f"{obj.legal_rep_name_masked} {obj.legal_rep_id_masked}"

    @admin.display(description=gettext_lazy("联系人"))
    def contact_display(self, obj):
        return f"{obj.contact_name_masked} {obj.contact_phone_masked}"

    @admin.display(description=gettext_lazy("预计月发放金额（元）"))
    def volume_display(self, obj):
        return format_yuan(obj.expected_monthly_volume_fen) if obj.expected_monthly_volume_fen else "—"

    @admin.display(description=gettext_lazy("风控原因"))
    def risk_reasons_display(self, obj):
        return "；".join(f"[{r.get('outcome')}] {r.get('message')}" for r in obj.risk_reasons or []) or "—"

    @admin.display(description=gettext_lazy("营业执照"))
    def licence_link(self, obj):
        if not obj.licence_id:
            return "—"
        url = reverse("admin:merchants_merchantdocument_download", args=[obj.licence_id])
        return format_html('<a href="{}">{}</a>（SHA-256 {}…）', url, obj.licence.original_name, obj.licence.sha256[:16])

    @admin.display(description=gettext_lazy("审核"))
    def review_link(self, obj):
        if obj.status != MerchantApplication.Status.SUBMITTED:
            return "—"
        return format_html(_('<a class="button" href="{}">审核</a>'),
                           reverse("admin:merchants_merchantapplication_review", args=[obj.pk]))

    def get_urls(self):
        return [path("<int:application_id>/review/", self.admin_site.admin_view(self.review_view),
                     name="merchants_merchantapplication_review"), *super().get_urls()]

    def review_view(self, request, application_id: int):
        application = get_object_or_404(MerchantApplication, pk=application_id)
        if not _is_reviewer(request):
            messages.error(request, _("您的角色不能审核入驻申请"))
            return HttpResponseRedirect(reverse("admin:merchants_merchantapplication_changelist"))
        form = ReviewForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            decision, note, now = form.cleaned_data["decision"], form.cleaned_data["note"], timezone.now()
            try:
                if decision == "approve":
                    services.merchant_application_approve(application=application, actor=request.user, now=now,
                                                          note=note)
                elif decision == "reject":
                    services.merchant_application_reject(application=application, actor=request.user, reason=note,
                                                         now=now)
                else:
                    services.merchant_application_request_info(application=application, actor=request.user,
                                                               message=note, now=now)
            except DomainError as error:
                form.add_error("note" if error.extra.get("form_field") in ("note", "reason") else None, error.message)
            else:
                messages.success(request, _("已处理：{company_name}（{value}）").format(company_name=application.company_name, value=dict(ReviewForm.DECISIONS)[decision]))
                return HttpResponseRedirect(reverse("admin:merchants_merchantapplication_changelist")
                                            + "?status__exact=SUBMITTED")
        context = {**self.admin_site.each_context(request), "title": _("审核入驻申请：{company_name}").format(company_name=application.company_name),
                   "application": application, "form": form, "opts": self.model._meta,
                   "fields": [(self.model._meta.get_field(name).verbose_name if hasattr(self.model, name) else
                               getattr(self, name).short_description, self._value(application, name))
                              for name in self.fields if name != "review_link"]}
        return TemplateResponse(request, "admin/merchants/application_review.html", context)

    def _value(self, obj, name):
        attr = getattr(self, name, None)
        if callable(attr) and not hasattr(obj, name):
            return attr(obj)
        field = obj._meta.get_field(name)
        if field.choices:
            return getattr(obj, f"get_{name}_display")()
        return getattr(obj, name) if getattr(obj, name) not in (None, "") else "—"

    @admin.action(description=gettext_lazy("审核通过所选申请（风控需复核的请逐个审核并填写意见）"))
    def approve_selected(self, request, queryset):
        if not _is_reviewer(request):
            self.message_user(request, _("您的角色不能审核入驻申请"), messages.ERROR)
            return
        for application in queryset.order_by("id"):
            try:
                services.merchant_application_approve(application=application, actor=request.user,
                                                      now=timezone.now())
            except DomainError as error:
                self.message_user(request, f"{application.company_name}：{error.message}", messages.ERROR)
            else:
                self.message_user(request, _("{company_name}：已审核通过").format(company_name=application.company_name), messages.SUCCESS)


CONFIG_ROLES = (Role.OPS_ADMIN, Role.OPS_FINANCE)


def _changes_text(amendment: TermsAmendment) -> str:
    return _("；").join(f"{row['label']} {row['before']} → {row['after']}" for row in terms_rows(amendment.changes))


def _can_configure(request) -> bool:
    return request.user.is_superuser or request.user.role in CONFIG_ROLES


class ConfigurationForm(forms.ModelForm):
    amendment_reason = forms.CharField(
        label=gettext_lazy("商务条款变更原因"), required=False, max_length=300,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=gettext_lazy("企业已签署服务协议后，服务费率、固定费、最低服务费、阶梯费率、承担方、计费时点的变更须企业签署"
                               "补充协议后才生效；此处的原因写入补充协议。其他配置项保存后立即生效。"))

    class Meta:
        model = MerchantConfiguration
        fields = "__all__"


@admin.register(MerchantConfiguration)
class MerchantConfigurationAdmin(admin.ModelAdmin):
    """配置项: the form collects the values; ``merchant_configuration_set`` validates, saves and audits them."""

    form = ConfigurationForm
    list_display = ("merchant", "fee_rate", "fee_fixed_fen", "fee_minimum_fen", "fee_bearer", "fee_timing",
                    "tax_bearer", "enabled_channels", "updated_at")
    search_fields = ("merchant__name", "merchant__uscc")
    list_select_related = ("merchant",)

    def get_readonly_fields(self, request, obj=None):
        return ("merchant", "pending_amendment") if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return _can_configure(request)

    @admin.display(description=gettext_lazy("待企业签署的补充协议"))
    def pending_amendment(self, obj):
        amendment = (TermsAmendment.objects.filter(merchant_id=obj.merchant_id, status=TermsAmendment.Status.PENDING)
                     .first())
        if amendment is None:
            return "—"
        changes = _changes_text(amendment)
        return format_html(_('<a href="{}">{}</a>：{}（在此再次修改商务条款将撤回并替换它）'),
                           reverse("admin:merchants_termsamendment_change", args=[amendment.pk]), amendment.number,
                           changes)

    def save_model(self, request, obj, form, change):
        from merchants.services.account import CONFIG_FIELDS

        values = {name: form.cleaned_data[name] for name in CONFIG_FIELDS if name in form.cleaned_data}
        config = services.merchant_configuration_set(merchant=obj.merchant, actor=request.user, now=timezone.now(),
                                                     reason=form.cleaned_data.get("amendment_reason", ""), **values)
        obj.pk = config.pk
        amendment = config.proposed_amendment
        if amendment is not None:
            messages.warning(request, _("商务条款的变更须企业签署补充协议 {number} 后才生效（企业端“服务协议”页签署）；"
                                        "在此之前仍按原约定计费。其他配置项已生效。").format(number=amendment.number))

    def save_related(self, request, form, formsets, change):
        pass


@admin.register(MerchantChangeRequest)
class MerchantChangeRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "merchant", "kind", "status", "requested_at", "risk_outcome", "reviewed_at")
    list_filter = ("kind", "status")
    search_fields = ("merchant__name", "merchant__uscc")
    list_select_related = ("merchant",)
    fields = ("merchant", "kind", "status", "changes_masked", "previous", "reason", "requested_by", "requested_at",
              "risk_outcome", "risk_reasons", "reviewed_by", "reviewed_at", "review_note")
    readonly_fields = fields
    actions = ["approve_selected", "reject_selected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("审核通过所选变更 / 注销申请"))
    def approve_selected(self, request, queryset):
        if not _is_reviewer(request):
            self.message_user(request, _("您的角色不能审核"), messages.ERROR)
            return
        for change in queryset.order_by("id"):
            try:
                services.merchant_change_approve(change=change, actor=request.user, now=timezone.now())
            except DomainError as error:
                self.message_user(request, f"#{change.pk}：{error.message}", messages.ERROR)
            else:
                self.message_user(request, _("#{pk}：已通过").format(pk=change.pk), messages.SUCCESS)

    @admin.action(description=gettext_lazy("驳回所选申请（原因：资料不符，请联系客服）"))
    def reject_selected(self, request, queryset):
        if not _is_reviewer(request):
            self.message_user(request, _("您的角色不能审核"), messages.ERROR)
            return
        for change in queryset.order_by("id"):
            try:
                services.merchant_change_reject(change=change, actor=request.user, now=timezone.now(),
                                                reason="资料与登记信息不符，请核对后重新提交或联系客服")
            except DomainError as error:
                self.message_user(request, f"#{change.pk}：{error.message}", messages.ERROR)


class SignedDocumentAdminMixin:
    """Platform staff read a signed agreement and download its sealed PDF (through the audited document download)."""

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.role in PLATFORM_ROLES or request.user.is_superuser

    @admin.display(description=gettext_lazy("已签署文件"))
    def download(self, obj):
        if not obj.document_id:
            return "—"
        return format_html(_('<a href="{}">下载 PDF</a>'),
                           reverse("admin:merchants_merchantdocument_download", args=[obj.document_id]))


@admin.register(ServiceAgreement)
class ServiceAgreementAdmin(SignedDocumentAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("number", "merchant", "status", "template_version", "issued_at", "signed_at", "signer_label",
                    "download")
    list_filter = ("status", "template_version")
    search_fields = ("number", "merchant__name")
    list_select_related = ("merchant",)
    readonly_fields = ("number", "merchant", "status", "template_version", "terms", "issued_at", "signer_label",
                       "signed_at", "signed_ip", "sha256", "platform_signer", "terminated_at", "download")
    fields = readonly_fields


@admin.register(TermsAmendment)
class TermsAmendmentAdmin(SignedDocumentAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    """补充协议: proposed by saving commercial terms in 配置项; signed by the enterprise; operations may withdraw one."""

    list_display = ("number", "merchant", "status", "changes_display", "proposed_at", "signed_at", "withdrawn_at",
                    "download")
    list_filter = ("status",)
    search_fields = ("number", "merchant__name", "merchant__uscc")
    list_select_related = ("merchant",)
    readonly_fields = ("number", "merchant", "agreement", "status", "template_version", "changes_display", "changes",
                       "reason", "proposed_by", "proposed_at", "signer_label", "signed_at", "signed_ip", "sha256",
                       "platform_signer", "withdrawn_at", "replaced_by", "download")
    fields = readonly_fields
    actions = ["withdraw_selected"]

    def has_withdraw_permission(self, request):
        return _can_configure(request)

    @admin.display(description=gettext_lazy("变更内容"))
    def changes_display(self, obj):
        return _changes_text(obj) or "—"


    @admin.action(description=gettext_lazy("撤回所选待签署的补充协议"), permissions=["withdraw"])
    def withdraw_selected(self, request, queryset):
        for amendment in queryset.order_by("id"):
            try:
                services.terms_amendment_withdraw(amendment=amendment, actor=request.user, now=timezone.now())
            except DomainError as error:
                self.message_user(request, f"{amendment.number}：{error.message}", messages.ERROR)
            else:
                self.message_user(request, _("{number}：已撤回").format(number=amendment.number), messages.SUCCESS)


@admin.register(MerchantDocument)
class MerchantDocumentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "merchant", "kind", "original_name", "content_type", "size", "sha256", "created_at")
    list_filter = ("kind",)
    readonly_fields = ("merchant", "kind", "original_name", "content_type", "size", "sha256", "uploaded_by",
                       "created_at")
    fields = readonly_fields

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.role in PLATFORM_ROLES or request.user.is_superuser

    def get_urls(self):
        return [path("<int:document_id>/download/", self.admin_site.admin_view(self.download_view),
                     name="merchants_merchantdocument_download"), *super().get_urls()]

    def download_view(self, request, document_id: int):
        """Operations download a licence or agreement; every download is audited."""
        from core import audit

        if not self.has_view_permission(request):
            messages.error(request, _("无权下载"))
            return HttpResponseRedirect(reverse("admin:index"))
        document = get_object_or_404(MerchantDocument, pk=document_id)
        audit.record(event="merchants.document.downloaded", now=timezone.now(), actor=request.user, subject=document,
                     ip=request.META.get("REMOTE_ADDR"))
        return FileResponse(document.file.open("rb"), as_attachment=True, filename=document.original_name,
                            content_type=document.content_type)


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("key_id", "merchant", "label", "issued_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("key_id", "merchant__name")
    fields = ("key_id", "merchant", "label", "secret_hint", "created_by", "issued_at", "last_used_at", "revoked_at",
              "revoked_by")
    readonly_fields = fields


@admin.register(StaffInvitation)
class StaffInvitationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "merchant", "role", "invited_at", "expires_at", "accepted_at", "revoked_at")
    fields = ("merchant", "role", "email", "invited_by", "invited_at", "expires_at", "accepted_at", "user")
    readonly_fields = fields
