from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import DomainError
from risk import services
from risk.models import ListEntry, RiskCheck


class ListEntryForm(forms.ModelForm):
    class Meta:
        model = ListEntry
        fields = ("list_type", "subject", "value", "reason", "active")

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and data.get("value"):
            value = data["value"].strip().upper() if data.get("subject") == ListEntry.Subject.USCC else data["value"]
            if ListEntry.objects.filter(list_type=data.get("list_type"), subject=data.get("subject"),
                                        value=value.strip()).exists():
                raise forms.ValidationError(_("名单中已有“{value}”，如需修改请编辑原记录").format(value=value))
        return data


@admin.register(ListEntry)
class ListEntryAdmin(admin.ModelAdmin):
    form = ListEntryForm
    list_display = ("id", "list_type", "subject", "value", "reason", "active", "created_at")
    list_filter = ("list_type", "subject", "active")
    search_fields = ("value", "reason")
    fields = ("list_type", "subject", "value", "reason", "active")
    actions = ["deactivate", "activate"]

    def get_readonly_fields(self, request, obj=None):
        return ("list_type", "subject", "value", "reason") if obj else ()

    def save_model(self, request, obj, form, change):
        # Writes go through the risk services (audited); the admin form only collects the input.
        now = timezone.now()
        try:
            if change:
                services.list_entry_set_active(entry=obj, active=obj.active, actor=request.user, now=now)
            else:
                created = services.list_entry_add(list_type=obj.list_type, subject=obj.subject, value=obj.value,
                                                  reason=obj.reason, actor=request.user, now=now)
                obj.pk = created.pk
        except DomainError as error:
            messages.error(request, error.message)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("停用所选名单"))
    def deactivate(self, request, queryset):
        for entry in queryset.order_by("id"):
            services.list_entry_set_active(entry=entry, active=False, actor=request.user, now=timezone.now())

    @admin.action(description=gettext_lazy("启用所选名单"))
    def activate(self, request, queryset):
        for entry in queryset.order_by("id"):
            services.list_entry_set_active(entry=entry, active=True, actor=request.user, now=timezone.now())


@admin.register(RiskCheck)
class RiskCheckAdmin(admin.ModelAdmin):
    list_display = ("id", "check_name", "merchant", "outcome", "checked_at")
    list_filter = ("check_name", "outcome")
    readonly_fields = [f.name for f in RiskCheck._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
