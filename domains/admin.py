from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from portal.admin import ServiceAdmin, adopt

from . import services
from .models import CallingDomain, InteropConfiguration, Microsoft365Domain


@admin.register(CallingDomain)
class CallingDomainAdmin(ServiceAdmin):
    """Added by partners, through the rules and the DNS email; verified by DNS or by the rules
    of automatic verification. Ops look, ask for a DNS check now, or delete (the service refuses
    a domain in use and the company's service domain)."""

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
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # nothing to type in: saving the page would only write back stale values

    def delete_service(self, request, obj):  # type: ignore[no-untyped-def]
        services.calling_domain_delete(actor=request.user, calling_domain=obj)

    @admin.action(description="Check DNS now")
    def verify_now(self, request, queryset):  # type: ignore[no-untyped-def]
        for domain in queryset.filter(status="pending"):
            services.calling_domain_verify(actor=request.user, calling_domain=domain)
        messages.info(request, "Checked.")


class Microsoft365DomainAddForm(forms.ModelForm):
    class Meta:
        model = Microsoft365Domain
        fields = ["company", "name"]


@admin.register(Microsoft365Domain)
class Microsoft365DomainAdmin(ServiceAdmin):
    """Added through microsoft365_domain_add (the name read like every domain name typed in:
    domains.names.normalize_domain), then never renamed: a name proven by TXT or by ops stays
    the name it was proven for. Delete it and add the right one instead."""

    form = Microsoft365DomainAddForm
    list_display = ["name", "company", "status", "verified_by_ops", "verified_at"]
    list_filter = ["status", "verified_by_ops"]
    search_fields = ["name", "company__name"]
    list_select_related = ["company"]
    autocomplete_fields = ["company"]
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

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        domain = services.microsoft365_domain_add(
            actor=request.user, company=obj.company, name=form.cleaned_data["name"]
        )
        adopt(obj, domain)

    def delete_service(self, request, obj):  # type: ignore[no-untyped-def]
        services.microsoft365_domain_delete(actor=request.user, microsoft365_domain=obj)

    @admin.action(description="Mark verified (checked by operations)")
    def mark_verified(self, request, queryset):  # type: ignore[no-untyped-def]
        for domain in queryset.select_related("company__partner"):
            services.microsoft365_domain_mark_verified(
                actor=request.user, microsoft365_domain=domain
            )
        messages.success(request, "Marked verified.")


class InteropAdminForm(forms.ModelForm):
    """The fields of interop_configuration_create, which checks them: a verified calling domain
    of the same company (the portal's gate) and a tenant not configured yet."""

    class Meta:
        model = InteropConfiguration
        fields = ["company", "name", "tenant_id", "calling_domain"]


@admin.register(InteropConfiguration)
class InteropConfigurationAdmin(ServiceAdmin):
    form = InteropAdminForm
    list_display = ["name", "company", "kind", "tenant_id", "calling_domain"]
    list_filter = ["kind"]
    search_fields = ["name", "tenant_id", "company__name"]
    list_select_related = ["company", "calling_domain"]
    autocomplete_fields = ["company", "calling_domain"]
    readonly_fields = ["public_id", "kind", "created_at"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # no service changes one: delete it and add it again

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        data = form.cleaned_data
        config = services.interop_configuration_create(
            actor=request.user,
            company=data["company"],
            name=data["name"],
            tenant_id=data["tenant_id"],
            calling_domain=data["calling_domain"].name,
        )
        adopt(obj, config)

    def delete_service(self, request, obj):  # type: ignore[no-untyped-def]
        services.interop_configuration_delete(actor=request.user, configuration=obj)
