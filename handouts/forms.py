from __future__ import annotations

from django import forms

from .services import NOT_ACTIVE_CHOICES, SECTION_LABELS, SECTIONS


class HandoutForm(forms.Form):
    sections = forms.MultipleChoiceField(
        choices=[(s, SECTION_LABELS[s]) for s in SECTIONS],
        initial=list(SECTIONS),
        widget=forms.CheckboxSelectMultiple,
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
