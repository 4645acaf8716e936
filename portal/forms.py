from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import (
    AuthenticationForm,
    UsernameField,
    _unicode_ci_compare,
)
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm

from . import emails
from .models import Company, Role, account_is_invited


class CompanyForm(forms.ModelForm):
    class Meta:
        model = Company
        fields = ["name", "country", "reference", "contact_name", "contact_email"]
        labels = {"reference": "Your reference", "contact_email": "Contact email"}
        help_texts = {"contact_email": "Receives invitation summaries and DNS instructions."}


class CompanyDeleteForm(forms.Form):
    """Deleting a company takes everything in it, so its name is typed to confirm: checked here,
    on the server, whatever the page's script did (a forced POST without it deletes nothing)."""

    confirm_name = forms.CharField(max_length=300)

    def __init__(self, *args: Any, company: Company, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.company = company
        # Folded on both sides: a name saved before names were folded (or by a path that does
        # not fold) keeps double or trailing spaces nobody can see, let alone type.
        self.expected_name = " ".join(company.name.split())
        field = self.fields["confirm_name"]
        field.label = "Type the company's name to confirm"
        field.widget.attrs.update(
            {
                "autocomplete": "off",
                "autocapitalize": "off",
                "spellcheck": "false",
                "data-must-match": self.expected_name,
            }
        )

    def clean_confirm_name(self) -> str:
        # Names are stored with their white space folded (portal.services): so is what is typed.
        typed = " ".join(self.cleaned_data["confirm_name"].split())
        if typed != self.expected_name:
            raise forms.ValidationError(
                f"Type the company's name, {self.expected_name}, exactly as shown to delete it."
            )
        return typed


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


class PasswordResetForm(DjangoPasswordResetForm):
    """Django's, with one difference: a colleague invited to the staff who never chose a
    password gets the link too (Django skips accounts without a usable password), so that an
    expired or lost invitation is not a dead end. Any other account without one still gets
    nothing. The email is written to the outbox (portal.emails), not sent from the request."""

    def get_users(self, email: str) -> Iterator[Any]:
        accounts = get_user_model()._default_manager.filter(email__iexact=email, is_active=True)
        for user in accounts:
            # Django's check that the address matches without Unicode case-folding tricks.
            if (user.has_usable_password() or account_is_invited(user)) and _unicode_ci_compare(
                email, user.email
            ):
                yield user

    def send_mail(  # type: ignore[override]
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        """Through the outbox, like every email (the view names the same templates)."""
        emails.password_reset(to=to_email, context=context)


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=16,
        label="Code",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text="The 6-digit code from your authenticator app, or a recovery code.",
    )
