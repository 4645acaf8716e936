from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from licensing.models import License, LicenseKind
from portal.models import Company, Partner, PartnerMembership, Role

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
    from consumers import services

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


class Command(BaseCommand):
    help = "Create demo partners, companies in every state and one login per role (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        User = get_user_model()
        today = timezone.localdate()
        logins: list[tuple[str, str]] = []
        ops, created = User.objects.get_or_create(
            username=OPS_LOGIN,
            defaults={"email": OPS_LOGIN, "is_staff": True, "is_superuser": True},
        )
        if created:
            ops.set_password(DEMO_PASSWORD)
            ops.save()
        for spec in PARTNERS:
            partner, _ = Partner.objects.get_or_create(
                name=spec["name"],
                defaults={
                    "support_email": spec["support_email"],
                    "brand_color": spec["brand_color"],
                },
            )
            for email, role in spec["staff"]:
                user, created = User.objects.get_or_create(
                    username=email, defaults={"email": email}
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                PartnerMembership.objects.update_or_create(
                    user=user, defaults={"partner": partner, "role": role}
                )
                logins.append((email, f"{partner.name}, {role.label.lower()}"))
            for name, state, contact in spec["companies"]:
                evaluation = {
                    "paid": None,
                    "trial_open": today + timedelta(days=30),
                    "trial_closed": today - timedelta(days=10),
                }[state]
                company, created = Company.objects.get_or_create(
                    partner=partner,
                    name=name,
                    defaults={"contact_email": contact, "evaluation_ends_on": evaluation},
                )
                if state == "paid" and not company.licences.exists():
                    License.objects.create(
                        company=company,
                        kind=LicenseKind.ENTERPRISE_USER,
                        quantity=25,
                        starts_on=today - timedelta(days=30),
                        ends_on=today + timedelta(days=335),
                        reference="DEMO-EU",
                    )
                    License.objects.create(
                        company=company,
                        kind=LicenseKind.ROOM,
                        quantity=5,
                        starts_on=today - timedelta(days=30),
                        ends_on=today + timedelta(days=335),
                        reference="DEMO-ROOM",
                    )
                if not company.consumers.exists() and state != "trial_closed":
                    seed_consumers(ops, company)
        logins.append((OPS_LOGIN, "operations staff, Django admin at /admin/"))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, what in logins:
            self.stdout.write(f"  {email:32} {what}")
