from django.contrib import admin

from merchants.models import Merchant


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "uscc", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "uscc")
    readonly_fields = ("status",)
