from __future__ import annotations

from django import forms

from portal.events import EVENT_TYPES

from .targets import URL_MAX_LENGTH

# What each event means, beside its checkbox.
EVENT_LABELS = {
    "company.created": "company.created: a company was added",
    "company.updated": "company.updated: a company's details changed",
    "consumer.created": "consumer.created: a user was invited, a team VMR or endpoint added",
    "consumer.deleted": "consumer.deleted: a consumer was deleted (by anyone, or the purge)",
    "consumer.activated": "consumer.activated: an inactive consumer was reactivated",
    "invitation.accepted": "invitation.accepted: an invited user accepted",
    "invitation.expired": "invitation.expired: an unanswered invitation was deleted at 60 days",
    "calling_domain.verified": "calling_domain.verified: a calling domain was verified",
    "batch.finished": "batch.finished: a batch delete or reactivation finished",
    "handout.ready": "handout.ready: a handout export can be downloaded",
    "licence.expiring": "licence.expiring: a company's evaluation ends soon",
}


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=URL_MAX_LENGTH,
        help_text="Where the events are POSTed: a public http:// or https:// address.",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/webhooks/portal"}),
    )
    events = forms.MultipleChoiceField(
        choices=[(event, EVENT_LABELS[event]) for event in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
    )
    enabled = forms.BooleanField(required=False, initial=True, help_text="Send events to this URL.")
