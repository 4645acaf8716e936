"""The one family of helpers that resolves everything through the signed-in user's partner.

An object of another partner is a 404, exactly like a missing one, so nothing leaks.
A role that may not do something gets a 403 (it already knows the object exists).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse

from .models import Company, Partner, PartnerMembership, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

View = Callable[..., HttpResponse]


def membership_of(user: AbstractBaseUser | AnonymousUser) -> PartnerMembership | None:
    if not user.is_authenticated or not user.is_active:
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
            if settings.TWO_FACTOR_REQUIRED and not request.user.is_verified():  # type: ignore[union-attr]
                return redirect_to_login(
                    request.get_full_path(),
                    login_url=reverse("two_factor"),
                )
            request.membership = membership  # type: ignore[attr-defined]
            request.partner = membership.partner  # type: ignore[attr-defined]
            if manager and membership.role != Role.MANAGER:
                raise PermissionDenied("Only managers can do this.")
            if write and not membership.can_write:
                raise PermissionDenied("Your role is read-only.")
            return view(request, *args, **kwargs)

        wrapper.partner_view = {"write": write, "manager": manager}  # type: ignore[attr-defined]
        return wrapper

    return decorator


def get_company(request: HttpRequest, public_id: Any) -> Company:
    return get_object_or_404(
        Company.objects.with_state(), partner=request.partner, public_id=public_id
    )


def get_member(request: HttpRequest, public_id: Any) -> PartnerMembership:
    return get_object_or_404(
        PartnerMembership.objects.select_related("user"),
        partner=request.partner,
        public_id=public_id,
    )


# --- the same rules for services, which may be called outside a request -----------------------


def _is_ops(actor: Any) -> bool:
    return bool(getattr(actor, "is_active", False) and getattr(actor, "is_staff", False))


def actor_role(actor: Any, partner: Partner) -> str | None:
    if _is_ops(actor):
        return Role.MANAGER
    membership = membership_of(actor) if actor is not None else None
    if membership is None or membership.partner_id != partner.pk:
        return None
    return membership.role


def ensure_can_write(actor: Any, partner: Partner) -> None:
    if actor_role(actor, partner) not in (Role.REGULAR, Role.MANAGER):
        raise PermissionDenied("You are not allowed to change this partner's data.")


def ensure_can_manage_staff(actor: Any, partner: Partner) -> None:
    if actor_role(actor, partner) != Role.MANAGER:
        raise PermissionDenied("Only managers can manage partner staff.")
