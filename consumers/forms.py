from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from domains.selectors import usable_domains
from portal.display import unicode_domain
from portal.models import Company
from portal.web import has_control_characters

from . import selectors
from .csv_input import CsvText, csv_decode
from .models import BatchAction, Consumer, ConsumerKind, UsageModel
from .services.batch import parse_address_list


class DomainChoiceMixin(forms.Form):
    domain = forms.ChoiceField(
        label="Domain", help_text="The part after the @. It cannot change later."
    )

    def __init__(self, *args, company: Company, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        names = [company.service_domain] + [
            d.name for d in usable_domains(company=company) if d.name != company.service_domain
        ]
        self.fields["domain"].choices = [(n, unicode_domain(n)) for n in names]
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
    file = forms.FileField(
        required=False,
        label="CSV file",
        help_text="As Excel saves it: CSV UTF-8, CSV (Windows-1252) or Unicode text (UTF-16); "
        "separated by commas or semicolons.",
    )
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
        cleaned["encoding"] = ""  # pasted text has none
        if upload:
            decoded = _upload_text(upload, max_bytes=self.MAX_BYTES)
            cleaned["text"], cleaned["encoding"] = decoded.text, decoded.encoding
        if not (cleaned.get("text") or "").strip():
            raise forms.ValidationError("Choose a CSV file or paste the rows.")
        return cleaned


def _upload_text(upload: object, *, max_bytes: int) -> CsvText:
    """An uploaded CSV file's text and the encoding it was read in (consumers.csv_input: the
    encodings Excel saves); a file that cannot be read is a form error."""
    content = upload.read(max_bytes + 1)  # type: ignore[attr-defined]
    if len(content) > max_bytes:
        raise forms.ValidationError(f"The file is larger than {max_bytes // 2**20} MB.")
    try:
        decoded = csv_decode(content)
    except ValidationError as exc:
        raise forms.ValidationError(exc.messages) from None
    if "\x00" in decoded.text:  # NUL characters, even in a valid encoding: not CSV text
        raise forms.ValidationError("The file is not a text file: it holds NUL characters.")
    return decoded


class UsageModelForm(forms.Form):
    USER_CHOICES = 500  # a longer list is no use in a drop-down

    usage_model = forms.ChoiceField(choices=UsageModel.choices, widget=forms.RadioSelect)
    personal_user = forms.ChoiceField(required=False, label="Twinned user")
    confirmed = forms.BooleanField(
        required=False,
        label="I understand that call history older than 3 months is removed now and cannot "
        "be recovered by switching back to Shared.",
    )

    def __init__(self, *args, company: Company, current: str = UsageModel.SHARED, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.company = company
        if current == UsageModel.PERSONAL:
            # Already Personal: nothing is removed by saving it, so nothing to confirm (the
            # service asks for the confirmation only when switching to Personal).
            del self.fields["confirmed"]
        users = selectors.company_users(company=company)[: self.USER_CHOICES]
        self.fields["personal_user"].choices = [("", "—")] + [
            (str(u.public_id), f"{u.display_name} <{u.address}>") for u in users
        ]

    def clean_personal_user(self) -> Consumer | None:
        """The chosen user (one of the listed users of this company), or None."""
        public_id = self.cleaned_data["personal_user"]
        if not public_id:
            return None
        return selectors.company_users(company=self.company).filter(public_id=public_id).first()


class BatchForm(forms.Form):
    """Where a batch's consumers come from: rows ticked on a list page (source=selection, ids),
    "all matching the filter" (source=selection, all_matching=1, q/status/pending), or a pasted
    or uploaded list of addresses (source=list, text or file)."""

    MAX_BYTES = 5 * 1024 * 1024

    action = forms.ChoiceField(choices=BatchAction.choices, widget=forms.RadioSelect)
    file = forms.FileField(required=False, label="CSV file of addresses")
    text = forms.CharField(
        required=False,
        label="Or paste addresses",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text="One address per line (or a CSV whose first column is the address).",
    )

    def clean(self):  # type: ignore[no-untyped-def]
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload:
            cleaned["text"] = _upload_text(upload, max_bytes=self.MAX_BYTES).text
        return cleaned

    def selection(self) -> dict[str, object]:
        """The batch_preview keyword naming the selection."""
        data = self.data
        if data.get("source") != "selection":
            return {"addresses": parse_address_list(self.cleaned_data.get("text") or "")}
        if data.get("all_matching") == "1":
            matching = {k: data.get(k, "") for k in ("q", "status", "pending")}
            if has_control_characters(str(matching["q"])):
                # A list page ignores such a search; a batch must not widen to everything.
                raise forms.ValidationError("The search has characters that cannot be searched.")
            return {"matching": matching}
        return {"consumer_ids": data.getlist("ids")}  # type: ignore[attr-defined]
