"""Every error the Python client raises: one base class, one subclass per kind of failure.

`code` is a stable string to switch on, the same as the TypeScript client's.
"""

from __future__ import annotations

import re
from typing import Literal

ErrorCode = Literal[
    "invalid-input", "api", "part", "network", "missing-etag", "checksum", "protocol", "cancelled"
]


class S3FileFieldClientError(Exception):
    """Base class of every error this client raises."""

    code: ErrorCode = "protocol"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(S3FileFieldClientError):
    """The caller passed something unusable: no file name, a file that is not seekable, ..."""

    code = "invalid-input"


class ProtocolError(S3FileFieldClientError):
    """The server answered something this client does not understand."""

    code = "protocol"


class ApiCallError(S3FileFieldClientError):
    """A call to the Django API was answered with a 4xx or 5xx."""

    code = "api"

    def __init__(
        self,
        endpoint: str,
        status: int,
        detail: str,
        field_errors: dict[str, list[str]] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{endpoint} failed (HTTP {status}): {detail}")
        self.endpoint = endpoint
        self.status = status
        # The server's message: DRF's `detail`, or its field errors joined.
        self.detail = detail
        self.field_errors = field_errors
        # The server's Retry-After, in seconds, when it sent one.
        self.retry_after = retry_after


class ApiNetworkError(S3FileFieldClientError):
    """A call to the Django API got no answer: the network failed on the way."""

    code = "network"

    def __init__(self, endpoint: str, cause: BaseException) -> None:
        super().__init__(f"{endpoint} failed: no response ({describe(cause)})")
        self.endpoint = endpoint


class PartNetworkError(S3FileFieldClientError):
    """A part PUT got no answer from the store."""

    code = "network"

    def __init__(self, part_number: int, reason: str) -> None:
        super().__init__(f"upload of part {part_number} failed: {reason}")
        self.part_number = part_number


class PartStalledError(PartNetworkError):
    """A part PUT moved no byte for the client's `stall_timeout`, and was given up."""

    def __init__(self, part_number: int, stall_timeout: float) -> None:
        super().__init__(part_number, f"stalled, nothing moved for {stall_timeout:g} s")
        self.stall_timeout = stall_timeout


class PartUploadError(S3FileFieldClientError):
    """The store answered a part PUT with something other than success."""

    code: ErrorCode = "part"

    def __init__(
        self,
        part_number: int,
        status: int,
        store_code: str | None = None,
        store_message: str | None = None,
        message: str | None = None,
    ) -> None:
        said = ": ".join(text for text in (store_code, store_message) if text)
        super().__init__(
            message
            or f"upload of part {part_number} failed: HTTP {status}{f', {said}' if said else ''}"
        )
        self.part_number = part_number
        self.status = status
        # The store's <Code> (e.g. AccessDenied, SlowDown) and <Message>, when it sent them.
        self.store_code = store_code
        self.store_message = store_message
        # The store's Retry-After, in seconds, when it sent one (503 SlowDown).
        self.retry_after: float | None = None

    @classmethod
    def from_answer(cls, part_number: int, status: int, body: str) -> PartUploadError:
        return cls(part_number, status, _xml_text(body, "Code"), _xml_text(body, "Message"))


class MissingEtagError(PartUploadError):
    """The store took a part but answered no ETag, without which the upload cannot complete."""

    code = "missing-etag"

    def __init__(self, part_number: int, status: int) -> None:
        super().__init__(
            part_number,
            status,
            message=f"part {part_number} was stored (HTTP {status}) but the store sent no ETag",
        )


class PartChecksumError(PartUploadError):
    """The store's ETag is not the MD5 of the bytes sent: the part arrived altered.

    The part is sent again signed for its Content-MD5, for the store to check; this reaches
    the caller only when no retry is left.
    """

    code = "checksum"

    def __init__(self, part_number: int, status: int, etag: str, content_md5: str) -> None:
        super().__init__(
            part_number,
            status,
            message=(
                f"part {part_number} arrived altered: the store's ETag {etag} is not the MD5 "
                f"of the bytes sent ({content_md5}, base64)"
            ),
        )
        self.etag = etag
        self.content_md5 = content_md5


class UploadCancelledError(S3FileFieldClientError):
    """The caller cancelled the upload; it was aborted on the store."""

    code = "cancelled"

    def __init__(self) -> None:
        super().__init__("the upload was cancelled")


def is_transient(error: BaseException) -> bool:
    """Network failures and overloaded or failing servers: worth another try, and an
    unfinished upload that met one is worth resuming. Not refusals, nor protocol faults."""
    if isinstance(error, ApiNetworkError | PartNetworkError):
        return True
    if isinstance(error, ApiCallError) or type(error) is PartUploadError:
        return error.status == 429 or error.status >= 500
    return False


def describe(cause: BaseException) -> str:
    return str(cause) or type(cause).__name__


def _xml_text(body: str, element: str) -> str | None:
    # S3 error documents are flat: a regular expression is enough, and parses nothing hostile.
    match = re.search(f"<{element}>([^<]{{0,1000}})</{element}>", body)
    if match is None:
        return None
    text = match.group(1).strip()
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'")):
        text = text.replace(entity, char)
    return text.replace("&amp;", "&")
