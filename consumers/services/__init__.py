"""Writes for consumers (Users, Team VMRs, Endpoints), one module per concern; every public name
is re-exported here (the stable interface names some of them).

- creation: user_invite, team_vmr_create, endpoint_create
- editing: consumer_update
- activation: consumer(s)_activate, consumer_deactivate (and what reactivation needs)
- deletion: consumer(s)_delete, set-based
- invitations: the invitation lifecycle (send, re-sends, accept, revoke, the 60-day purge)
- endpoints: provisioning, SIP password, usage model
- ingest, retention: call records in and out
- batch, bulk: the batch tool and the CSV invite, through the services above

Every service checks the actor's role in the company's partner (portal.access), validates its
input before writing, takes the company's row lock where licence seats are involved, writes an
AuditEvent (ids only: an invitee's name and email never reach the audit log), and queues its
tasks once the transaction commits.
"""

from __future__ import annotations

from .activation import consumer_activate, consumer_deactivate, consumers_activate
from .creation import endpoint_create, team_vmr_create, user_invite
from .deletion import consumer_delete, consumers_delete
from .editing import consumer_update
from .endpoints import (
    endpoint_regenerate_sip_password,
    endpoint_rotate_provisioning,
    endpoint_set_usage_model,
)
from .invitations import (
    invitation_accept,
    invitation_resend,
    invitation_revoke,
    invitations_purge,
)

__all__ = [
    "consumer_activate",
    "consumer_deactivate",
    "consumer_delete",
    "consumer_update",
    "consumers_activate",
    "consumers_delete",
    "endpoint_create",
    "endpoint_regenerate_sip_password",
    "endpoint_rotate_provisioning",
    "endpoint_set_usage_model",
    "invitation_accept",
    "invitation_resend",
    "invitation_revoke",
    "invitations_purge",
    "team_vmr_create",
    "user_invite",
]
