from __future__ import annotations

from django import forms

from domains.selectors import usable_domains
from portal.models import Company

from .models import Consumer, ConsumerKind, UsageModel


class DomainChoiceMixin(forms.Form):
    domain = forms.ChoiceField(
        label="Domain", help_text="The part after the @. It cannot change later."
    )

    def __init__(self, *args, company: Company, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        names = [company.service_domain] + [
            d.name for d in usable_domains(company=company) if d.name != company.service_domain
        ]
        self.fields["domain"].choices = [(n, n) for n in names]
        self.fields["domain"].initial = company.service_domain
        self.company = company

    def service_kwargs(self) -> dict[str, object]:
        data = dict(self.cleaned_data)
        if data.get("domain") == self.company.service_domain:
            data["domain"] = None
        return data


ALIAS_HELP = (
    "Letters a–z, digits and . - _; starts with a letter; capitals become lower case. "
    "At least 6 characters on the service domain."
)


class UserInviteForm(DomainChoiceMixin):
    full_name = forms.CharField(max_length=200)
    email = forms.EmailField(help_text="The invitation goes to this address.")
    alias = forms.CharField(max_length=100, help_text=ALIAS_HELP)
    field_order = ["full_name", "email", "alias", "domain"]


class TeamVmrForm(DomainChoiceMixin):
    display_name = forms.CharField(max_length=200, label="Name")
    alias = forms.CharField(max_length=100, help_text=ALIAS_HELP)
    host_pin = forms.CharField(max_length=20, required=False, label="Host PIN")
    guest_pin = forms.CharField(max_length=20, required=False, label="Guest PIN")
    field_order = ["display_name", "alias", "domain", "host_pin", "guest_pin"]


class EndpointForm(DomainChoiceMixin):
    display_name = forms.CharField(max_length=200, label="Name")
    alias = forms.CharField(max_length=100, help_text=ALIAS_HELP)
    usage_model = forms.ChoiceField(
        choices=UsageModel.choices,
        initial=UsageModel.SHARED,
        help_text=(
            "Shared keeps anonymised call history; Personal removes history older than 3 months."
        ),
    )
    device_make = forms.CharField(max_length=100, required=False)
    device_model = forms.CharField(max_length=100, required=False)
    serial_number = forms.CharField(max_length=100, required=False)
    field_order = [
        "display_name",
        "alias",
        "domain",
        "usage_model",
        "device_make",
        "device_model",
        "serial_number",
    ]


class ConsumerEditForm(forms.Form):
    alias = forms.CharField(max_length=100, help_text=ALIAS_HELP)
    display_name = forms.CharField(max_length=200, required=False, label="Name")
    cost_centre = forms.CharField(max_length=100, required=False)
    description_tag = forms.CharField(max_length=100, required=False)

    def __init__(self, *args, consumer: Consumer, **kwargs):  # type: ignore[no-untyped-def]
        initial = {
            "alias": consumer.alias,
            "display_name": consumer.display_name,
            "cost_centre": consumer.cost_centre,
            "description_tag": consumer.description_tag,
        }
        if consumer.kind == ConsumerKind.TEAM_VMR:
            vmr = getattr(consumer, "team_vmr", None)
            initial |= {
                "host_pin": getattr(vmr, "host_pin", ""),
                "guest_pin": getattr(vmr, "guest_pin", ""),
            }
        if consumer.kind == ConsumerKind.ENDPOINT:
            ep = getattr(consumer, "endpoint", None)
            initial |= {
                n: getattr(ep, n, "") for n in ("device_make", "device_model", "serial_number")
            }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["alias"].help_text = f"@{consumer.domain} stays as it is. " + ALIAS_HELP
        if consumer.kind == ConsumerKind.TEAM_VMR:
            self.fields["host_pin"] = forms.CharField(
                max_length=20, required=False, label="Host PIN"
            )
            self.fields["guest_pin"] = forms.CharField(
                max_length=20, required=False, label="Guest PIN"
            )
        if consumer.kind == ConsumerKind.ENDPOINT:
            for name in ("device_make", "device_model", "serial_number"):
                self.fields[name] = forms.CharField(max_length=100, required=False)


class BulkInviteForm(forms.Form):
    file = forms.FileField(required=False, label="CSV file")
    text = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        label="Or paste the rows",
        help_text="One user per line: full name, email, alias, domain (optional). "
        "A header line is allowed.",
    )

    MAX_BYTES = 2 * 1024 * 1024

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload:
            if upload.size > self.MAX_BYTES:
                raise forms.ValidationError("The file is larger than 2 MB.")
            try:
                cleaned["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(
                    "The file is not UTF-8 text (save it as CSV UTF-8)."
                ) from None
        if not (cleaned.get("text") or "").strip():
            raise forms.ValidationError("Choose a CSV file or paste the rows.")
        return cleaned
