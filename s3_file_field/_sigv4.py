"""AWS Signature Version 4 for presigned query-string URLs, as botocore makes them.

Both backends presign with this: the minio SDK signs only the `host` header, and botocore spends
milliseconds per URL resolving the endpoint again; this signs `Content-Length`, the single PUT's
headers and a part's checksum, so that the store itself refuses other bytes, in microseconds.
The algorithm is the S3 API reference's ("Authenticating Requests: Using Query Parameters");
the URL is byte for byte the one botocore would make (tests/test_sigv4.py holds it to that).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import SplitResult, parse_qsl, quote, urlunsplit

ALGORITHM = "AWS4-HMAC-SHA256"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def uri_encode(value: str, safe: str = "") -> str:
    """S3's URI encoding: every byte but the unreserved characters (and `safe`) as %XY."""
    return quote(value, safe="-_.~" + safe)


@lru_cache(maxsize=64)
def _signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret_key}".encode()
    for message in (date, region, service, "aws4_request"):
        key = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return key


def utc_now() -> datetime:
    """The signing time (a function of its own, for the tests to hold still)."""
    return datetime.now(UTC)


def _signed_host(url: SplitResult) -> str:
    """The `host` header a client sends to `url`: lower case, without a default port."""
    host = (url.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    if url.port is not None and url.port != _DEFAULT_PORTS.get(url.scheme):
        host = f"{host}:{url.port}"
    return host


def presign_url(
    *,
    method: str,
    url: SplitResult,
    headers: dict[str, str],
    access_key: str,
    secret_key: str,
    session_token: str | None,
    region: str,
    expires: int,
    now: datetime | None = None,
    service: str = "s3",
) -> str:
    """Return `url` with the query parameters that authorise one request.

    `url.path` must already be URI-encoded as S3 expects (every byte but unreserved characters
    and `/`); `url.query` holds the operation's own parameters, which go first, in their order;
    `headers` are the headers, besides `host`, that the request must carry unchanged.
    """
    moment = (now or utc_now()).astimezone(UTC)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    scope = f"{date}/{region}/{service}/aws4_request"

    signed = {
        "host": _signed_host(url),
        # SigV4's "trimall", as botocore does it: every run of whitespace one space.
        **{name.lower(): " ".join(value.split()) for name, value in headers.items()},
    }
    signed_names = ";".join(sorted(signed))
    parameters = parse_qsl(url.query, keep_blank_values=True)
    parameters += [
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{access_key}/{scope}"),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", signed_names),
    ]
    if session_token:
        parameters.append(("X-Amz-Security-Token", session_token))
    encoded = [(uri_encode(name), uri_encode(value)) for name, value in parameters]
    canonical_query = "&".join(f"{name}={value}" for name, value in sorted(encoded))
    canonical_headers = "".join(f"{name}:{signed[name]}\n" for name in sorted(signed))
    canonical_request = "\n".join(
        [
            method,
            url.path or "/",
            canonical_query,
            canonical_headers,
            signed_names,
            "UNSIGNED-PAYLOAD",
        ]
    )
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    signature = hmac.new(
        _signing_key(secret_key, date, region, service), string_to_sign.encode(), hashlib.sha256
    ).hexdigest()
    # In the order botocore sends them: the operation's, then the signature's own.
    query = "&".join(f"{name}={value}" for name, value in encoded)
    return urlunsplit(
        (url.scheme, url.netloc, url.path, f"{query}&X-Amz-Signature={signature}", "")
    )
