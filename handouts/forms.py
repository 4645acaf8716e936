from __future__ import annotations

from django import forms

from .services import DEFAULT_SECTIONS, NOT_ACTIVE_CHOICES, SECTION_LABELS, SECTIONS


class HandoutForm(forms.Form):
    sections = forms.MultipleChoiceField(
        choices=[(s, SECTION_LABELS[s]) for s in SECTIONS],
        initial=list(DEFAULT_SECTIONS),
        widget=forms.CheckboxSelectMultiple,
        help_text="QR codes (one per shared endpoint) let people join by scanning. Every room "
        "is listed with its conference ID for callers on a phone line.",
    )
    not_active = forms.ChoiceField(
        choices=NOT_ACTIVE_CHOICES,
        initial="omit",
        widget=forms.RadioSelect,
        label="Invited and inactive consumers",
    )
    fmt = forms.ChoiceField(
        choices=[("pdf", "PDF"), ("html", "HTML")],
        initial="pdf",
        widget=forms.RadioSelect,
        label="Format",
    )
