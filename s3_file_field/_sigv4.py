"""AWS Signature Version 4 for presigned query-string URLs.

The minio SDK presigns with only the `host` header signed; this library also signs
`Content-Length` (and `Content-Type`), so that the store itself refuses a body of another size
or type. The algorithm is the one in the S3 API reference ("Authenticating Requests: Using Query
Parameters").
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import SplitResult, parse_qsl, quote, urlunsplit

ALGORITHM = "AWS4-HMAC-SHA256"


def _uri_encode(value: str) -> str:
    return quote(value, safe="-_.~")


@lru_cache(maxsize=64)
def _signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret_key}".encode()
    for message in (date, region, service, "aws4_request"):
        key = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return key


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
    and `/`); `headers` are the headers, besides `host`, that the request must carry unchanged.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    scope = f"{date}/{region}/{service}/aws4_request"

    signed = {
        "host": url.netloc,
        # SigV4's "trimall", as botocore does it: every run of whitespace one space.
        **{name.lower(): " ".join(value.split()) for name, value in headers.items()},
    }
    signed_names = ";".join(sorted(signed))
    query = parse_qsl(url.query, keep_blank_values=True)
    query += [
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{access_key}/{scope}"),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", signed_names),
    ]
    if session_token:
        query.append(("X-Amz-Security-Token", session_token))
    canonical_query = "&".join(
        f"{_uri_encode(k)}={_uri_encode(v)}" for k, v in sorted(query, key=lambda kv: kv)
    )
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
    final_query = f"{canonical_query}&X-Amz-Signature={signature}"
    return urlunsplit((url.scheme, url.netloc, url.path, final_query, ""))
