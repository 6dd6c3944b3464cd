"""Signed values: kinds kept apart, bound to a field, expiring, and tamper-evident."""

from __future__ import annotations

import pytest
from django.test import override_settings

from s3_file_field.exceptions import InvalidSignedValue
from s3_file_field.values import (
    ANY_FIELD,
    UploadTicket,
    read_field_value,
    read_upload_ticket,
    sign_field_value,
    sign_upload_ticket,
)

TICKET = UploadTicket(
    field_id="test_app.Resource.blob",
    name="u/x.bin",
    file_name="x.bin",
    file_size=11,
    content_type="text/plain",
    upload_id="abc",
    part_size=5,
)

DAY = 24 * 3600


def test_round_trips():
    assert read_upload_ticket(sign_upload_ticket(TICKET), max_age=DAY) == TICKET
    value = read_field_value(sign_field_value("a.B.c", "k", 3), "a.B.c", max_age=DAY)
    assert (value.name, value.size) == ("k", 3)


def test_part_arithmetic():
    assert TICKET.plan.count == 3
    assert [TICKET.plan.size_of(n) for n in (1, 2, 3)] == [5, 5, 1]
    single = UploadTicket("a.B.c", "k", "k", 0, "x/y", None, 16)
    assert (single.plan.count, single.plan.size_of(1), single.plan.multipart) == (1, 0, False)


def test_kinds_do_not_mix():
    with pytest.raises(InvalidSignedValue, match="not valid"):
        read_upload_ticket(sign_field_value("a.B.c", "k", 3), max_age=DAY)
    with pytest.raises(InvalidSignedValue, match="not valid"):
        read_field_value(sign_upload_ticket(TICKET), TICKET.field_id, max_age=DAY)


def test_field_binding():
    value = sign_field_value("a.B.c", "k", 3)
    with pytest.raises(InvalidSignedValue, match="another field"):
        read_field_value(value, "a.B.d", max_age=DAY)
    anywhere = sign_field_value(ANY_FIELD, "k", 3)
    assert read_field_value(anywhere, "a.B.d", max_age=DAY).name == "k"


def test_expiry():
    signature = sign_upload_ticket(TICKET)
    value = sign_field_value("a.B.c", "k", 3)
    with pytest.raises(InvalidSignedValue, match="expired"):
        read_upload_ticket(signature, max_age=-1)
    with pytest.raises(InvalidSignedValue, match="expired"):
        read_field_value(value, "a.B.c", max_age=-1)


@override_settings(SECRET_KEY="another-secret")
def test_another_secret_key_is_refused():
    with pytest.raises(InvalidSignedValue):
        read_field_value(
            "eyJmIjoiYS5CLmMiLCJrIjoiayIsInMiOjN9:1vMGvq:placeholder-signature",
            "a.B.c",
            max_age=DAY,
        )


def test_values_are_opaque_to_mutation():
    signature = sign_upload_ticket(TICKET)
    for index in range(0, len(signature), max(1, len(signature) // 25)):
        flipped = (
            signature[:index] + ("A" if signature[index] != "A" else "B") + signature[index + 1 :]
        )
        with pytest.raises(InvalidSignedValue):
            read_upload_ticket(flipped, max_age=DAY)
