from django.contrib import admin

from core.models import AuditRecord, IdempotencyRecord, SigningCertificate


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "event", "actor_label", "merchant_id", "subject_type", "subject_id", "ip")
    list_filter = ("event",)
    search_fields = ("event", "subject_id", "actor_label")
    date_hierarchy = "at"


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("scope", "key", "merchant", "status", "response_status", "created_at")
    list_filter = ("scope", "status")


@admin.register(SigningCertificate)
class SigningCertificateAdmin(ReadOnlyAdmin):
    list_display = ("name", "subject", "not_before", "not_after")
    exclude = ("key_pem_encrypted",)
