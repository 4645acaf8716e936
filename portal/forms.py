from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UsernameField

from .models import Company, Role


class CompanyForm(forms.ModelForm):
    class Meta:
        model = Company
        fields = ["name", "country", "reference", "contact_name", "contact_email"]
        labels = {"reference": "Your reference", "contact_email": "Contact email"}
        help_texts = {"contact_email": "Receives invitation summaries and DNS instructions."}


class MemberInviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.REGULAR)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class EmailAuthenticationForm(AuthenticationForm):
    """Partner staff sign in with their email address (it is their username)."""

    username = UsernameField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=16,
        label="Code",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text="The 6-digit code from your authenticator app, or a recovery code.",
    )
