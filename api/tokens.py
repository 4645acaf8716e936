"""The API token secret format: `pp_` + 32 random base62 characters + a 6-character base62
CRC32 of those, like GitHub's tokens: a secret scanner recognises the prefix and checks the
checksum offline, so it reports a leaked token without false positives."""

from __future__ import annotations

import hashlib
import secrets
import zlib

PREFIX = "pp_"
RANDOM_LENGTH = 32  # 32 base62 characters: about 190 bits
CHECKSUM_LENGTH = 6
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SECRET_LENGTH = len(PREFIX) + RANDOM_LENGTH + CHECKSUM_LENGTH
HINT_LENGTH = len(PREFIX) + 6


def base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        digits.append(ALPHABET[rest])
    return "".join(reversed(digits))


def checksum(random_part: str) -> str:
    return base62(zlib.crc32(random_part.encode()), CHECKSUM_LENGTH)


def secret_new() -> str:
    random_part = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return f"{PREFIX}{random_part}{checksum(random_part)}"


def secret_well_formed(secret: str) -> bool:
    """The prefix, the length, the alphabet and the checksum are right (no database needed)."""
    if len(secret) != SECRET_LENGTH or not secret.startswith(PREFIX):
        return False
    body = secret[len(PREFIX) :]
    if any(c not in ALPHABET for c in body):
        return False
    return checksum(body[:RANDOM_LENGTH]) == body[RANDOM_LENGTH:]


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
