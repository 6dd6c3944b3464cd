"""The checksums a store can verify as it takes the bytes, and how each travels: which header a
PUT carries it in, what the multipart upload declares, how the store reports the object's own."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ChecksumAlgorithm:
    # As the protocol names it: "md5", "crc32", ...
    name: str
    # The request header a PUT carries the part's checksum in (base64 of the digest).
    header: str
    digest_bytes: int
    # S3's `ChecksumAlgorithm` of a multipart upload; None for MD5, which S3 checks per request
    # only (Content-MD5) and never keeps.
    s3_name: str | None
    # Whether a multipart object gets a whole-file checksum (S3's FULL_OBJECT type, the CRCs'
    # alone), rather than a checksum of its parts' checksums.
    full_object: bool

    def is_value(self, value: object) -> bool:
        """Whether `value` is the base64 of a digest of this algorithm."""
        if not isinstance(value, str) or len(value) > 64:
            return False
        try:
            return len(base64.b64decode(value, validate=True)) == self.digest_bytes
        except binascii.Error:
            return False


# Cheapest first: the order the server offers them in where the client states no preference.
ALGORITHMS: dict[str, ChecksumAlgorithm] = {
    algorithm.name: algorithm
    for algorithm in (
        ChecksumAlgorithm("crc32", "x-amz-checksum-crc32", 4, "CRC32", True),
        ChecksumAlgorithm("crc32c", "x-amz-checksum-crc32c", 4, "CRC32C", True),
        ChecksumAlgorithm("crc64nvme", "x-amz-checksum-crc64nvme", 8, "CRC64NVME", True),
        ChecksumAlgorithm("md5", "Content-MD5", 16, None, False),
        ChecksumAlgorithm("sha1", "x-amz-checksum-sha1", 20, "SHA1", False),
        ChecksumAlgorithm("sha256", "x-amz-checksum-sha256", 32, "SHA256", False),
    )
}
# The headers a browser may have to send for a checksum: the CORS rule allows them all.
CHECKSUM_HEADERS = tuple(algorithm.header for algorithm in ALGORITHMS.values())


@dataclass(frozen=True)
class PartChecksum:
    """One part's checksum, to sign its URL for: the store refuses other bytes."""

    algorithm: ChecksumAlgorithm
    value: str

    def header(self) -> dict[str, str]:
        return {self.algorithm.header: self.value}


@dataclass(frozen=True)
class ObjectChecksum:
    """The checksum a store keeps with an object, as it computed it from the bytes it got."""

    algorithm: str
    value: str
    # "FULL_OBJECT" (of the whole file) or "COMPOSITE" (of the parts' checksums).
    type: str

    def as_json(self) -> dict[str, str]:
        return {"algorithm": self.algorithm, "value": self.value, "type": self.type}


def object_checksum(headers: Mapping[str, str]) -> ObjectChecksum | None:
    """The checksum among an object's response headers (lower-case names), if the store gave
    one (S3 only when asked, with `x-amz-checksum-mode: ENABLED`)."""
    for algorithm in ALGORITHMS.values():
        value = headers.get(algorithm.header.lower())
        if algorithm.s3_name is not None and value:
            # A store that does not say has a composite checksum end in "-<parts>".
            kind = headers.get("x-amz-checksum-type") or (
                "COMPOSITE" if "-" in value else "FULL_OBJECT"
            )
            return ObjectChecksum(algorithm.name, value, kind)
    return None
