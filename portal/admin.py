from __future__ import annotations

from django.contrib import admin

from . import services
from .models import AuditEvent, Company, Partner, PartnerMembership


class MembershipInline(admin.TabularInline):
    model = PartnerMembership
    extra = 0
    raw_id_fields = ["user"]
    fields = ["user", "role", "public_id"]
    readonly_fields = ["public_id"]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "support_email", "company_count", "created_at"]
    search_fields = ["name", "support_email", "public_id"]
    readonly_fields = ["public_id", "created_at"]
    inlines = [MembershipInline]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        from django.db.models import Count

        return super().get_queryset(request).annotate(_companies=Count("companies"))

    @admin.display(ordering="_companies", description="Companies")
    def company_count(self, obj: Partner) -> int:
        return obj._companies  # type: ignore[attr-defined]


@admin.register(PartnerMembership)
class PartnerMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "partner", "role", "created_at"]
    list_filter = ["role", "partner"]
    search_fields = ["user__email", "user__username", "partner__name"]
    list_select_related = ["user", "partner"]
    raw_id_fields = ["user"]
    readonly_fields = ["public_id", "created_at"]


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "partner",
        "state_label",
        "evaluation_ends_on",
        "reference",
        "created_at",
    ]
    list_filter = ["partner", "evaluation_ends_on", "country"]
    search_fields = ["name", "reference", "contact_email", "contact_name", "slug", "public_id"]
    list_select_related = ["partner"]
    readonly_fields = ["public_id", "created_at"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).with_state()

    @admin.display(ordering="state_code", description="State")
    def state_label(self, obj: Company) -> str:
        return obj.get_state_display()

    def get_actions(self, request):  # type: ignore[no-untyped-def]
        # No "delete selected": a company goes with everything in it, one at a time, through
        # the service that audits it.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        services.company_delete(actor=request.user, company=obj)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "action",
        "object_type",
        "object_id",
        "actor",
        "partner",
        "company",
    ]
    list_filter = ["action", "object_type", "partner"]
    search_fields = ["object_id", "action", "actor__email"]
    list_select_related = ["actor", "partner", "company"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
