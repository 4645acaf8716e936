"""The one family of helpers that resolves everything through the signed-in user's partner.

An object of another partner is a 404, exactly like a missing one, so nothing leaks.
A role that may not do something gets a 403 (it already knows the object exists).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeAlias

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse

from .models import WRITE_ROLES, Company, Partner, PartnerMembership, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

View = Callable[..., HttpResponse]
# Who does something: a signed-in user (partner staff or ops), or None for the system (jobs).
Actor: TypeAlias = "AbstractBaseUser | AnonymousUser | None"


def membership_of(user: Actor) -> PartnerMembership | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    # The signed-in user comes with its membership and partner (portal.auth); any other user
    # costs one query for both, remembered for the rest of the request.
    if not hasattr(user, "_portal_membership"):
        if get_user_model().membership.is_cached(user):  # type: ignore[attr-defined]
            membership = getattr(user, "membership", None)
        else:
            membership = (
                PartnerMembership.objects.select_related("partner").filter(user=user).first()
            )
        user._portal_membership = membership  # type: ignore[union-attr]
    return user._portal_membership  # type: ignore[union-attr]


def second_factor_missing(user: Actor) -> bool:
    """Two-factor sign-in is required (TWO_FACTOR_REQUIRED) and this session has not passed
    the second factor yet: for partner staff (partner_view) and ops in Django admin alike."""
    verified = getattr(user, "is_verified", None)
    return bool(settings.TWO_FACTOR_REQUIRED) and not (verified is not None and verified())


def partner_view(*, write: bool = False, manager: bool = False) -> Callable[[View], View]:
    """Require a signed-in partner member; sets request.membership and request.partner.

    `write`: a view that changes data (its form page included) needs a regular or manager
    role; read-only members get 403. `manager`: every method needs a manager.
    Users without a partner (ops staff included) get 404: the portal is for partner staff.
    """

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = membership_of(request.user)
            if membership is None:
                raise Http404("No partner")
            if second_factor_missing(request.user):
                return redirect_to_login(
                    request.get_full_path(),
                    login_url=reverse("two_factor"),
                )
            request.membership = membership  # type: ignore[attr-defined]
            request.partner = membership.partner  # type: ignore[attr-defined]
            if manager and not membership.can_manage_staff:
                raise PermissionDenied("Only managers can do this.")
            if write and not membership.can_write:
                raise PermissionDenied("Your role is read-only.")
            return view(request, *args, **kwargs)

        wrapper.partner_view = {"write": write, "manager": manager}  # type: ignore[attr-defined]
        return wrapper

    return decorator


def get_company(request: HttpRequest, public_id: Any, *, with_state: bool = True) -> Company:
    """The signed-in partner's company, or 404 (another partner's is missing alike);
    `with_state=False` for a caller that never reads `company.state` (it costs a subquery)."""
    companies = Company.objects.with_state() if with_state else Company.objects.all()
    return get_object_or_404(companies, partner=request.partner, public_id=public_id)


def get_member(request: HttpRequest, public_id: Any) -> PartnerMembership:
    return get_object_or_404(
        PartnerMembership.objects.select_related("user"),
        partner=request.partner,
        public_id=public_id,
    )


# --- the same rules for services, which may be called outside a request -----------------------
# Every service starts with one of the ensure_* checks below, so that a path that forgets the
# view's decorator (a task, Django admin, the API) still refuses what the role does not allow.


def is_ops(actor: Actor) -> bool:
    """The service's operations staff: an active staff account (a deactivated one is nobody)."""
    return bool(getattr(actor, "is_active", False) and getattr(actor, "is_staff", False))


def actor_role(actor: Actor, partner: Partner) -> str | None:
    """The actor's role in the partner: ops act as managers of every partner; None for anyone
    without a membership there (another partner's staff, a deactivated account, the system)."""
    if is_ops(actor):
        return Role.MANAGER
    membership = membership_of(actor) if actor is not None else None
    if membership is None or membership.partner_id != partner.pk:
        return None
    return membership.role


def ensure_can_read(actor: Actor, partner: Partner) -> None:
    if actor_role(actor, partner) is None:
        raise PermissionDenied("You are not allowed to see this partner's data.")


def ensure_can_write(actor: Actor, partner: Partner) -> None:
    if actor_role(actor, partner) not in WRITE_ROLES:
        raise PermissionDenied("You are not allowed to change this partner's data.")


def ensure_can_manage_staff(actor: Actor, partner: Partner) -> None:
    if actor_role(actor, partner) != Role.MANAGER:
        raise PermissionDenied("Only managers can manage partner staff.")


def ensure_is_ops(actor: Actor, action: str) -> None:
    """`action` completes "Only the service's operations staff can …"."""
    if not is_ops(actor):
        raise PermissionDenied(f"Only the service's operations staff can {action}.")
