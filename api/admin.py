"""Ops in Django admin: API tokens (look, and revoke through the service, audited) and the
Idempotency-Key records (look only)."""

from __future__ import annotations

from django.contrib import admin, messages

from portal.admin import RecordAdmin, run_or_message

from . import services
from .models import ApiToken, IdempotencyRecord


@admin.register(ApiToken)
class ApiTokenAdmin(RecordAdmin):
    list_display = ["name", "hint", "partner", "created_by", "scopes", "status", "last_used_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "hint", "public_id", "partner__name", "created_by__user__email"]
    list_select_related = ["partner", "created_by__user"]
    # The secret's hash stays out of admin: it is of no use to anyone looking.
    fields = [
        "public_id",
        "partner",
        "created_by",
        "name",
        "scopes",
        "hint",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = fields
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):  # type: ignore[no-untyped-def]
        revoked = 0
        for token in queryset.select_related("partner").filter(revoked_at__isnull=True):
            revoked += run_or_message(
                self,
                request,
                lambda t=token: services.api_token_revoke(actor=request.user, token=t),
            )
        self.message_user(request, f"{revoked} token(s) revoked.", messages.SUCCESS)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(RecordAdmin):
    list_display = ["key", "method", "path", "status_code", "token", "created_at"]
    search_fields = ["key", "path"]
    list_select_related = ["token"]
    exclude = ["body"]
