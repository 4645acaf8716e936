from __future__ import annotations

from django.contrib import admin

from .models import CallingDomain


@admin.register(CallingDomain)
class CallingDomainAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "company",
        "status",
        "verification_method",
        "verified_at",
        "last_checked_at",
    ]
    list_filter = ["status", "verification_method"]
    search_fields = ["name", "company__name"]
    list_select_related = ["company"]
    raw_id_fields = ["company"]
    readonly_fields = [
        "public_id",
        "verification_token",
        "verified_at",
        "last_checked_at",
        "last_error",
        "created_at",
    ]
