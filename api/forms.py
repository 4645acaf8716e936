from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

from .models import Scope
from .services import TOKEN_NAME_MAX

# What "Expires" offers: days from now ("" never).
EXPIRY_CHOICES = [
    ("30", "In 30 days"),
    ("90", "In 90 days"),
    ("365", "In a year"),
    ("", "Never"),
]


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=TOKEN_NAME_MAX,
        help_text="What uses it, e.g. “Billing sync” or “Provisioning script”.",
    )
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        initial=[Scope.READ],
        widget=forms.CheckboxSelectMultiple,
        help_text="Read: lists and details. Write: create, change and delete, as your role allows.",
    )
    expires_in = forms.ChoiceField(
        choices=EXPIRY_CHOICES, initial="90", required=False, label="Expires"
    )

    def expires_at(self) -> datetime | None:
        days = self.cleaned_data.get("expires_in")
        return timezone.now() + timedelta(days=int(days)) if days else None
