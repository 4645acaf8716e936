from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import services
from .access import is_ops, second_factor_missing
from .models import AuditEvent, Company, Partner, PartnerMembership


class OpsAdminSite(admin.AdminSite):
    """Django admin for the service's operations staff, behind the portal's own sign-in and
    second factor (the TOTP of portal.twofactor, as for partner staff; django-otp's
    OTPAdminSite would ask for a code at a login form but gives nowhere to enrol).

    project.urls makes `admin.site` one of these."""

    site_header = "Video service operations"
    site_title = "Operations"

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not second_factor_missing(request.user)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """The portal's sign-in page (django-axes throttling included), then its second-factor
        step, each coming back to the admin page asked for. A signed-in user who is not ops
        (partner staff) gets the admin's own "not authorised" page, as before."""
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse(
            "admin:index", current_app=self.name
        )
        if not request.user.is_authenticated:
            return redirect_to_login(next_url)
        if is_ops(request.user) and second_factor_missing(request.user):
            return redirect_to_login(next_url, login_url=reverse("two_factor"))
        return super().login(request, extra_context)


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


# django-otp's own admin pages show every account's TOTP key and recovery codes in clear.
# Ops see who has which second factor here, without its secrets; a manager (or ops, through a
# colleague's manager) resets one from the Staff page.
for _device in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device):
        admin.site.unregister(_device)


@admin.register(TOTPDevice, StaticDevice)
class SecondFactorAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "confirmed"]
    search_fields = ["user__username"]
    fields = ["user", "name", "confirmed"]
    readonly_fields = fields

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
