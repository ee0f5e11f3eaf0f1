"""Operations: rule sets (read-only), settings (changed through the service, audited), withholdings (read-only),
periods (file / correct through an action), returns (download), receipts (upload through the service), reports."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy

from core.exceptions import DomainError
from core.money import format_yuan, parse_yuan
from tax import filing, services
from tax.models import (
    PlatformReport,
    TaxAccount,
    TaxPeriod,
    TaxReceipt,
    TaxReturn,
    TaxRuleSet,
    TaxSettings,
    TaxStatement,
    Withholding,
    WorkerTaxProfile,
)


class DownloadMixin:
    """Files live in private storage (never served from MEDIA_URL): staff download them through the admin."""

    download_field = "file"

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [path("<int:pk>/download/", self.admin_site.admin_view(self.download_view),
                     name=f"{info[0]}_{info[1]}_download"), *super().get_urls()]

    def download_view(self, request, pk: int):
        obj = self.model.objects.filter(pk=pk).first()
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404
        field = getattr(obj, self.download_field)
        field.open("rb")
        return FileResponse(field, as_attachment=True, filename=field.name.rsplit("/", 1)[-1])

    @admin.display(description=gettext_lazy("文件"))
    def download(self, obj):
        info = self.model._meta.app_label, self.model._meta.model_name
        return format_html(gettext('<a href="{}">下载</a>'), reverse(f"admin:{info[0]}_{info[1]}_download", args=[obj.pk]))


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TaxRuleSet)
class TaxRuleSetAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "effective_from", "effective_to")
    ordering = ("effective_from",)
    readonly_fields = ("code", "name", "effective_from", "effective_to", "parameters_pretty", "sources_list",
                       "notes", "created_at")
    fields = readonly_fields

    @admin.display(description=gettext_lazy("参数（金额单位：分）"))
    def parameters_pretty(self, obj):
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>",
                           json.dumps(obj.parameters, ensure_ascii=False, indent=2))

    @admin.display(description=gettext_lazy("依据文件"))
    def sources_list(self, obj):
        return format_html("<br>".join("{}" for _ in obj.sources),
                           *[f"{s.get('title', '')} {s.get('url', '')}" for s in obj.sources])


@admin.register(TaxSettings)
class TaxSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "gap_month_rule", "iit_base_when_vat_due", "vat_threshold_base",
                    "surcharge_location_basis", "platform_location", "entity_code")
    fields = ("gap_month_rule", "iit_base_when_vat_due", "vat_threshold_base", "surcharge_location_basis",
              "platform_location", "entity_code", "entity_name", "entity_uscc", "platform_name")

    def has_add_permission(self, request):
        return not TaxSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in self.fields}
        try:
            services.tax_settings_update(now=timezone.now(), actor=request.user, **changes)
        except DomainError as error:
            messages.error(request, error.message)


@admin.register(WorkerTaxProfile)
class WorkerTaxProfileAdmin(admin.ModelAdmin):
    list_display = ("member", "location", "city")
    raw_id_fields = ("member",)


@admin.register(TaxAccount)
class TaxAccountAdmin(ReadOnlyAdmin):
    list_display = ("member", "entity_code", "year", "yuan_income", "yuan_iit", "consecutive_months", "last_month")
    list_filter = ("year", "entity_code")

    @admin.display(description=gettext_lazy("累计收入"))
    def yuan_income(self, obj):
        return format_yuan(obj.income_fen)

    @admin.display(description=gettext_lazy("累计已预扣个税"))
    def yuan_iit(self, obj):
        return format_yuan(obj.iit_fen)


@admin.register(Withholding)
class WithholdingAdmin(ReadOnlyAdmin):
    list_display = ("payment_ref", "kind", "merchant", "member", "liability_date", "rule_set", "route", "bearer",
                    "gross", "iit", "vat", "net")
    list_filter = ("kind", "route", "bearer", "rule_set")
    search_fields = ("payment_ref",)
    readonly_fields = ("lines_pretty",)
    actions = ["recompute"]

    @admin.action(description=gettext_lazy("重新计算核对（按记录保存的规则集、设置和此前的记录）"))
    def recompute(self, request, queryset):
        mismatched = [row.payment_ref for row in queryset.select_related("rule_set", "member").order_by("id")
                      if not services.withholding_matches_recomputation(withholding=row)]
        if mismatched:
            messages.error(request, gettext("以下记录重新计算结果不一致，请核查：{value}").format(value=', '.join(mismatched)))
        else:
            messages.success(request, gettext("{value} 条记录重新计算一致").format(value=queryset.count()))

    @admin.display(description=gettext_lazy("税前"))
    def gross(self, obj):
        return format_yuan(obj.gross_fen)

    @admin.display(description=gettext_lazy("个税"))
    def iit(self, obj):
        return format_yuan(obj.iit_fen)

    @admin.display(description=gettext_lazy("增值税"))
    def vat(self, obj):
        return format_yuan(obj.vat_fen)

    @admin.display(description=gettext_lazy("实发"))
    def net(self, obj):
        return format_yuan(obj.net_fen)

    @admin.display(description=gettext_lazy("计算明细"))
    def lines_pretty(self, obj):
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>",
                           json.dumps(obj.lines, ensure_ascii=False, indent=2))


class TaxReturnInline(admin.TabularInline):
    model = TaxReturn
    extra = 0
    can_delete = False
    fields = ("kind", "version", "is_correction", "row_count", "income_fen", "tax_fen", "download", "created_at")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("文件"))
    def download(self, obj):
        return format_html(gettext('<a href="{}">下载</a>'), reverse("admin:tax_taxreturn_download", args=[obj.pk]))

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TaxPeriod)
class TaxPeriodAdmin(ReadOnlyAdmin):
    list_display = ("entity_code", "year", "month", "status", "version", "filed_at")
    list_filter = ("status", "year")
    inlines = [TaxReturnInline]
    actions = ["file_periods"]

    @admin.action(description=gettext_lazy("申报所选所属期（生成扣缴申报与代办申报文件；已申报的不重复申报）"))
    def file_periods(self, request, queryset):
        for period in queryset.order_by("year", "month", "id"):
            try:
                filing.tax_period_file(year=period.year, month=period.month, entity_code=period.entity_code,
                                       now=timezone.now(), actor=request.user)
            except DomainError as error:
                messages.error(request, f"{period.label}：{error.message}")
            else:
                messages.success(request, gettext("{label}：已申报").format(label=period.label))


@admin.register(TaxReturn)
class TaxReturnAdmin(DownloadMixin, ReadOnlyAdmin):
    list_display = ("period", "kind", "version", "is_correction", "row_count", "income", "tax", "download",
                    "created_at")
    list_filter = ("kind", "is_correction")

    @admin.display(description=gettext_lazy("收入合计"))
    def income(self, obj):
        return format_yuan(obj.income_fen)

    @admin.display(description=gettext_lazy("税额合计"))
    def tax(self, obj):
        return format_yuan(obj.tax_fen)


class ReceiptForm(forms.ModelForm):
    amount_paid = forms.CharField(label=gettext_lazy("实缴金额（元）"))
    upload = forms.FileField(label=gettext_lazy("完税凭证文件"))

    class Meta:
        model = TaxReceipt
        fields = ("tax_return", "paid_on", "receipt_number")

    def clean_amount_paid(self):
        try:
            return parse_yuan(self.cleaned_data["amount_paid"], field=gettext("实缴金额"))
        except DomainError as error:
            raise forms.ValidationError(error.message) from None


@admin.register(TaxReceipt)
class TaxReceiptAdmin(DownloadMixin, admin.ModelAdmin):
    """Operations upload the 完税凭证 here; the row is written by ``filing.tax_receipt_record`` (audited)."""

    form = ReceiptForm
    list_display = ("receipt_number", "tax_return", "amount", "paid_on", "download", "created_at")

    def has_change_permission(self, request, obj=None):
        return obj is None

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("实缴金额"))
    def amount(self, obj):
        return format_yuan(obj.amount_paid_fen)

    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data["upload"]
        try:
            saved = filing.tax_receipt_record(
                tax_return=form.cleaned_data["tax_return"], amount_paid_fen=form.cleaned_data["amount_paid"],
                paid_on=form.cleaned_data["paid_on"], receipt_number=form.cleaned_data["receipt_number"],
                content=upload.read(), filename=upload.name, now=timezone.now(), actor=request.user)
        except DomainError as error:
            messages.error(request, error.message)
            return
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        pass


@admin.register(TaxStatement)
class TaxStatementAdmin(DownloadMixin, ReadOnlyAdmin):
    list_display = ("code", "member", "year", "issued_at", "download")
    search_fields = ("code",)


@admin.register(PlatformReport)
class PlatformReportAdmin(DownloadMixin, ReadOnlyAdmin):
    list_display = ("entity_code", "year", "quarter", "reported_count", "excluded", "download", "created_at")
