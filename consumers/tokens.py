"""Link tokens (invitations, endpoint provisioning).

The link carries a token derived from a random per-invitation nonce with SECRET_KEY (HMAC), so
that every re-send carries the same link while the database alone holds no usable token: it
stores the nonce and a SHA-256 hash of the token for lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings


def new_nonce() -> str:
    return secrets.token_hex(16)


def token_for(nonce: str, purpose: str = "invitation") -> str:
    """The link token for a nonce; `purpose` keeps invitation and provisioning tokens apart."""
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{purpose}:{nonce}".encode(), hashlib.sha256
    ).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def matches(nonce: str, token: str, purpose: str = "invitation") -> bool:
    """Constant-time comparison of a presented token with the one the nonce derives."""
    return hmac.compare_digest(token_for(nonce, purpose), token)
