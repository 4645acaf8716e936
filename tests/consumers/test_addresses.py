"""Table-driven tests of the address rules (consumers.addresses.normalize_alias)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from consumers.addresses import normalize_alias

SHARED, HOSTED = False, True

VALID = [
    # (input, hosted_domain, expected)
    ("alice.smith", SHARED, "alice.smith"),
    ("Alice.Smith", SHARED, "alice.smith"),
    ("ALICE1", SHARED, "alice1"),
    ("  bobby.b  ", SHARED, "bobby.b"),
    ("\tcarol_x\n", SHARED, "carol_x"),
    ("dave-o", SHARED, "dave-o"),
    ("e.f-g_h", SHARED, "e.f-g_h"),
    ("abcdef", SHARED, "abcdef"),  # exactly 6 on a shared domain
    ("abcde", HOSTED, "abcde"),  # under 6 is fine on a hosted domain
    ("a", HOSTED, "a"),
    ("Ab", HOSTED, "ab"),
    ("x1", HOSTED, "x1"),
    ("z_", HOSTED, "z_"),
    ("room-101", SHARED, "room-101"),
    ("a" * 60, SHARED, "a" * 60),
    ("meeting.room.3", HOSTED, "meeting.room.3"),
    ("q-", HOSTED, "q-"),
    ("MiXeD.CaSe_9", SHARED, "mixed.case_9"),
]

INVALID = [
    # (input, hosted_domain, rule code)
    ("", SHARED, "required"),
    ("   ", HOSTED, "required"),
    ("abcde", SHARED, "min_length"),  # 5 on a shared domain
    ("ab", SHARED, "min_length"),
    ("  abc  ", SHARED, "min_length"),  # stripped before counting
    ("1alice", SHARED, "start"),
    ("9", HOSTED, "start"),
    (".alice", SHARED, "start"),
    ("-alice", SHARED, "start"),
    ("_alice", SHARED, "start"),
    ("alice smith", SHARED, "characters"),
    ("alice+tag", SHARED, "characters"),
    ("ali/ce", HOSTED, "characters"),
    ("alice@example.com", SHARED, "has_at"),
    ("josé.garcia", SHARED, "characters"),  # accented letter
    ("аlice", SHARED, "characters"),  # Cyrillic а (U+0430) look-alike
    ("alicе", SHARED, "characters"),  # Cyrillic е (U+0435) at the end
    ("\u212aelvin", SHARED, "characters"),  # Kelvin sign lower-cases to ASCII k: refused
    ("ﬁnance", SHARED, "characters"),  # ligature fi
    ("ａｌｉｃｅｘ", SHARED, "characters"),  # fullwidth letters
    ("alice\u200bsmith", SHARED, "characters"),  # zero-width space
    ("alice\u00a0smith", SHARED, "characters"),  # no-break space inside
    ("İstanbul", SHARED, "characters"),  # dotted capital I
    ("alice.", SHARED, "end_dot"),
    ("alice..smith", SHARED, "double_dot"),
    ("a" * 61, SHARED, "max_length"),
    ("a" * 61, HOSTED, "max_length"),
    ("o'brien", SHARED, "characters"),
    ("tab\there", HOSTED, "characters"),
]


@pytest.mark.parametrize(("value", "hosted", "expected"), VALID)
def test_valid_aliases_are_normalised(value, hosted, expected):
    assert normalize_alias(value, hosted_domain=hosted) == expected


@pytest.mark.parametrize(("value", "hosted", "code"), INVALID)
def test_invalid_aliases_name_the_rule(value, hosted, code):
    with pytest.raises(ValidationError) as info:
        normalize_alias(value, hosted_domain=hosted)
    assert info.value.code == code
    assert info.value.messages[0]  # a sentence a partner admin understands


def test_there_are_at_least_forty_cases():
    assert len(VALID) + len(INVALID) >= 40


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("abc", "at least 6 characters"),
        ("1abcdef", "must start with a letter"),
        ("ab cdef", "space"),
        ("abc+def", "'+'"),
        ("a" * 61, "at most 60"),
    ],
)
def test_messages_say_which_rule_failed(value, fragment):
    with pytest.raises(ValidationError) as info:
        normalize_alias(value, hosted_domain=False)
    assert fragment in info.value.messages[0]


def test_length_boundary_differs_by_domain_kind():
    assert normalize_alias("abcde", hosted_domain=True) == "abcde"
    with pytest.raises(ValidationError):
        normalize_alias("abcde", hosted_domain=False)
    assert normalize_alias("abcdef", hosted_domain=False) == "abcdef"
