from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from consumers import services
from licensing.models import LicenceKind, License
from portal import services as portal_services
from portal.models import Company, Partner, PartnerMembership, Role
from project.demo import seed_living_demo

DEMO_PASSWORD = "demo-portal-2026"

PARTNERS = [
    {
        "name": "Northwind Video",
        "support_email": "support@northwind.example",
        "brand_color": "#1f4e79",
        "staff": [
            ("manager@northwind.example", Role.MANAGER),
            ("regular@northwind.example", Role.REGULAR),
            ("readonly@northwind.example", Role.READ_ONLY),
        ],
        "companies": [
            # (name, state, contact)
            ("Acme Paid Ltd", "paid", "it@acme.example"),
            ("Globex Trial", "trial_open", "admin@globex.example"),
            ("Initech Closed Trial", "trial_closed", "ops@initech.example"),
            ("Umbrella Paid Corp", "paid", "av@umbrella.example"),
        ],
    },
    {
        "name": "Southwind Resellers",
        "support_email": "help@southwind.example",
        "brand_color": "#7a2f1f",
        "staff": [("manager@southwind.example", Role.MANAGER)],
        "companies": [
            ("Hooli Paid", "paid", "it@hooli.example"),
            ("Pied Piper Trial", "trial_open", "richard@piedpiper.example"),
        ],
    },
]
OPS_LOGIN = "ops@video.example"


def seed_consumers(actor, company: Company) -> None:  # type: ignore[no-untyped-def]
    slug = company.slug.split("-")[0]
    for first, last in [("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing")]:
        services.user_invite(
            actor=actor,
            company=company,
            full_name=f"{first} {last}",
            email=f"{first.lower()}.{last.lower()}@{slug}.example",
            alias=f"{first}.{last}",
        )
    services.team_vmr_create(
        actor=actor, company=company, alias="all-hands", display_name="All hands", host_pin="2468"
    )
    services.team_vmr_create(
        actor=actor, company=company, alias="support-desk", display_name="Support desk"
    )
    services.endpoint_create(
        actor=actor,
        company=company,
        alias="boardroom-1",
        display_name="Boardroom 1",
        device_make="Cisco",
        device_model="Room Kit Pro",
    )


# Each paid demo company's licences: (kind, seats, reference).
DEMO_LICENCES = [
    (LicenceKind.ENTERPRISE_USER, 25, "DEMO-EU"),
    (LicenceKind.ROOM, 5, "DEMO-ROOM"),
]


def demo_login(email: str, **defaults: object) -> object:
    """The demo account (created with the demo password the first time)."""
    user, created = get_user_model().objects.get_or_create(
        username=email, defaults={"email": email, **defaults}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def seed_company(partner: Partner, ops: object, name: str, state: str, contact: str) -> None:
    today = timezone.localdate()
    evaluation = {
        "paid": None,
        "trial_open": portal_services.NEW_COMPANY_TRIAL,  # what every new company gets
        "trial_closed": today - timedelta(days=10),
    }[state]
    company = Company.objects.filter(partner=partner, name=name).first()
    if company is None:
        # Through the one service that creates companies, like the portal and Django admin.
        company = portal_services.company_create(
            actor=ops,
            partner=partner,
            name=name,
            contact_email=contact,
            evaluation_ends_on=evaluation,
        )
    if state == "paid" and not company.licences.exists():
        for kind, quantity, reference in DEMO_LICENCES:
            License.objects.create(
                company=company,
                kind=kind,
                quantity=quantity,
                starts_on=today - timedelta(days=30),
                ends_on=today + timedelta(days=335),
                reference=reference,
            )
    if not company.consumers.exists() and state != "trial_closed":
        seed_consumers(ops, company)


def seed_partner(spec: dict, ops: object) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    """The partner, its staff and its companies; returns the staff logins."""
    partner, _ = Partner.objects.get_or_create(
        name=spec["name"],
        defaults={"support_email": spec["support_email"], "brand_color": spec["brand_color"]},
    )
    logins = []
    for email, role in spec["staff"]:
        user = demo_login(email)
        PartnerMembership.objects.update_or_create(
            user=user, defaults={"partner": partner, "role": role}
        )
        logins.append((email, f"{partner.name}, {role.label.lower()}"))
    for name, state, contact in spec["companies"]:
        seed_company(partner, ops, name, state, contact)
    return logins


class Command(BaseCommand):
    help = (
        "Create demo partners, companies in every state, one login per role, dial-in numbers, "
        "call history and invitations at day 9, 29 and 59 (idempotent)."
    )

    @transaction.atomic
    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        ops = demo_login(OPS_LOGIN, is_staff=True, is_superuser=True)
        logins = [login for spec in PARTNERS for login in seed_partner(spec, ops)]
        seed_living_demo(ops)  # dial-in numbers, call history, invitations at day 9, 29, 59
        logins.append((OPS_LOGIN, "operations staff, Django admin at /admin/"))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, what in logins:
            self.stdout.write(f"  {email:32} {what}")
