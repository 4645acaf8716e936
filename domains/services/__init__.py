"""Writes for calling domains, Microsoft 365 domains and interop configurations, one module per
entity; every public name is re-exported here (the stable interface names some of them)."""

from __future__ import annotations

from .calling_domains import (
    calling_domain_add,
    calling_domain_delete,
    calling_domain_dns_email_resend,
    validate_new_calling_domain,
)
from .claims import calling_domain_claims_expire
from .gate import calling_domain_for_address, company_default_domain, ensure_verified
from .interop import interop_configuration_create, interop_configuration_delete
from .microsoft365 import microsoft365_domain_add, microsoft365_domain_delete
from .verification import (
    auto_verification,
    calling_domain_request_check,
    calling_domain_verify,
    calling_domains_check_pending,
    check_interval,
    microsoft365_domain_mark_verified,
    microsoft365_domain_verify,
)

__all__ = [
    "auto_verification",
    "calling_domain_add",
    "calling_domain_claims_expire",
    "calling_domain_delete",
    "calling_domain_dns_email_resend",
    "calling_domain_for_address",
    "calling_domain_request_check",
    "calling_domain_verify",
    "calling_domains_check_pending",
    "check_interval",
    "company_default_domain",
    "ensure_verified",
    "interop_configuration_create",
    "interop_configuration_delete",
    "microsoft365_domain_add",
    "microsoft365_domain_delete",
    "microsoft365_domain_mark_verified",
    "microsoft365_domain_verify",
    "validate_new_calling_domain",
]
