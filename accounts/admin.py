from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.models import SmsCode, SmsOutbox, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("username", "kind", "role", "merchant", "phone_display", "is_active", "date_joined")
    list_filter = ("kind", "role", "is_active")
    search_fields = ("username", "email")
    readonly_fields = ("phone_display", "name_display", "date_joined", "last_login", "kind")
    fields = ("username", "email", "name_display", "phone_display", "kind", "role", "merchant", "is_staff",
              "is_active", "date_joined", "last_login")
    list_select_related = ("merchant",)

    @admin.display(description=_("手机号"))
    def phone_display(self, obj):
        return obj.phone_masked

    @admin.display(description=_("姓名"))
    def name_display(self, obj):
        return obj.name_masked


@admin.register(SmsOutbox)
class SmsOutboxAdmin(admin.ModelAdmin):
    """The sandbox SMS provider's outbox: operations (and demo users) read codes here."""

    list_display = ("created_at", "template", "phone_display", "body", "provider", "status")
    list_filter = ("template", "provider", "status")
    readonly_fields = [f.name for f in SmsOutbox._meta.fields]

    @admin.display(description=_("手机号"))
    def phone_display(self, obj):
        from core.pii import mask_phone

        return mask_phone(obj.phone)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SmsCode)
class SmsCodeAdmin(admin.ModelAdmin):
    list_display = ("purpose", "created_at", "expires_at", "attempts", "used_at")
    readonly_fields = ("phone_index", "purpose", "code_hash", "created_at", "expires_at", "attempts", "used_at")

    def has_add_permission(self, request):
        return False
