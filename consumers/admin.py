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

    def get_actions(self, request):  # type: ignore[no-untyped-def]
        # No "delete selected": it would delete without the service's audit; the portal's
        # batch tool deletes many through it.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


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
class TeamVmrSettingsAdmin(ReadOnlyAdmin):
    """PINs are changed through the consumer's edit (consumer_update checks them)."""

    list_display = ["consumer"]
    search_fields = ["consumer__alias"]
    raw_id_fields = ["consumer"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(EndpointSettings)
class EndpointSettingsAdmin(ReadOnlyAdmin):
    """Shows no credentials: the SIP password is the device's secret and the provisioning nonce
    makes its provisioning URL. Ops rotate them through the services (audited), never by typing
    one in; the usage model changes on the portal's page, which handles the call history."""

    list_display = ["consumer", "usage_model", "device_make", "device_model"]
    list_filter = ["usage_model"]
    search_fields = ["consumer__alias", "serial_number"]
    list_select_related = ["consumer"]
    fields = [
        "consumer",
        "usage_model",
        "personal_user",
        "device_make",
        "device_model",
        "serial_number",
    ]
    readonly_fields = fields
    actions = ["regenerate_sip_password", "rotate_provisioning_url"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # deleted with its consumer

    @admin.action(description="Generate a new SIP password (the device must be updated)")
    def regenerate_sip_password(self, request, queryset):  # type: ignore[no-untyped-def]
        for endpoint in queryset.select_related("consumer__company__partner"):
            services.endpoint_regenerate_sip_password(
                actor=request.user, consumer=endpoint.consumer
            )
        messages.success(request, "New SIP passwords generated.")

    @admin.action(description="Create a new provisioning URL (the old one stops working)")
    def rotate_provisioning_url(self, request, queryset):  # type: ignore[no-untyped-def]
        for endpoint in queryset.select_related("consumer__company__partner"):
            services.endpoint_rotate_provisioning(actor=request.user, consumer=endpoint.consumer)
        messages.success(request, "New provisioning URLs created.")
