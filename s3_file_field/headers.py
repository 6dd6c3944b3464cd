"""The headers an uploaded object is stored with, and those a single PUT is signed for."""

from __future__ import annotations

from collections.abc import Mapping

from .filenames import content_disposition

# Signed into every single PUT, and sent with every multipart completion where the backend can:
# the store writes only where no object is, so no URL (not even a fresh one from upload-parts/)
# can rewrite a file after finalize.
CONDITIONAL_PUT_HEADERS = {"If-None-Match": "*"}
# Headers the store would keep from a single PUT's request and serve with the object: signed
# empty, so that a client can set none of them (the store refuses a request whose signed
# header differs, and keeps nothing for an empty one).
UNSET_PUT_HEADERS = {
    "Cache-Control": "",
    "Content-Encoding": "",
    "Content-Language": "",
    "Expires": "",
}


def object_headers(content_type: str, download_name: str | None = None) -> dict[str, str]:
    """The headers an uploaded object is stored with, beyond what its storage adds: its type,
    and a disposition that makes a browser download anything not known to be safe to show
    from the bucket's origin (under `download_name`, when the field keeps names)."""
    return {
        "Content-Type": content_type,
        "Content-Disposition": content_disposition(content_type, download_name),
    }


def single_put_headers(stored: Mapping[str, str]) -> dict[str, str]:
    """Every header a single PUT is signed for and must send, exactly so: those the object is
    to be `stored` with, the condition, and the other headers a store keeps, empty."""
    named = {name.lower() for name in stored}
    unset = {name: value for name, value in UNSET_PUT_HEADERS.items() if name.lower() not in named}
    return {**stored, **CONDITIONAL_PUT_HEADERS, **unset}
