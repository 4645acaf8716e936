from __future__ import annotations

from django.contrib import admin

from .models import DialInNumber, HandoutExport


@admin.register(DialInNumber)
class DialInNumberAdmin(admin.ModelAdmin):
    list_display = ["country", "label", "number", "sort_order", "is_active"]
    list_filter = ["is_active", "country"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["label", "number"]


@admin.register(HandoutExport)
class HandoutExportAdmin(admin.ModelAdmin):
    list_display = ["company", "fmt", "status", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "fmt"]
    search_fields = ["company__name"]
    list_select_related = ["company", "created_by"]
    readonly_fields = [
        "public_id",
        "company",
        "created_by",
        "fmt",
        "options",
        "status",
        "file",
        "error",
        "created_at",
        "finished_at",
    ]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
