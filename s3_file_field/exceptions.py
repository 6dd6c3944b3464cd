"""Every exception the library raises, and how the store's error codes map onto them."""

from __future__ import annotations

from django.core.exceptions import SuspiciousOperation

# What a client sent, or the state of its upload.


class InvalidSignedValue(Exception):
    """A signed value that is forged, tampered with, truncated, expired or of another kind."""


class OtherUploader(Exception):
    """A valid field value that the requester may not use: another signed-in user made it
    (`S3FF_VALUES_BOUND_TO_UPLOADER`); the message says why."""


class InvalidFileName(ValueError):
    """A user's file name that cannot name an object (a path, control characters...)."""


class UploadToNeedsInstance(ValueError):
    """A field's callable `upload_to` failed when given no model instance, as a direct upload
    must give it: the file is named before any record exists."""


class UploadRefused(Exception):
    """The store's state does not allow the request (bytes missing, wrong size...): a 400."""


class PlainUploadRefused(Exception):
    """The policy refuses a file sent with a form; the message is the form error."""


class UploadAlreadyAttached(SuspiciousOperation):
    """A value saved into a second record (two saves raced past validation): Django answers
    400, the losing record is not saved."""


# What the store answered.


class StorageError(Exception):
    """The store answered with an error that retrying with the same input will not fix."""


class StorageUnavailable(StorageError):
    """The store could not be reached, or timed out."""


class CredentialsRefused(StorageError):
    """The store does not accept the credentials (unknown key, wrong secret, expired token...),
    or there are none to sign with."""


class AccessDenied(StorageError):
    """The credentials are valid but lack the right to do this."""


class BucketNotFound(StorageError):
    """The bucket does not exist."""


class NotSupported(StorageError):
    """The store does not implement this operation (MinIO has no per-bucket CORS, for one)."""


class UploadNotFound(StorageError):
    """The multipart upload id is unknown to the store (never existed, completed or aborted)."""


class ObjectExists(StorageError):
    """A conditional write was refused: an object is already at the key."""


class InvalidParts(StorageError):
    """The store refused to complete the upload from the parts given (missing, wrong ETag...)."""


class ObjectMissing(StorageError):
    """No object at the key (the backends answer None for it)."""


class NoCorsConfiguration(StorageError):
    """The bucket has no CORS rules (the backends answer an empty list for it)."""


# S3 error codes that mean the request's credentials, not its rights, are refused.
CREDENTIALS_ERROR_CODES = (
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "TokenRefreshRequired",
    "InvalidSecurity",
    "AuthorizationHeaderMalformed",
    "AccountProblem",
    "AllAccessDisabled",
)
# The S3 API's error codes, as botocore and the minio SDK report them.
_ERROR_CODES: dict[str, type[StorageError]] = {
    "NoSuchUpload": UploadNotFound,
    "PreconditionFailed": ObjectExists,
    "InvalidPart": InvalidParts,
    "InvalidPartOrder": InvalidParts,
    "EntityTooSmall": InvalidParts,
    "NoSuchKey": ObjectMissing,
    "ResourceNotFound": ObjectMissing,  # the minio SDK's, for a HEAD without a body
    "404": ObjectMissing,  # botocore's, likewise
    "NoSuchBucket": BucketNotFound,
    "AccessDenied": AccessDenied,
    "NoSuchCORSConfiguration": NoCorsConfiguration,
    # Checked before the status: a 501 means "not here", not "try again later".
    "NotImplemented": NotSupported,
    "SlowDown": StorageUnavailable,
    "ServiceUnavailable": StorageUnavailable,
    "InternalError": StorageUnavailable,
    **dict.fromkeys(CREDENTIALS_ERROR_CODES, CredentialsRefused),
}


def store_error(code: str, status: int, message: str) -> StorageError:
    """The exception for an error answer of the store: by its code, else by its status."""
    if code in _ERROR_CODES:
        return _ERROR_CODES[code](message)
    return StorageUnavailable(message) if status >= 500 else StorageError(message)
