from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from . import services
from .models import Address, Consumer, EndpointSettings, Invitation, TeamVmrSettings


class ConsumerAdminForm(forms.ModelForm):
    """Ops edit through the same service as the portal: the alias goes through
    normalize_alias, the domain never changes."""

    class Meta:
        model = Consumer
        fields = ["alias", "display_name", "cost_centre", "description_tag"]

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        hosted = self.instance.calling_domain.is_hosted if self.instance.calling_domain else True
        if "alias" in cleaned:
            try:
                cleaned["alias"] = services.normalize_alias_for_field(
                    cleaned["alias"], hosted=hosted
                )
            except ValidationError as exc:
                self.add_error("alias", exc.error_dict["alias"])
        return cleaned


@admin.register(Consumer)
class ConsumerAdmin(admin.ModelAdmin):
    form = ConsumerAdminForm
    list_display = ["alias", "domain", "kind", "status", "is_trial", "company", "created_at"]
    list_filter = ["kind", "status", "is_trial", "company__partner"]
    search_fields = ["alias", "domain", "display_name", "public_id", "company__name"]
    list_select_related = ["company"]
    readonly_fields = [
        "public_id",
        "kind",
        "domain",
        "company",
        "calling_domain",
        "status",
        "inactive_reason",
        "is_trial",
        "created_at",
    ]
    show_full_result_count = False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # consumers are added by partners through the portal's rules

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        try:
            services.consumer_update(actor=request.user, consumer=obj, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        services.consumer_delete(actor=request.user, consumer=obj)


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["address", "purpose", "consumer"]
    list_filter = ["purpose"]
    search_fields = ["address"]
    raw_id_fields = ["consumer"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["consumer", "sent_at", "first_reminder_at", "second_reminder_at", "accepted_at"]
    list_filter = ["accepted_at", "sent_at"]
    search_fields = ["email", "consumer__alias"]
    raw_id_fields = ["consumer"]
    exclude = ["token_nonce", "token_hash"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(TeamVmrSettings)
class TeamVmrSettingsAdmin(admin.ModelAdmin):
    list_display = ["consumer"]
    search_fields = ["consumer__alias"]
    raw_id_fields = ["consumer"]


@admin.register(EndpointSettings)
class EndpointSettingsAdmin(admin.ModelAdmin):
    list_display = ["consumer", "usage_model", "device_make", "device_model"]
    list_filter = ["usage_model"]
    search_fields = ["consumer__alias", "serial_number"]
    raw_id_fields = ["consumer", "personal_user"]
