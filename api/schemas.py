"""The API's shared schemas: what a consumer, a calling domain, a batch, an export ... read as,
and the bodies that create them. Output fields come from the models and the apps' own
functions (`domains.records.required_records`, `consumers.provisioning.has_qr_code`): a value
the portal shows is worked out here by the same function, never again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Field, Schema

from consumers.models import BatchItem, CallRecord
from domains.models import CallingDomain, InteropConfiguration
from domains.records import required_records
from handouts.models import HandoutExport

ConsumerKindName = Literal["user", "team_vmr", "endpoint"]
ConsumerStatusName = Literal["invited", "active", "inactive"]
UsageModelName = Literal["shared", "personal"]
DomainStatusName = Literal["pending", "verified"]

# Input lengths as the portal's forms allow them: longer is a 422, never a database error.
Alias = Annotated[str, Field(max_length=100)]
Name = Annotated[str, Field(max_length=200)]
DeviceText = Annotated[str, Field(max_length=100)]
DomainName = Annotated[str, Field(max_length=300)]


class PublicIdOut(Schema):
    # What every resource reads as first: its `id`, the model's public id (never the pk).
    id: UUID

    @staticmethod
    def resolve_id(obj: Any) -> UUID:
        return obj.public_id


# --- consumers -----------------------------------------------------------------------------


class ConsumerOut(PublicIdOut):
    kind: ConsumerKindName
    alias: str
    domain: str
    address: str
    status: ConsumerStatusName
    inactive_reason: str = Field(
        description="Why an inactive consumer is inactive (trial_ended, licence_ended, "
        "deactivated); empty otherwise."
    )
    is_trial: bool
    display_name: str
    conference_id: int | None = Field(
        description="What a phone caller enters after dialling in (rooms only)."
    )
    created_at: datetime


class UserIn(Schema):
    kind: Literal["user"]
    email: Annotated[str, Field(max_length=254)]
    full_name: Name
    alias: Alias
    domain: DomainName | None = Field(
        None,
        description="One of the company's verified calling domains; none: its service subdomain.",
    )


class TeamVmrIn(Schema):
    kind: Literal["team_vmr"]
    alias: Alias
    display_name: Name
    domain: DomainName | None = None
    host_pin: Annotated[str, Field(max_length=20)] = ""
    guest_pin: Annotated[str, Field(max_length=20)] = ""


class EndpointIn(Schema):
    kind: Literal["endpoint"]
    alias: Alias
    display_name: Name
    domain: DomainName | None = None
    usage_model: UsageModelName = "shared"
    device_make: DeviceText = ""
    device_model: DeviceText = ""
    serial_number: DeviceText = ""


ConsumerIn = Annotated[UserIn | TeamVmrIn | EndpointIn, Field(discriminator="kind")]


# --- calling domains, Microsoft 365 domains, interop ---------------------------------------


class TxtRecordOut(Schema):
    name: str
    value: str


class DnsRecordOut(Schema):
    type: Literal["TXT", "SRV"]
    name: str
    value: str
    purpose: str


class CallingDomainOut(PublicIdOut):
    name: str
    status: DomainStatusName
    verification_method: (
        Literal["service_domain", "microsoft365", "parent_domain", "dns_txt"] | None
    )
    verification_token: str
    txt_record: TxtRecordOut | None = Field(
        description="The TXT record that proves ownership, while it is to be published "
        "(pending, not a subdomain of the service domain); null otherwise."
    )
    records: list[DnsRecordOut] = Field(
        description="Every DNS record the customer publishes for this domain."
    )
    verified_at: datetime | None
    last_checked_at: datetime | None
    last_error: str
    claim_expires_at: datetime | None = Field(
        description="When an unverified claim is removed; null once verified."
    )
    created_at: datetime

    @staticmethod
    def resolve_txt_record(obj: CallingDomain) -> dict[str, str] | None:
        txt = [r for r in required_records(obj) if r.rtype == "TXT"]
        return {"name": txt[0].name, "value": txt[0].value} if txt else None

    @staticmethod
    def resolve_records(obj: CallingDomain) -> list[dict[str, str]]:
        return [
            {"type": r.rtype, "name": r.name, "value": r.value, "purpose": r.purpose}
            for r in required_records(obj)
        ]


class DomainNameIn(Schema):
    name: DomainName


class Microsoft365DomainOut(PublicIdOut):
    name: str
    status: DomainStatusName
    verification_token: str
    verified_by_ops: bool
    verified_at: datetime | None
    last_checked_at: datetime | None
    last_error: str
    created_at: datetime


class InteropOut(PublicIdOut):
    kind: str
    name: str
    tenant_id: UUID
    calling_domain: str
    created_at: datetime

    @staticmethod
    def resolve_calling_domain(obj: InteropConfiguration) -> str:
        return obj.calling_domain.name


class InteropIn(Schema):
    name: Name
    tenant_id: Annotated[str, Field(max_length=64, description="The Microsoft 365 tenant id.")]
    calling_domain: DomainName = Field(
        description="One of the company's verified calling domains (or its service subdomain)."
    )


# --- endpoints -------------------------------------------------------------------------------


class UsageModelIn(Schema):
    usage_model: UsageModelName
    personal_user: UUID | None = Field(
        None, description="Personal: the id of the company's user the endpoint is twinned to."
    )
    confirmed: bool = Field(
        False,
        description="Switching to Personal removes call history older than 3 months: confirm it.",
    )


class EndpointSettingsOut(Schema):
    usage_model: UsageModelName
    personal_user: UUID | None
    device_make: str
    device_model: str
    serial_number: str
    has_qr_code: bool


class SipOut(Schema):
    proxy: str
    port: int
    transport: str
    username: str
    password: str
    domain: str


class DeviceOut(Schema):
    make: str
    model: str
    serial: str


class DeviceConfigurationOut(Schema):
    """What the endpoint's page shows and its configuration download holds."""

    display_name: str
    address: str
    sip: SipOut
    device: DeviceOut
    usage_model: UsageModelName
    provisioning_url: str
    qr_link: str | None = Field(description="The join link the QR code encodes (shared only).")


class CallRecordOut(Schema):
    id: int
    started_at: datetime
    duration_seconds: int
    direction: Literal["in", "out"]
    remote_address: str
    remote_display_name: str
    remote_ip: str | None
    anonymised: bool

    @staticmethod
    def resolve_anonymised(obj: CallRecord) -> bool:
        return obj.anonymized_at is not None


# --- batches -----------------------------------------------------------------------------------


class BatchMatchingIn(Schema):
    q: Annotated[str, Field(max_length=200)] = ""
    status: ConsumerStatusName | Literal[""] = ""


class BatchIn(Schema):
    """Exactly one selection: `addresses` (or `text`, one address per line, as pasted in the
    portal), `consumer_ids`, or `matching` (every consumer the list filter finds)."""

    action: Literal["delete", "reactivate"]
    kind: ConsumerKindName
    addresses: list[Annotated[str, Field(max_length=320)]] | None = Field(None, max_length=50_000)
    text: Annotated[str, Field(max_length=5 * 1024 * 1024)] | None = None
    consumer_ids: list[UUID] | None = Field(None, max_length=50_000)
    matching: BatchMatchingIn | None = None


class BatchSummaryOut(Schema):
    will: int
    wont: int
    failed: int


class BatchOut(PublicIdOut):
    kind: ConsumerKindName
    action: Literal["delete", "reactivate"]
    status: Literal["preview", "queued", "running", "done", "cancelled"]
    total: int
    processed: int
    succeeded: int
    failed: int
    percent: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class BatchDetailOut(BatchOut):
    summary: BatchSummaryOut


class BatchItemOut(Schema):
    position: int
    address: str
    will_run: bool
    outcome: Literal["pending", "skipped", "succeeded", "failed"]
    message: str

    @staticmethod
    def resolve_address(obj: BatchItem) -> str:
        return obj.label


# --- handouts ----------------------------------------------------------------------------------

HandoutSection = Literal["endpoints", "qr_codes", "users", "team_vmrs", "dial_in"]


class HandoutIn(Schema):
    format: Literal["pdf", "html"] = "pdf"
    sections: list[HandoutSection] | None = Field(
        None, description="The sections, in the handout's order; none: all but the QR codes."
    )
    not_active: Literal["omit", "mark"] = "omit"


class HandoutExportOut(PublicIdOut):
    format: Literal["pdf", "html"]
    status: Literal["queued", "running", "done", "failed"]
    error: str
    created_at: datetime
    finished_at: datetime | None
    download_url: str | None = Field(description="Where the file is, once it is done.")
    parts_total: int = Field(
        description="A large PDF is rendered in sections on several workers: how many (0: whole)."
    )
    parts_done: int = Field(description="How many of those sections are rendered so far.")

    @staticmethod
    def resolve_format(obj: HandoutExport) -> str:
        return obj.fmt

    @staticmethod
    def resolve_download_url(obj: HandoutExport, context: dict) -> str | None:  # type: ignore[type-arg]
        if obj.status != "done" or not obj.file:
            return None
        return context["request"].build_absolute_uri(
            f"/api/v1/handout-exports/{obj.public_id}/download"
        )


# --- problems (RFC 9457) -------------------------------------------------------------------


class ProblemOut(Schema):
    """An error (`application/problem+json`)."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: dict[str, list[str]] | None = Field(
        None, description="Each field's messages; `__all__` for the request as a whole."
    )
