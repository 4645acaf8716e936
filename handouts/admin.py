from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from portal.admin import RecordAdmin, ServiceAdmin

from .dial_in import dial_in_number_delete, dial_in_number_parse, dial_in_number_save
from .models import DialInNumber, HandoutExport


class DialInNumberForm(forms.ModelForm):
    """The number as typed (international, or national for the chosen country), read by
    dial_in_number_parse: the form shows its refusal beside the field."""

    number = forms.CharField(
        max_length=40,
        help_text="With its country code (+44 20 7946 0000), or as dialled in the country.",
    )

    class Meta:
        model = DialInNumber
        fields = ["country", "label", "number", "sort_order", "is_active"]

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["number"] = self.instance.international

    def clean_number(self):  # type: ignore[no-untyped-def]
        country = str(self.cleaned_data.get("country") or "")
        try:
            return dial_in_number_parse(self.cleaned_data["number"], country=country)
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["number"]) from None


@admin.register(DialInNumber)
class DialInNumberAdmin(ServiceAdmin):
    form = DialInNumberForm
    list_display = ["country", "label", "international", "sort_order", "is_active"]
    list_filter = ["is_active", "country"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["label", "number"]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        dial_in_number_save(actor=request.user, number=obj)

    def delete_service(self, request, obj):  # type: ignore[no-untyped-def]
        dial_in_number_delete(actor=request.user, number=obj)


@admin.register(HandoutExport)
class HandoutExportAdmin(RecordAdmin):
    """Handouts generated in the background: ops follow them; the export task (and the
    recovery job) change them."""

    list_display = ["company", "fmt", "status", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "fmt"]
    search_fields = ["company__name", "public_id"]
    list_select_related = ["company", "created_by"]
    readonly_fields = ["public_id", "created_at"]
