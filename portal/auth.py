"""Sign-in: Django's ModelBackend with the address compared in any case, loading the user's
partner membership with the user.

Every portal page needs the membership and its partner (portal.access.membership_of); fetching
them in the query that loads the signed-in user saves one query on every page.

Partner staff sign in with their email address, which is their username. Addresses compare in
any case: a unique index on LOWER(username) (migration portal 0004) makes that one account at
most, and `account_with_address` is the lookup it serves."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import QuerySet, Value
from django.db.models.functions import Lower
from django.http import HttpRequest


def account_with_address(address: str) -> QuerySet[Any]:
    """The account whose username is `address` in any case (a queryset of one row at most).
    Compared as LOWER(username) = LOWER(address), the expression the unique index is on."""
    return (
        get_user_model()
        ._default_manager.alias(username_lower=Lower("username"))
        .filter(username_lower=Lower(Value(address.strip())))
    )


class PortalModelBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is not None:
            # Django's check (password, active account, the same time for an unknown one),
            # with the username as stored.
            stored = account_with_address(username).values_list("username", flat=True).first()
            username = stored or username
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        user = (
            user_model._default_manager.select_related("membership__partner")
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """The address django-axes counts failures for (AXES_USERNAME_CALLABLE): lower-cased, so
    that trying other cases of one address does not buy more guesses."""
    field = getattr(settings, "AXES_USERNAME_FORM_FIELD", "username")
    source = credentials or getattr(request, "POST", None) or {}
    username = source.get(field)
    return username.strip().lower() if isinstance(username, str) else username
