"""Funding in the operations back office: the unmatched queue (认领 / 退回), statement imports, payer accounts.

Everything is read-only; every change is an admin action or a small form that calls one service.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.admin import ReadOnlyAdmin
from core.exceptions import DomainError
from core.money import format_yuan
from core.pii import mask_bank_card, mask_name
from merchants.models import Merchant
from payouts.models import ChannelNotification, IncomingTransfer, PayerAccount, StatementImport, TopUpAccount
from payouts.services import (
    incoming_transfer_match,
    incoming_transfer_return,
    payer_account_register,
    statement_import,
)


class MatchForm(forms.Form):
    merchant = forms.ModelChoiceField(queryset=Merchant.objects.order_by("name", "id"), label=gettext_lazy("入账企业"))


class ReturnForm(forms.Form):
    reason = forms.CharField(max_length=200, label=gettext_lazy("退回原因"))


class StatementUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("银行交易明细文件（CSV）"))


class PayerAccountForm(forms.Form):
    merchant = forms.ModelChoiceField(queryset=Merchant.objects.order_by("name", "id"), label=gettext_lazy("企业"))
    account_name = forms.CharField(max_length=100, label=gettext_lazy("户名"))
    account_number = forms.CharField(max_length=40, label=gettext_lazy("账号"))
    bank_name = forms.CharField(max_length=100, label=gettext_lazy("开户行"), required=False)


def _yuan(obj) -> str:
    return format_yuan(obj.amount_fen)


@admin.register(IncomingTransfer)
class IncomingTransferAdmin(ReadOnlyAdmin):
    list_display = ("bank_serial", "amount_yuan", "status", "merchant", "match_method", "payer", "virtual_account",
                    "postscript", "value_date", "received_at")
    list_filter = ("status", "source", "match_method")
    search_fields = ("bank_serial", "virtual_account", "postscript")
    list_select_related = ("merchant",)
    exclude = ("payer_account_name", "payer_account_number", "payer_account_index")
    readonly_fields = ("payer",)
    actions = ["match_to_merchant", "return_to_payer"]

    @admin.display(description=gettext_lazy("金额（元）"))
    def amount_yuan(self, obj):
        return _yuan(obj)

    @admin.display(description=gettext_lazy("付款方"))
    def payer(self, obj):
        return f"{mask_name(obj.payer_account_name)} {mask_bank_card(obj.payer_account_number)}".strip()

    def has_change_permission(self, request, obj=None):
        # The change list's actions need it; every field stays read-only (see get_readonly_fields).
        return request.user.is_active and request.user.is_staff

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name not in self.exclude] + ["payer"]

    def _one_unmatched(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("请只选择一笔待认领的来账"), messages.ERROR)
            return None
        return queryset.first()

    @admin.action(description=gettext_lazy("认领到企业（入账）"))
    def match_to_merchant(self, request, queryset):
        transfer = self._one_unmatched(request, queryset)
        if transfer is None:
            return None
        form = MatchForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                incoming_transfer_match(transfer_id=transfer.pk, merchant=form.cleaned_data["merchant"],
                                        actor=request.user, now=timezone.now())
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, _("来账 {serial} 已入账到 {merchant}").format(
                    serial=transfer.bank_serial, merchant=form.cleaned_data["merchant"]))
            return None
        return TemplateResponse(request, "admin/payouts/incoming_action.html", {
            **self.admin_site.each_context(request), "title": _("认领来账"), "transfer": transfer, "form": form,
            "action": "match_to_merchant", "amount": _yuan(transfer), "opts": self.model._meta,
        })

    @admin.action(description=gettext_lazy("退回付款方"))
    def return_to_payer(self, request, queryset):
        transfer = self._one_unmatched(request, queryset)
        if transfer is None:
            return None
        form = ReturnForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                incoming_transfer_return(transfer_id=transfer.pk, reason=form.cleaned_data["reason"],
                                         actor=request.user, now=timezone.now())
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, _("来账 {serial} 已登记退回").format(serial=transfer.bank_serial))
            return None
        return TemplateResponse(request, "admin/payouts/incoming_action.html", {
            **self.admin_site.each_context(request), "title": _("退回来账"), "transfer": transfer, "form": form,
            "action": "return_to_payer", "amount": _yuan(transfer), "opts": self.model._meta,
        })


@admin.register(StatementImport)
class StatementImportAdmin(ReadOnlyAdmin):
    list_display = ("filename", "source", "statement_date", "lines", "created_transfers", "duplicates", "skipped",
                    "imported_by", "imported_at")
    list_filter = ("source",)
    change_list_template = "admin/payouts/statementimport_change_list.html"

    def get_urls(self):
        return [path("upload/", self.admin_site.admin_view(self.upload_view), name="payouts_statementimport_upload"),
                *super().get_urls()]

    def upload_view(self, request):
        form = StatementUploadForm(request.POST or None, request.FILES or None)
        errors = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                record = statement_import(content=upload.read(), filename=upload.name,
                                          source=StatementImport.Source.ADMIN, actor=request.user, now=timezone.now())
            except DomainError as error:
                errors = error.extra.get("errors", [])
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, _("已导入 {lines} 笔来账：新增 {created}，重复 {duplicates}，跳过借方 {skipped}").format(
                    lines=record.lines, created=record.created_transfers, duplicates=record.duplicates,
                    skipped=record.skipped))
                return redirect(reverse("admin:payouts_statementimport_changelist"))
        return TemplateResponse(request, "admin/payouts/statement_upload.html", {
            **self.admin_site.each_context(request), "title": _("导入银行交易明细"), "form": form, "errors": errors,
            "opts": self.model._meta,
        })


@admin.register(PayerAccount)
class PayerAccountAdmin(ReadOnlyAdmin):
    list_display = ("merchant", "masked_name", "masked_number", "bank_name", "created_at")
    search_fields = ("merchant__name",)
    exclude = ("account_name", "account_number")
    change_list_template = "admin/payouts/payeraccount_change_list.html"

    @admin.display(description=gettext_lazy("户名"))
    def masked_name(self, obj):
        return mask_name(obj.account_name)

    @admin.display(description=gettext_lazy("账号"))
    def masked_number(self, obj):
        return mask_bank_card(obj.account_number)

    def get_urls(self):
        return [path("register/", self.admin_site.admin_view(self.register_view),
                     name="payouts_payeraccount_register"), *super().get_urls()]

    def register_view(self, request):
        form = PayerAccountForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                payer_account_register(actor=request.user, now=timezone.now(), **form.cleaned_data)
            except DomainError as error:
                form.add_error(error.extra.get("form_field"), error.message)
            else:
                self.message_user(request, _("付款账户已备案"))
                return redirect(reverse("admin:payouts_payeraccount_changelist"))
        return TemplateResponse(request, "admin/payouts/statement_upload.html", {
            **self.admin_site.each_context(request), "title": _("付款账户备案"), "form": form, "errors": [],
            "opts": self.model._meta,
        })


@admin.register(TopUpAccount)
class TopUpAccountAdmin(ReadOnlyAdmin):
    list_display = ("merchant", "account_number", "reference_code", "created_at")
    search_fields = ("merchant__name", "account_number", "reference_code")


@admin.register(ChannelNotification)
class ChannelNotificationAdmin(ReadOnlyAdmin):
    list_display = ("channel", "notify_id", "idempotency_key", "status", "amount_fen", "fail_code", "deliveries",
                    "received_at", "processed_at")
    list_filter = ("channel", "status")
    search_fields = ("notify_id", "idempotency_key", "channel_order_id")

from payouts import admin_orders  # noqa: E402,F401  (payout batches, orders, receipts, fee statements)
