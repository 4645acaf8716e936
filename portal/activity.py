"""The activity log in words: one function, `describe`, turns an AuditEvent into the sentence the
company's Activity tab and every detail page's timeline show ("manager@example.com invited a
user to acme.onpexip.com").

An event names its object by id only (the audit log holds no invitee's personal data), so the
words for the object come from the app that owns it, asked once per page for every id on it:
the consumers and domains apps sit above portal and register how they name their objects
(`subjects_register`, from their AppConfig.ready), the way licensing.holders works. An object
that is gone (deleted, or purged with the invitee's personal data) is named from what the event
itself kept (a domain, a team VMR's address), never from anything of the invitee's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode

from .models import AuditEvent, Company

# A detail page shows this many of its object's latest events; the rest are a link away (the
# Activity tab filtered to the object).
TIMELINE_LENGTH = 20

# What an event's object is called when the event alone has to say it (the object is gone).
CONSUMER_NOUNS = {"user": "user", "team_vmr": "team VMR", "endpoint": "endpoint"}
_INACTIVE_REASONS = {
    "trial_ended": "the evaluation ended",
    "licence_ended": "a licence ended",
}
_LICENCE_KINDS = {
    "enterprise_user": "Enterprise User",
    "enterprise_wide": "Enterprise Wide",
    "room": "Room",
}
_FIELD_NAMES = {
    "display_name": "name",
    "alias": "address",
    "cost_centre": "cost centre",
    "description_tag": "tag",
    "host_pin": "host PIN",
    "guest_pin": "guest PIN",
    "contact_email": "contact email",
    "contact_name": "contact name",
}


@dataclass(frozen=True)
class Subject:
    """An object as the activity log names it, with its page when it has one."""

    label: str
    url: str = ""


@dataclass(frozen=True)
class Sentence:
    """`<actor> <verb> [<noun>] <subject><detail>`; str() gives it as plain text. The subject is
    what links to the object's page (`url`), when it still has one."""

    actor: str
    verb: str
    subject: str = ""
    url: str = ""
    detail: str = ""
    noun: str = ""  # the kind of object before its name ("team VMR")

    def __str__(self) -> str:
        words = (self.actor, self.verb, self.noun, self.subject)
        return " ".join(word for word in words if word) + self.detail


@dataclass(frozen=True)
class Action:
    """One kind of event: its label in the filter (grouped), and the verb of its sentence.
    `detail` adds what the event's data says ("(day 10 reminder)")."""

    group: str
    label: str
    verb: str
    detail: Callable[[dict[str, Any]], str] = field(default=lambda data: "")
    actor_if_none: str = "The portal"  # the events of jobs, or a deleted staff account


def _fields(data: dict[str, Any]) -> str:
    names = [_FIELD_NAMES.get(f, str(f).replace("_", " ")) for f in data.get("fields") or []]
    return f" ({', '.join(names)})" if names else ""


def _reason(data: dict[str, Any]) -> str:
    reason = _INACTIVE_REASONS.get(str(data.get("reason", "")))
    return f" ({reason})" if reason else ""


def _trial(data: dict[str, Any]) -> str:
    return " as a trial" if data.get("trial") else ""


def _reminder(data: dict[str, Any]) -> str:
    day = data.get("day")
    return f" (automatic reminder, day {day})" if isinstance(day, int) else " (automatic reminder)"


def _count(noun: str) -> Callable[[dict[str, Any]], str]:
    def detail(data: dict[str, Any]) -> str:
        count = data.get("count")
        return f" ({count} {noun}{'' if count == 1 else 's'})" if isinstance(count, int) else ""

    return detail


def _evaluation(data: dict[str, Any]) -> str:
    ends = data.get("ends_on")
    return f" to end on {ends}" if ends else " to closed"


def _licence(data: dict[str, Any]) -> str:
    kind = _LICENCE_KINDS.get(str(data.get("kind")), "")
    if not kind:
        return ""
    quantity = data.get("quantity")
    size = f" × {quantity}" if isinstance(quantity, int) else ""
    period = f", {data['starts_on']} to {data['ends_on']}" if data.get("starts_on") else ""
    return f" ({kind}{size}{period})"


def _batch(data: dict[str, Any]) -> str:
    items, kind = data.get("items"), CONSUMER_NOUNS.get(str(data.get("kind")), "consumer")
    return f" of {items} {kind}{'' if items == 1 else 's'}" if isinstance(items, int) else ""


def _usage_model(data: dict[str, Any]) -> str:
    model = {"shared": "Shared", "personal": "Personal"}.get(str(data.get("usage_model")))
    return f" to {model}" if model else ""


def _consumer_actions() -> dict[str, Action]:
    actions: dict[str, Action] = {}
    for kind, noun in CONSUMER_NOUNS.items():
        group = f"{noun[0].upper()}{noun[1:]}s"
        title = f"{noun[0].upper()}{noun[1:]}"
        if kind != "user":
            actions[f"{kind}.create"] = Action(group, f"{title} added", "added", _trial)
        actions[f"{kind}.update"] = Action(group, f"{title} edited", "edited", _fields)
        actions[f"{kind}.deactivate"] = Action(
            group, f"{title} deactivated", "deactivated", _reason
        )
        actions[f"{kind}.activate"] = Action(group, f"{title} reactivated", "reactivated")
        actions[f"{kind}.delete"] = Action(group, f"{title} deleted", "deleted")
    return actions


ACTIONS: dict[str, Action] = {
    "user.invite": Action("Users", "User invited", "invited", _trial),
    "user.invitation_resend": Action("Users", "Invitation re-sent", "re-sent the invitation to"),
    "user.invitation_reminder": Action(
        "Users", "Invitation reminder sent", "re-sent the invitation to", _reminder
    ),
    "user.accept": Action(
        "Users", "Invitation accepted", "accepted the invitation to", actor_if_none="The invitee"
    ),
    "user.invitation_revoke": Action("Users", "Invitation revoked", "revoked the invitation to"),
    "user.invitation_purged": Action(
        "Users",
        "Unanswered invitation deleted",
        "deleted the unanswered invitation to",
        lambda data: " (no answer in 60 days)",
    ),
    **_consumer_actions(),
    "endpoint.usage_model": Action(
        "Endpoints", "Usage model changed", "changed the usage model of", _usage_model
    ),
    "endpoint.sip_password_regenerate": Action(
        "Endpoints", "SIP password regenerated", "regenerated the SIP password of"
    ),
    "endpoint.provisioning_rotate": Action(
        "Endpoints", "Provisioning URL rotated", "rotated the provisioning URL of"
    ),
    "batch.delete": Action("Batches", "Batch delete started", "started", _batch),
    "batch.reactivate": Action("Batches", "Batch reactivation started", "started", _batch),
    "calling_domain.add": Action("Calling domains", "Calling domain added", "added"),
    "calling_domain.verified": Action("Calling domains", "Calling domain verified", "verified"),
    "calling_domain.dns_email": Action(
        "Calling domains", "DNS email sent", "sent the DNS requirements email for"
    ),
    "calling_domain.delete": Action("Calling domains", "Calling domain deleted", "deleted"),
    "calling_domain.claim_expired": Action(
        "Calling domains",
        "Unverified claim expired",
        "removed the unverified claim on",
        lambda data: " (not verified within 30 days)",
    ),
    "microsoft365_domain.add": Action("Microsoft 365", "Microsoft 365 domain added", "added"),
    "microsoft365_domain.verified": Action(
        "Microsoft 365", "Microsoft 365 domain verified", "verified"
    ),
    "microsoft365_domain.delete": Action(
        "Microsoft 365", "Microsoft 365 domain deleted", "deleted"
    ),
    "interop.create": Action("Microsoft 365", "Interop configuration added", "added"),
    "interop.delete": Action("Microsoft 365", "Interop configuration deleted", "deleted"),
    "company.create": Action("Company", "Company created", "created"),
    "company.update": Action("Company", "Company edited", "edited", _fields),
    "company.evaluation": Action(
        "Company", "Evaluation changed", "set the evaluation of", _evaluation
    ),
    "company.trial_consumers_deactivated": Action(
        "Company",
        "Trials deactivated (evaluation ended)",
        "deactivated the trial consumers of",
        _count("consumer"),
    ),
    "company.over_capacity_deactivated": Action(
        "Company",
        "Consumers deactivated (licence ended)",
        "deactivated consumers beyond the licences of",
        _count("consumer"),
    ),
    "licence.create": Action("Licences", "Licence added", "added a licence to", _licence),
    "licence.update": Action("Licences", "Licence changed", "changed a licence of", _licence),
    "licence.delete": Action("Licences", "Licence deleted", "deleted a licence of", _licence),
}


def action_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The action filter's options: (group, [(code, label)]), in the order of ACTIONS."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for code, action in ACTIONS.items():
        groups.setdefault(action.group, []).append((code, action.label))
    return list(groups.items())


# --- naming the objects ---------------------------------------------------------------------------

# object type → (the company, its objects' ids on a page) → {id: Subject}, one query each.
SubjectResolver = Callable[[Company, list[str]], dict[str, Subject]]
# object type → (the company, a search) → ids of its objects that match (bounded).
SubjectSearch = Callable[[Company, str], list[str]]
_resolvers: dict[str, SubjectResolver] = {}
_searches: dict[str, SubjectSearch] = {}


def public_ids(ids: Iterable[str]) -> list[uuid.UUID]:
    """The events' object ids that are public ids (a resolver looks its objects up by them);
    others (an object of another kind, a damaged row) are skipped."""
    found = []
    for value in ids:
        try:
            found.append(uuid.UUID(value))
        except ValueError:
            continue
    return found


def subjects_register(
    object_type: str, *, resolve: SubjectResolver, search: SubjectSearch | None = None
) -> None:
    """How an app names its objects of `object_type` (AuditEvent.object_type) in the log."""
    _resolvers[object_type] = resolve
    if search is not None:
        _searches[object_type] = search


def subjects_for(company: Company, events: Iterable[AuditEvent]) -> dict[tuple[str, str], Subject]:
    """The objects of the events that still exist, named by their app: one query per type."""
    ids: dict[str, set[str]] = {}
    for event in events:
        if event.object_type in _resolvers:
            ids.setdefault(event.object_type, set()).add(event.object_id)
    found: dict[tuple[str, str], Subject] = {}
    for object_type, wanted in ids.items():
        named = _resolvers[object_type](company, sorted(wanted))
        found.update(((object_type, key), subject) for key, subject in named.items())
    return found


def subject_ids_matching(company: Company, query: str) -> list[str]:
    """Ids of the company's objects whose name matches a search (for the log's search box)."""
    return [key for search in _searches.values() for key in search(company, query)]


# What a bare verb ("added", "deleted") puts before an object's name.
OBJECT_NOUNS = {
    "callingdomain": "calling domain",
    "microsoft365domain": "Microsoft 365 domain",
    "interopconfiguration": "interop configuration",
    "company": "the company",
}


def _gone(event: AuditEvent) -> str:
    """The object, named from the event alone: what it kept (a name, a team VMR's address, a
    user's domain: never the user's address, which may be an invitee's name)."""
    data, kind = event.data or {}, event.action.partition(".")[0]
    if event.object_type == "consumer":
        noun = CONSUMER_NOUNS.get(kind, "consumer")
        if kind != "user" and data.get("address"):
            return str(data["address"])
        domain = data.get("domain")
        return f"a {noun} of {domain}" if domain else f"a {noun} (since deleted)"
    if data.get("name"):
        return str(data["name"])
    return {"batch": "a batch"}.get(event.object_type, "an object since deleted")


def _subject(
    event: AuditEvent, subjects: dict[tuple[str, str], Subject], company: Company | None
) -> Subject:
    if event.object_type in ("company", "license"):
        return Subject(company.name if company is not None else "the company")
    found = subjects.get((event.object_type, event.object_id))
    return found or Subject(_gone(event))


def _noun(event: AuditEvent) -> str:
    if event.object_type == "consumer":
        return CONSUMER_NOUNS.get(event.action.partition(".")[0], "consumer")
    return OBJECT_NOUNS.get(event.object_type, "")


def describe(
    event: AuditEvent,
    subjects: dict[tuple[str, str], Subject] | None = None,
    *,
    company: Company | None = None,
) -> Sentence:
    """The event as a sentence. `subjects` (subjects_for) names the objects that still exist;
    `company` names company events (the event's own, if not given)."""
    company = company or event.company
    action = ACTIONS.get(event.action)
    if event.actor is not None:
        actor = event.actor.email or event.actor.username
    else:
        actor = action.actor_if_none if action else "The portal"
    subject = _subject(event, subjects or {}, company)
    if action is None:  # an action this table does not know yet: its code's last word
        verb = event.action.rpartition(".")[2].replace("_", " ") or "changed"
        return Sentence(actor, verb, subject.label, subject.url)
    noun = _noun(event)
    # A bare verb names the kind of object first ("deleted team VMR room@…"), unless the name
    # already says it ("deleted a user of acme.onpexip.com").
    if " " in action.verb or subject.label.startswith(("a ", "an ", "the ")):
        noun = ""
    detail = action.detail(event.data or {})
    return Sentence(actor, action.verb, subject.label, subject.url, detail, noun)


@dataclass(frozen=True)
class Timeline:
    """An object's latest events as sentences (newest first), for its detail page."""

    rows: list[tuple[AuditEvent, Sentence]]
    more: bool  # older events were left off
    url: str  # the Activity tab filtered to the object


def timeline(
    *, company: Company, object_type: str, object_id: object, subject: Subject
) -> Timeline:
    """The object's history, in one query: its latest TIMELINE_LENGTH events."""
    events = list(
        AuditEvent.objects.filter(
            company=company, object_type=object_type, object_id=str(object_id)
        )
        .select_related("actor")
        .order_by("-created_at", "-id")[: TIMELINE_LENGTH + 1]
    )
    subjects = {(object_type, str(object_id)): subject}
    rows = [(event, describe(event, subjects, company=company)) for event in events]
    url = reverse("portal:company_activity", args=[company.public_id])
    return Timeline(
        rows[:TIMELINE_LENGTH],
        len(rows) > TIMELINE_LENGTH,
        f"{url}?{urlencode({'object': str(object_id)})}",
    )
