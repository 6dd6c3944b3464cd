"""Turning a user's file name into a safe object key, and matching `accept` rules."""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Callable, Iterable

from .conf import S3_MAX_KEY_BYTES

MAX_FILE_NAME_LENGTH = 1024
MAX_CONTENT_TYPE_LENGTH = 255
DEFAULT_CONTENT_TYPE = "application/octet-stream"

_TOKEN = r"[A-Za-z0-9!#$&^_.+-]+"
# Spaces only, never tabs or line breaks (a header value must not end a header), and a quoted
# parameter of printable ASCII.
_CONTENT_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(?: *; *{_TOKEN}=(?:{_TOKEN}|\"[ !#-\[\]-~]*\"))*")


class InvalidFileName(ValueError):
    pass


class UploadToNeedsInstance(ValueError):
    """A field's callable `upload_to` failed when given no model instance, as a direct upload
    must give it: the file is named before any record exists."""


def clean_file_name(file_name: str) -> str:
    """Check a user's file name and return it in NFC form.

    A browser sends a bare name; anything with a path, or characters that could disguise or
    break a key (controls, bidirectional overrides, lone surrogates), is refused rather than
    silently altered, so the user learns what was wrong.
    """
    if file_name == "" or file_name.strip() == "":
        raise InvalidFileName("The file name is empty.")
    if len(file_name) > MAX_FILE_NAME_LENGTH:
        raise InvalidFileName(
            f"The file name is too long ({len(file_name)} characters; "
            f"at most {MAX_FILE_NAME_LENGTH})."
        )
    name = unicodedata.normalize("NFC", file_name)
    for char in name:
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            raise InvalidFileName(
                f"The file name contains a forbidden character (U+{ord(char):04X})."
            )
    if "/" in name or "\\" in name:
        raise InvalidFileName("The file name must not contain a path (no '/' or '\\').")
    if name.strip(" .") == "":
        raise InvalidFileName("The file name must contain more than dots and spaces.")
    return name


def fit_key(
    make_name: Callable[[str], str],
    file_name: str,
    key_bytes: Callable[[str], int],
    max_length: int,
) -> str:
    """Return `make_name(file_name)`, shortening the file name's stem until the result fits.

    The storage name must fit the field's `max_length` (characters) and the bucket key S3's
    1,024 bytes. The extension is kept, so the type of the file stays visible.
    """
    stem, extension = posixpath.splitext(file_name)
    if len(extension) > 32:
        stem, extension = file_name, ""
    for _ in range(8):
        name = make_name(stem + extension)
        excess_chars = len(name) - max_length
        excess_bytes = key_bytes(name) - S3_MAX_KEY_BYTES
        if excess_chars <= 0 and excess_bytes <= 0:
            return name
        stem = _shorten(stem, max(excess_chars, 0), max(excess_bytes, 0))
        if not stem:
            break
    raise InvalidFileName("The file name cannot be made short enough for this field's object keys.")


def _shorten(stem: str, chars: int, byte_count: int) -> str:
    stem = stem[: max(len(stem) - chars, 0)]
    while stem and byte_count > 0:
        byte_count -= len(stem[-1].encode())
        stem = stem[:-1]
    return stem.rstrip(" .")


def clean_content_type(content_type: str) -> str:
    """The type as it will be signed and stored: runs of spaces made one, as SigV4 signers
    make them in the signature, so that the value sent is the value signed."""
    content_type = content_type.strip(" ")
    if not content_type:
        return DEFAULT_CONTENT_TYPE
    if len(content_type) > MAX_CONTENT_TYPE_LENGTH or not _CONTENT_TYPE.fullmatch(content_type):
        raise ValueError("The content type is not a valid MIME type (like 'image/png').")
    return re.sub(" {2,}", " ", content_type)


def parse_accept(accept: str | Iterable[str] | None) -> tuple[str, ...]:
    """Split an HTML `accept` value ("image/*, .pdf") into lower-case entries."""
    if accept is None:
        return ()
    parts = accept.split(",") if isinstance(accept, str) else list(accept)
    return tuple(entry.strip().lower() for entry in parts if entry.strip())


def accept_error(accept: str | None) -> str | None:
    """A message if `accept` is not valid HTML `accept` syntax, else None."""
    for entry in parse_accept(accept):
        if entry.startswith("."):
            if len(entry) < 2 or "/" in entry:
                return f"{entry!r} is not a file extension like '.pdf'."
        elif not re.match(rf"^(?:\*/\*|{_TOKEN}/\*|{_TOKEN}/{_TOKEN})$", entry):
            return (
                f"{entry!r} is neither a MIME type ('image/png', 'image/*') "
                "nor an extension ('.pdf')."
            )
    return None


def is_accepted(accept: tuple[str, ...], file_name: str, content_type: str) -> bool:
    """Whether a file of this name and type matches one of the `accept` entries."""
    if not accept:
        return True
    essence = content_type.split(";", 1)[0].strip().lower()
    lower_name = file_name.lower()
    for entry in accept:
        if entry.startswith("."):
            if lower_name.endswith(entry):
                return True
        elif entry == "*/*":
            return True
        elif entry.endswith("/*"):
            if essence.startswith(entry[:-1]):
                return True
        elif essence == entry:
            return True
    return False
