from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from . import services
from .models import CallingDomain, InteropConfiguration, Microsoft365Domain


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
        "name",
        "company",
        "status",
        "verification_method",
        "verification_token",
        "verified_at",
        "last_checked_at",
        "check_requested_at",
        "last_error",
        "created_at",
        "expiry_warned_at",
    ]
    actions = ["verify_now"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # added by partners, through the rules and the DNS email

    @admin.action(description="Check DNS now")
    def verify_now(self, request, queryset):  # type: ignore[no-untyped-def]
        for domain in queryset.filter(status="pending"):
            services.calling_domain_verify(actor=request.user, calling_domain=domain)
        messages.info(request, "Checked.")


@admin.register(Microsoft365Domain)
class Microsoft365DomainAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "status", "verified_by_ops", "verified_at"]
    list_filter = ["status", "verified_by_ops"]
    search_fields = ["name", "company__name"]
    list_select_related = ["company"]
    raw_id_fields = ["company"]
    readonly_fields = [
        "public_id",
        "status",
        "verified_by_ops",
        "verification_token",
        "verified_at",
        "last_checked_at",
        "last_error",
        "created_at",
    ]
    actions = ["mark_verified"]

    @admin.action(description="Mark verified (checked by operations)")
    def mark_verified(self, request, queryset):  # type: ignore[no-untyped-def]
        for domain in queryset:
            services.microsoft365_domain_mark_verified(
                actor=request.user, microsoft365_domain=domain
            )
        messages.success(request, "Marked verified.")


class InteropAdminForm(forms.ModelForm):
    """Ops edit interop configurations through the portal's gate: only a verified calling
    domain of the same company (services.ensure_verified)."""

    class Meta:
        model = InteropConfiguration
        fields = ["company", "kind", "name", "tenant_id", "calling_domain"]

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        domain = cleaned.get("calling_domain")
        company = cleaned.get("company")
        if domain is not None and company is not None:
            if domain.company_id != company.pk:
                self.add_error("calling_domain", "This domain belongs to another company.")
                return cleaned
            try:
                services.ensure_verified(domain)
            except ValidationError as exc:
                self.add_error("calling_domain", exc.message_dict["domain"])
        return cleaned


@admin.register(InteropConfiguration)
class InteropConfigurationAdmin(admin.ModelAdmin):
    form = InteropAdminForm
    list_display = ["name", "company", "kind", "tenant_id", "calling_domain"]
    list_filter = ["kind"]
    search_fields = ["name", "tenant_id", "company__name"]
    list_select_related = ["company", "calling_domain"]
    raw_id_fields = ["company", "calling_domain"]
