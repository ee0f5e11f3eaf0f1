"""The ledger in the operations back office: read-only. Money moves only through services."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from core.money import format_yuan
from ledger.models import JournalEntry, LedgerAccount, Posting


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "merchant", "channel", "normal_side", "balance_yuan", "updated_at")
    list_filter = ("kind", "channel")
    search_fields = ("merchant__name",)
    list_select_related = ("merchant",)

    @admin.display(description="余额（元）")
    def balance_yuan(self, obj):
        return format_yuan(obj.balance_fen)


class PostingInline(admin.TabularInline):
    model = Posting
    fields = ("account", "amount_fen", "balance_after_fen")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "ref", "merchant", "memo", "posted_at")
    list_filter = ("kind",)
    search_fields = ("ref", "memo")
    date_hierarchy = "posted_at"
    inlines = [PostingInline]
    list_select_related = ("merchant",)
