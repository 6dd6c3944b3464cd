"""Generated requests to every endpoint: nothing a client sends yields a 5xx, and every 4xx
says what is wrong in a JSON body. 1,200 examples per endpoint, 6,000 requests in all."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3_file_field.checksums import ALGORITHMS
from s3_file_field.values import UploadTicket, sign_field_value, sign_upload_ticket

from .test_hostile_requests import ENDPOINTS

pytestmark = pytest.mark.once

EXAMPLES_PER_ENDPOINT = 1_200
FIELDS = [
    "test_app.Resource.blob",
    "test_app.LimitedResource.image",
    "test_app.LimitedResource.document",
    "test_app.MinioResource.blob",
]
MiB = 1024 * 1024

# Mostly values of the wrong kind or at the edges; `st.from_regex` etc. add odd strings.
odd_strings = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=0, max_size=300),
    st.sampled_from(["", " ", "..", "../../x", "/etc/passwd", "a\x00b", "\u202e", "x" * 5000]),
    st.binary(max_size=30).map(lambda b: b.decode("latin-1")),
)
odd_numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, -1, 2**63, 5 * 1024**4, 5 * 1024**4 + 1, 10_000, 10_001]),
)
json_scalars = st.one_of(st.none(), st.booleans(), odd_numbers, odd_strings)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(odd_strings, children, max_size=4)
    ),
    max_leaves=12,
)


def ticket(**overrides: Any) -> UploadTicket:
    values: dict[str, Any] = {
        "field_id": "test_app.Resource.blob",
        "name": "00000000-0000-4000-8000-000000000000/fuzz.bin",
        "file_name": "fuzz.bin",
        "file_size": 12 * MiB,
        "content_type": "application/octet-stream",
        "upload_id": "fuzz-upload-id",
        "part_size": 5 * MiB,
    }
    values.update(overrides)
    return UploadTicket(**values)


VALID_SIGNATURES = [
    sign_upload_ticket(ticket()),
    sign_upload_ticket(ticket(upload_id=None, file_size=10)),
    sign_upload_ticket(ticket(field_id="test_app.Nope.blob")),
]


def mutated(signature: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(signature),
        st.integers(0, len(signature) - 1).map(lambda i: signature[:i]),
        st.tuples(st.integers(0, len(signature) - 1), st.characters(codec="ascii")).map(
            lambda t: signature[: t[0]] + t[1] + signature[t[0] + 1 :]
        ),
        st.just(sign_field_value("test_app.Resource.blob", "a/b", 1)),
    )


signatures = st.one_of(json_values, st.sampled_from(VALID_SIGNATURES).flatmap(mutated))
receipts = st.lists(
    st.fixed_dictionaries(
        {"part_number": st.one_of(st.integers(-2, 10_002), json_scalars), "etag": json_values},
        optional={"checksum": st.one_of(st.just("AAAAAA=="), json_values)},
    ),
    max_size=5,
)


checksums = st.lists(
    st.fixed_dictionaries(
        {"part_number": st.one_of(st.integers(-1, 4), json_scalars)},
        optional={
            "content_md5": st.one_of(st.just("1B2M2Y8AsgTpgAmY7PhCfg=="), json_values),
            "checksum": st.one_of(st.just("AAAAAA=="), json_values),
        },
    ),
    max_size=4,
)
algorithm_names = st.sampled_from([*ALGORITHMS, "crc"])


def body_for(endpoint: str) -> st.SearchStrategy[Any]:
    maybe = lambda strategy: st.one_of(strategy, json_values)  # noqa: E731
    if endpoint == "upload-prepare":
        fields = {
            "field_id": maybe(st.sampled_from(FIELDS)),
            "file_name": maybe(odd_strings),
            "file_size": maybe(st.integers(-1, 6 * 1024**4)),
            "content_type": maybe(
                st.sampled_from(["image/png", "application/pdf", "text/plain", "x"])
            ),
            "checksum": maybe(st.one_of(algorithm_names, st.none())),
            "checksum_algorithms": maybe(
                st.lists(st.one_of(algorithm_names, json_values), max_size=8)
            ),
            "part_checksums": st.one_of(st.just([]), checksums),
        }
    else:
        fields = {
            "upload_signature": signatures,
            "part_numbers": st.one_of(
                st.lists(st.integers(1, 3), min_size=1, max_size=3),
                st.lists(st.integers(-1, 10_002), max_size=5),
                json_values,
            ),
            "parts": maybe(receipts),
            "part_checksums": st.one_of(st.just([]), checksums),
        }
    structured = st.fixed_dictionaries({}, optional=fields)
    return st.one_of(structured, well_formed(endpoint), json_values)


def well_formed(endpoint: str) -> st.SearchStrategy[Any]:
    """Bodies of the right shape with plain values: whatever order and seed the run gets, a
    share of the requests reaches past validation."""
    if endpoint == "upload-prepare":
        return st.fixed_dictionaries(
            {
                "field_id": st.sampled_from(FIELDS[:1]),
                "file_name": st.text(alphabet="abcxyz._-0123", min_size=1, max_size=20),
                "file_size": st.integers(0, 10**7),
            },
            optional={"content_type": st.sampled_from(["text/plain", "application/pdf"])},
        )
    return st.fixed_dictionaries(
        {"upload_signature": st.sampled_from(VALID_SIGNATURES[:2])},
        optional={"part_numbers": st.lists(st.integers(1, 3), min_size=1, max_size=3)},
    )


def check(response: Any) -> None:
    assert response.status_code < 500, response.content[:500]
    if response.status_code == 204:
        return
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    if response.status_code >= 400:
        assert body, "an error without a message"


@pytest.mark.parametrize(
    "endpoint",
    ["upload-prepare", "upload-parts", "upload-status", "upload-finalize", "upload-abort"],
)
# Prepares of large files would start real multipart uploads: keep every file single-part.
@override_settings(S3FF_PART_SIZE=5 * 1024**4)
def test_no_request_yields_a_server_error(api_client, endpoint):
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=EXAMPLES_PER_ENDPOINT,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(body=body_for(endpoint))
    def run(body: Any) -> None:
        response = api_client.post(f"/api/s3-upload/{endpoint}/", body, format="json")
        statuses[response.status_code] += 1
        check(response)

    run()
    # The generator reaches past validation too (2xx), not only into refusals.
    assert sum(statuses.values()) == EXAMPLES_PER_ENDPOINT
    assert statuses[400] > 0
    if endpoint in ("upload-prepare", "upload-parts", "upload-abort"):
        assert statuses[200] + statuses[204] > 0, statuses


@given(raw=st.binary(max_size=200))
@settings(max_examples=300, deadline=None, derandomize=True)
def test_raw_bodies(raw):
    from rest_framework.test import APIClient

    response = APIClient().post(
        "/api/s3-upload/upload-prepare/", raw, content_type="application/json"
    )
    check(response)


def nested_text(depth: int, opener: str, inner: str) -> str:
    closer = {"[": "]", '{"a":': "}"}[opener]
    return opener * depth + inner + closer * depth


# Bodies built as text, since json.dumps cannot write what they hold: nesting past Python's
# recursion limit, and lists far past every bound of the protocol.
hostile_values = st.one_of(
    st.builds(nested_text, st.integers(1, 5_000), st.sampled_from(["[", '{"a":']), st.just("0")),
    st.builds(
        lambda item, count: "[" + ",".join([item] * count) + "]",
        st.sampled_from(["0", "1", '"x"', "1.0", '{"part_number": 1, "etag": "e"}', "[]"]),
        st.integers(0, 30_000),
    ),
)
hostile_keys = st.sampled_from(
    [
        "part_numbers",
        "parts",
        "part_checksums",
        "checksum_algorithms",
        "file_size",
        "file_name",
        "upload_signature",
        "x",
    ]
)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@given(data=st.data())
@settings(max_examples=100, deadline=None, derandomize=True)
def test_deep_and_huge_bodies(endpoint, data):
    from rest_framework.test import APIClient

    value = data.draw(hostile_values)
    keys = data.draw(st.lists(hostile_keys, min_size=0, max_size=2, unique=True))
    signature = json.dumps(VALID_SIGNATURES[0])
    members = [f'"upload_signature": {signature}'] + [f'"{key}": {value}' for key in keys]
    body = "{" + ", ".join(members) + "}" if keys else value
    response = APIClient().post(
        f"/api/s3-upload/{endpoint}/", body, content_type="application/json"
    )
    check(response)
    # An error names what is wrong once, not once per item.
    assert len(response.content) < 2_000, response.content[:300]
