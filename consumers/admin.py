from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from portal.admin import RecordAdmin, ServiceAdmin

from . import services
from .addresses import normalize_alias_for
from .models import (
    Address,
    BatchItem,
    BatchJob,
    CallRecord,
    Consumer,
    EndpointSettings,
    Invitation,
    TeamVmrSettings,
)


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
class ConsumerAdmin(ServiceAdmin):
    form = ConsumerAdminForm
    list_display = [
        "alias",
        "domain",
        "kind",
        "conference_id",
        "status",
        "is_trial",
        "company",
        "created_at",
    ]
    list_filter = ["kind", "status", "is_trial", "company__partner"]
    search_fields = ["alias", "domain", "display_name", "public_id", "company__name"]
    list_select_related = ["company"]
    readonly_fields = [
        "public_id",
        "kind",
        "domain",
        "company",
        "calling_domain",
        "conference_id",
        "status",
        "inactive_reason",
        "is_trial",
        "created_at",
    ]
    show_full_result_count = False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # consumers are added by partners through the portal's rules

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        services.consumer_update(actor=request.user, consumer=obj, **form.cleaned_data)

    def delete_service(self, request, obj):  # type: ignore[no-untyped-def]
        services.consumer_delete(actor=request.user, consumer=obj)

    def get_actions(self, request):  # type: ignore[no-untyped-def]
        # No "delete selected": it would delete without the service's audit; the portal's
        # batch tool deletes many through it.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


# Rows of a consumer that only the portal's services write (and delete, with the consumer): ops
# look. The address reservations, invitations (re-sent and purged by the jobs), Team VMR PINs
# (changed through the consumer's edit: consumer_update checks them) and endpoint settings.


@admin.register(Address)
class AddressAdmin(RecordAdmin):
    list_display = ["address", "purpose", "consumer"]
    list_filter = ["purpose"]
    search_fields = ["address"]
    list_select_related = ["consumer"]


@admin.register(Invitation)
class InvitationAdmin(RecordAdmin):
    list_display = ["consumer", "sent_at", "first_reminder_at", "second_reminder_at", "accepted_at"]
    list_filter = ["accepted_at", "sent_at"]
    search_fields = ["email", "consumer__alias"]
    list_select_related = ["consumer"]
    exclude = ["token_nonce", "token_hash"]


@admin.register(TeamVmrSettings)
class TeamVmrSettingsAdmin(RecordAdmin):
    list_display = ["consumer"]
    search_fields = ["consumer__alias"]
    list_select_related = ["consumer"]


@admin.register(EndpointSettings)
class EndpointSettingsAdmin(RecordAdmin):
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


# --- what the jobs leave: ops follow them, the jobs (and their recovery) change them -----------


@admin.register(BatchJob)
class BatchJobAdmin(RecordAdmin):
    list_display = [
        "public_id",
        "company",
        "kind",
        "action",
        "status",
        "total",
        "processed",
        "succeeded",
        "failed",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "action", "kind"]
    search_fields = ["public_id", "company__name"]
    list_select_related = ["company", "created_by"]
    readonly_fields = ["public_id", "created_at", "items"]
    show_full_result_count = False

    @admin.display(description="Items")
    def items(self, obj: BatchJob) -> str:
        url = reverse("admin:consumers_batchitem_changelist") + f"?batch__id__exact={obj.pk}"
        return format_html('<a href="{}">{} items, one per address</a>', url, obj.total)


@admin.register(BatchItem)
class BatchItemAdmin(RecordAdmin):
    """A batch's items, filtered by batch from its page (the link "Items")."""

    list_display = ["batch", "position", "label", "will_run", "outcome", "message"]
    list_filter = ["outcome", "will_run"]
    search_fields = ["label", "batch__public_id"]
    list_select_related = ["batch"]
    # Along the (batch, position) unique index, never a sort of the whole table.
    ordering = ["batch_id", "position"]
    show_full_result_count = False


@admin.register(CallRecord)
class CallRecordAdmin(RecordAdmin):
    """Endpoint call history as ingested (and anonymised or removed by the retention job)."""

    list_display = ["consumer", "started_at", "duration_seconds", "direction", "anonymized_at"]
    list_filter = ["direction", ("anonymized_at", admin.EmptyFieldListFilter)]
    search_fields = ["consumer__alias", "call_id"]
    list_select_related = ["consumer"]
    show_full_result_count = False
