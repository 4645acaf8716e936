from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import services
from .access import is_ops, second_factor_missing
from .models import (
    AuditEvent,
    Company,
    CompanyState,
    OutboxMessage,
    Partner,
    PartnerMembership,
)
from .web import add_service_errors


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


# --- how every app's admin writes: through the services -----------------------------------------


def adopt(obj: Model, saved: Model) -> None:
    """Admin goes on with the object its form built (the log entry, the redirect): make it the
    row the service created."""
    obj.pk = saved.pk
    obj.refresh_from_db()
    obj._state.adding = False


class ServiceAdmin(admin.ModelAdmin):
    """A model admin whose saves and deletes call the services (save_model, delete_model and
    delete_service below), which check the actor, validate and audit.

    A service's ValidationError is shown like a form error: the failed save is rolled back
    (Django admin runs it in a transaction) and the page is shown again with what was typed and
    the service's errors on the form; a refused delete or list edit is a message."""

    def delete_service(self, request: HttpRequest, obj: Any) -> None:
        raise NotImplementedError  # each admin that allows deleting names its service

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.delete_service(request, obj)

    def get_deleted_objects(self, objs, request):  # type: ignore[no-untyped-def]
        # The service decides who may delete, not the admin permissions of each row in the
        # cascade: the records that go with the object (addresses, call history, batches ...)
        # cannot be deleted on their own, and must not stop the delete that takes them along.
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Delete selected: each one through the service, each refusal a message."""
        for obj in queryset:
            run_or_message(self, request, lambda obj=obj: self.delete_service(request, obj))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):  # type: ignore[no-untyped-def]
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            # The service refused in save_model, after the form was valid: its transaction is
            # rolled back; the same POST again, with the refusal as the form's errors.
            request._service_errors = exc  # type: ignore[attr-defined]
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        form_class = super().get_form(request, obj, change, **kwargs)
        exc = getattr(request, "_service_errors", None)
        return form_class if exc is None else _with_service_errors(form_class, exc)

    def delete_view(self, request, object_id, extra_context=None):  # type: ignore[no-untyped-def]
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def changelist_view(self, request, extra_context=None):  # type: ignore[no-untyped-def]
        try:
            return super().changelist_view(request, extra_context)
        except ValidationError as exc:  # a list edit the service refused (rolled back)
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


def _with_service_errors(form_class: type[forms.BaseForm], exc: ValidationError) -> type:
    class WithServiceErrors(form_class):  # type: ignore[valid-type, misc]
        def clean(self):  # type: ignore[no-untyped-def]
            cleaned = super().clean()
            add_service_errors(self, exc)
            return cleaned

    return WithServiceErrors


def run_or_message(
    model_admin: admin.ModelAdmin, request: HttpRequest, call: Callable[[], object]
) -> bool:
    """One service call of an admin action: a refusal becomes an error message and the action
    goes on with the next object (each call is its own transaction)."""
    try:
        call()
    except ValidationError as exc:
        model_admin.message_user(request, " ".join(exc.messages), messages.ERROR)
        return False
    return True


class ReadOnly:
    """Admin pages (and inlines) that ops look at, never add to, change or delete from."""

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class RecordAdmin(ReadOnly, admin.ModelAdmin):
    """Records that only the services and jobs write: ops look, never add, change or delete."""


# --- partners and their staff -------------------------------------------------------------------


class MembershipInline(ReadOnly, admin.TabularInline):
    """Who is on the partner's staff. Staff are invited, and their roles changed, on the
    membership's own admin page (through the same services as the portal's Staff page)."""

    model = PartnerMembership
    extra = 0
    fields = ["user", "role", "public_id"]
    readonly_fields = fields
    show_change_link = True


@admin.register(Partner)
class PartnerAdmin(ServiceAdmin):
    list_display = ["name", "support_email", "company_count", "created_at"]
    search_fields = ["name", "support_email", "public_id"]
    readonly_fields = ["public_id", "created_at"]
    inlines = [MembershipInline]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).annotate(_companies=Count("companies"))

    @admin.display(ordering="_companies", description="Companies")
    def company_count(self, obj: Partner) -> int:
        return obj._companies  # type: ignore[attr-defined]

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # A tenant goes with its audit log and staff: not a click in admin (its companies
        # protect it anyway).
        return False

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        services.partner_save(actor=request.user, partner=obj)


class MembershipAddForm(forms.ModelForm):
    """A colleague is invited by email address, as on the portal's Staff page (member_invite:
    an account without a password and a link to choose one)."""

    email = forms.EmailField(label="Email address")

    class Meta:
        model = PartnerMembership
        fields = ["partner", "email", "role"]


@admin.register(PartnerMembership)
class PartnerMembershipAdmin(ServiceAdmin):
    list_display = ["user", "partner", "role", "created_at"]
    list_filter = ["role", "partner"]
    search_fields = ["user__email", "user__username", "partner__name"]
    list_select_related = ["user", "partner"]
    autocomplete_fields = ["partner"]
    actions = ["deactivate", "reactivate"]

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is None:
            return ["partner", "email", "role"]
        return ["user", "partner", "role", "public_id", "created_at"]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [] if obj is None else ["user", "partner", "public_id", "created_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        if obj is None:
            kwargs["form"] = MembershipAddForm
        return super().get_form(request, obj, change, **kwargs)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # staff are deactivated (audited), never deleted

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if change:
            if "role" in form.changed_data:
                # The stored membership: the form has already set the new role on `obj`.
                stored = PartnerMembership.objects.select_related("user", "partner").get(pk=obj.pk)
                services.member_change_role(actor=request.user, membership=stored, role=obj.role)
            return
        data = form.cleaned_data
        membership = services.member_invite(
            actor=request.user, partner=data["partner"], email=data["email"], role=data["role"]
        )
        if membership is None:
            raise ValidationError(
                {"email": "This address already has an account (another partner's or ops)."}
            )
        adopt(obj, membership)

    @admin.action(description="Deactivate the selected staff accounts")
    def deactivate(self, request, queryset):  # type: ignore[no-untyped-def]
        self._set_active(request, queryset, active=False)

    @admin.action(description="Reactivate the selected staff accounts")
    def reactivate(self, request, queryset):  # type: ignore[no-untyped-def]
        self._set_active(request, queryset, active=True)

    def _set_active(self, request, queryset, *, active: bool) -> None:  # type: ignore[no-untyped-def]
        for membership in queryset.select_related("user", "partner"):
            run_or_message(
                self,
                request,
                lambda m=membership: services.member_set_active(
                    actor=request.user, membership=m, active=active
                ),
            )


# --- companies ----------------------------------------------------------------------------------


class CompanyStateFilter(admin.SimpleListFilter):
    """Paid, Trial (Open), Trial (Closed): the `state_code` CompanyQuerySet.with_state derives."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):  # type: ignore[no-untyped-def]
        return CompanyState.choices

    def queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        if self.value() in CompanyState.values:
            return queryset.filter(state_code=self.value())
        return queryset


@admin.register(Company)
class CompanyAdmin(ServiceAdmin):
    list_display = [
        "name",
        "partner",
        "state_label",
        "evaluation_ends_on",
        "reference",
        "created_at",
    ]
    list_filter = [CompanyStateFilter, "partner", "evaluation_ends_on", "country"]
    search_fields = ["name", "reference", "contact_email", "contact_name", "slug", "public_id"]
    list_select_related = ["partner"]
    fields = [
        "partner",
        "name",
        "slug",
        "country",
        "reference",
        "contact_name",
        "contact_email",
        "evaluation_ends_on",
        "public_id",
        "created_at",
    ]
    autocomplete_fields = ["partner"]
    date_hierarchy = "created_at"
    actions = ["extend_evaluation"]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).with_state()

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # The slug names the company's service subdomain (made once, never typed in); the
        # partner owns everything in the company.
        return ["slug", "public_id", "created_at"] + (["partner"] if obj is not None else [])

    def get_changeform_initial_data(self, request):  # type: ignore[no-untyped-def]
        # What a new company gets unless ops change it: the trial every new company starts with.
        initial = super().get_changeform_initial_data(request)
        initial.setdefault(
            "evaluation_ends_on", services.new_company_evaluation_end(timezone.localdate())
        )
        return initial

    @admin.display(ordering="state_code", description="State")
    def state_label(self, obj: Company) -> str:
        return obj.get_state_display()

    def get_actions(self, request):  # type: ignore[no-untyped-def]
        # No "delete selected": a company goes with everything in it, one at a time, through
        # the service that audits it.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        data = form.cleaned_data
        fields = {name: data[name] for name in services.COMPANY_FIELDS if name in data}
        if not change:
            # The add page shows the trial every new company starts with
            # (get_changeform_initial_data): the end posted is ops' choice, blank for none.
            if "evaluation_ends_on" in form.data:
                fields["evaluation_ends_on"] = data["evaluation_ends_on"]
            adopt(obj, services.company_create(actor=request.user, partner=obj.partner, **fields))
            return
        services.company_update(actor=request.user, company=obj, **fields)
        if "evaluation_ends_on" in form.changed_data:
            services.company_set_evaluation(
                actor=request.user, company=obj, ends_on=data["evaluation_ends_on"]
            )

    def delete_service(self, request, obj):  # type: ignore[no-untyped-def]
        services.company_delete(actor=request.user, company=obj)

    @admin.action(description="Extend evaluation by 30 days (emails the company)")
    def extend_evaluation(self, request, queryset):  # type: ignore[no-untyped-def]
        done = 0
        for company in queryset.select_related("partner"):
            done += run_or_message(
                self,
                request,
                lambda c=company: services.company_extend_evaluation(actor=request.user, company=c),
            )
        if done:
            self.message_user(
                request, f"Evaluation extended for {done} compan{'y' if done == 1 else 'ies'}."
            )


@admin.register(AuditEvent)
class AuditEventAdmin(RecordAdmin):
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


# django-otp's own admin pages show every account's TOTP key and recovery codes in clear.
# Ops see who has which second factor here, without its secrets; a manager (or ops, through a
# colleague's manager) resets one from the Staff page.
for _device in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device):
        admin.site.unregister(_device)


@admin.register(TOTPDevice, StaticDevice)
class SecondFactorAdmin(RecordAdmin):
    """Read-only, deletes included: removing a second factor is the audited reset
    (services.member_2fa_reset), never an unaudited admin delete."""

    list_display = ["user", "name", "confirmed"]
    search_fields = ["user__username"]
    fields = ["user", "name", "confirmed"]
    readonly_fields = fields


@admin.register(OutboxMessage)
class OutboxMessageAdmin(RecordAdmin):
    """Every email and where it stands (portal.outbox). A message carrying a sign-in link shows
    no body: ops must not be able to use someone else's link."""

    list_display = ["created_at", "name", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", "name"]
    search_fields = ["about", "subject"]
    date_hierarchy = "created_at"

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        fields = [f.name for f in OutboxMessage._meta.fields]
        if obj is not None and obj.holds_secret:
            fields = [f for f in fields if f not in {"text", "html"}]
        return fields
