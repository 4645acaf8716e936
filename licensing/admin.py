from __future__ import annotations

from django import forms
from django.contrib import admin

from portal.admin import ServiceAdmin

from . import services
from .models import License


class LicenceAdminForm(forms.ModelForm):
    """Ops edit licences through the same rule as every path: a licence may not drop below the
    seats in use (services.licence_validate), checked before Django admin saves."""

    class Meta:
        model = License
        fields = ["company", "kind", "quantity", "starts_on", "ends_on", "reference", "cost_centre"]

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        if self.errors:
            return cleaned
        candidate = self.instance
        for name in self.Meta.fields:
            if name in cleaned:
                setattr(candidate, name, cleaned[name])
        services.licence_validate(licence=candidate)
        cleaned["quantity"] = candidate.quantity
        return cleaned


@admin.register(License)
class LicenceAdmin(ServiceAdmin):
    form = LicenceAdminForm
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
    autocomplete_fields = ["company"]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Moving a licence would take seats from its company unchecked: delete and add instead.
        return ["public_id", "created_at"] + (["company"] if obj is not None else [])

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        services.licence_save(actor=request.user, licence=obj)

    def delete_service(self, request, obj):  # type: ignore[no-untyped-def]
        services.licence_delete(actor=request.user, licence=obj)
