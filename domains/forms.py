from __future__ import annotations

from django import forms

from portal.models import Company

from .selectors import usable_domains


class CallingDomainForm(forms.Form):
    name = forms.CharField(
        max_length=300,
        label="Domain name",
        help_text="For example example.org. Internationalised names are accepted.",
    )


class Microsoft365DomainForm(forms.Form):
    name = forms.CharField(max_length=300, label="Microsoft 365 domain")


class InteropForm(forms.Form):
    name = forms.CharField(max_length=200)
    tenant_id = forms.CharField(max_length=64, label="Microsoft 365 tenant id")
    calling_domain = forms.ChoiceField(label="Calling domain")

    def __init__(self, *args, company: Company, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        names = [company.service_domain] + [
            d.name for d in usable_domains(company=company) if d.name != company.service_domain
        ]
        self.fields["calling_domain"].choices = [(n, n) for n in names]
