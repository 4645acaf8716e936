"""A consumer's page (a user or team VMR; an endpoint's is its settings page, which shows the
same details and history): its addresses, status, seat, cost centre and tag, the invitation
schedule of a pending user, and its history from the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from portal import activity
from portal.access import get_company, partner_view

from . import selectors
from .activity import consumer_subject
from .models import Consumer, ConsumerKind, ConsumerStatus, Invitation
from .views import KINDS


@dataclass(frozen=True)
class InvitationSchedule:
    """A pending invitation's dates, from the rule functions on Invitation."""

    invitation: Invitation
    next_resend_at: datetime | None  # None: no more re-sends (or paused while inactive)
    purge_at: datetime | None
    resend_overdue: bool  # the job should have re-sent it already
    purge_overdue: bool


def _related(consumer: Consumer, name: str) -> object | None:
    try:
        return getattr(consumer, name)
    except ObjectDoesNotExist:
        return None


def invitation_schedule(consumer: Consumer, now: datetime) -> InvitationSchedule | None:
    invitation = _related(consumer, "invitation")
    if not isinstance(invitation, Invitation) or invitation.accepted_at is not None:
        return None
    # Re-sends go to invited users only (an inactive one waits); the purge does not wait.
    resend = invitation.next_resend_at() if consumer.status == ConsumerStatus.INVITED else None
    purge = invitation.purge_at()
    return InvitationSchedule(
        invitation,
        resend,
        purge,
        resend is not None and resend <= now,
        purge is not None and purge <= now,
    )


@partner_view()
def consumer_detail(request: HttpRequest, company_id: str, consumer_id: str) -> HttpResponse:
    company = get_company(request, company_id)
    consumer = selectors.consumer_detail(company=company, public_id=consumer_id)
    if consumer.kind == ConsumerKind.ENDPOINT:  # an endpoint's page is its settings page
        return redirect(
            "consumers:endpoint_detail", company_id=company.public_id, consumer_id=consumer_id
        )
    consumer.company = company  # the page's company: no second lookup
    context = {
        "company": company,
        "consumer": consumer,
        "kind_page": KINDS[consumer.kind],
        "tab": KINDS[consumer.kind].tab,
        "schedule": invitation_schedule(consumer, timezone.now()),
        "invitation": _related(consumer, "invitation"),
        "team_vmr": _related(consumer, "team_vmr"),
        "timeline": activity.timeline(
            company=company,
            object_type="consumer",
            object_id=consumer.public_id,
            subject=consumer_subject(consumer),
        ),
    }
    return render(request, "consumers/consumer_detail.html", context)
