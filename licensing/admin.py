from __future__ import annotations

from django.contrib import admin

from .models import License


@admin.register(License)
class LicenseAdmin(admin.ModelAdmin):
    list_display = [
        "company",
        "kind",
        "quantity",
        "starts_on",
        "ends_on",
        "reference",
        "cost_centre",
    ]
    list_filter = ["kind", "starts_on", "ends_on", "company__partner"]
    search_fields = ["company__name", "reference", "cost_centre", "public_id"]
    list_select_related = ["company"]
    raw_id_fields = ["company"]
    readonly_fields = ["public_id", "created_at"]
