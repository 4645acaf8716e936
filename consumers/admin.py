from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from . import services
from .addresses import normalize_alias_for
from .models import Address, Consumer, EndpointSettings, Invitation, TeamVmrSettings


class ConsumerAdminForm(forms.ModelForm):
    """Ops edit through the same rules as the portal: the alias goes through
    normalize_alias_for (on the consumer's own domain), the domain never changes."""

    class Meta:
        model = Consumer
        fields = ["alias", "display_name", "cost_centre", "description_tag"]

    def clean_alias(self) -> str:
        try:
            return normalize_alias_for(self.cleaned_data["alias"], domain=self.instance.domain)
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["alias"]) from None


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only the portal's services write: ops may look, not add."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(Address)
class AddressAdmin(ReadOnlyAdmin):
    list_display = ["address", "purpose", "consumer"]
    list_filter = ["purpose"]
    search_fields = ["address"]
    raw_id_fields = ["consumer"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["consumer", "sent_at", "first_reminder_at", "second_reminder_at", "accepted_at"]
    list_filter = ["accepted_at", "sent_at"]
    search_fields = ["email", "consumer__alias"]
    raw_id_fields = ["consumer"]
    exclude = ["token_nonce", "token_hash"]


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
