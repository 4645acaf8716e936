"""Sign-in backend: Django's ModelBackend, loading the user's partner membership with the user.

Every portal page needs the membership and its partner (portal.access.membership_of); fetching
them in the query that loads the signed-in user saves one query on every page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class PortalModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        user = (
            user_model._default_manager.select_related("membership__partner")
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None
