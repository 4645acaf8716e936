"""The any_of lookup: the same rows as __in, for every kind of value it is given."""

from __future__ import annotations

import uuid

import pytest

from consumers.models import Address, Consumer


@pytest.fixture
def rooms(make):
    return make.team_vmrs(4)


def test_integers(rooms):
    wanted = [rooms[0].pk, rooms[2].pk, 10**12]
    assert set(Consumer.objects.filter(pk__any_of=wanted)) == {rooms[0], rooms[2]}
    assert list(Consumer.objects.filter(pk__any_of=[])) == []


def test_uuids_given_as_text_or_uuid(rooms):
    wanted = [str(rooms[1].public_id), rooms[3].public_id, uuid.uuid4()]
    assert set(Consumer.objects.filter(public_id__any_of=wanted)) == {rooms[1], rooms[3]}


def test_text_with_quotes_and_commas(rooms):
    wanted = [rooms[0].address, "o'brien,{x}@example.com", 'a"b@example.com']
    assert [a.consumer for a in Address.objects.filter(address__any_of=wanted)] == [rooms[0]]


def test_excluding_and_combining(rooms):
    kept = Consumer.objects.exclude(pk__any_of=[rooms[0].pk]).filter(
        public_id__any_of={r.public_id for r in rooms[:2]}
    )
    assert list(kept) == [rooms[1]]
