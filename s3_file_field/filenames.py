"""Turning a user's file name into a safe object key, and matching `accept` rules."""

from __future__ import annotations

import mimetypes
import posixpath
import re
import unicodedata
from collections.abc import Callable, Iterable
from urllib.parse import quote

from .conf import S3_MAX_KEY_BYTES
from .exceptions import InvalidFileName

MAX_FILE_NAME_LENGTH = 1024
MAX_CONTENT_TYPE_LENGTH = 255
DEFAULT_CONTENT_TYPE = "application/octet-stream"

_TOKEN = r"[A-Za-z0-9!#$&^_.+-]+"
# Spaces only, never tabs or line breaks (a header value must not end a header), and a quoted
# parameter of printable ASCII.
_CONTENT_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(?: *; *{_TOKEN}=(?:{_TOKEN}|\"[ !#-\[\]-~]*\"))*")


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


# Types a browser renders as a document that can run script (or runs as script) when the
# object is opened from the bucket's origin. Any `+xml` or `/xml` type is one too: an XML
# document may hold XHTML.
ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "application/xslt+xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "text/ecmascript",
        "application/ecmascript",
        "application/x-ecmascript",
        "text/jscript",
        "text/livescript",
        "multipart/x-mixed-replace",
    }
)
# Types a browser may show inline from the bucket without running anything of the file's;
# every other type is stored with `Content-Disposition: attachment` (downloaded, not opened).
INLINE_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/bmp",
        "video/mp4",
        "video/webm",
        "video/ogg",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/webm",
        "audio/aac",
        "audio/flac",
        "application/pdf",
        "text/plain",
    }
)
# Types browsers send that Python's table does not pair with the extension (Windows takes
# them from its registry).
_BROWSER_TYPES = {
    ".zip": {"application/x-zip-compressed", "application/x-zip"},
    ".csv": {"application/vnd.ms-excel", "text/x-csv", "application/csv"},
    ".jpg": {"image/pjpeg"},
    ".jpeg": {"image/pjpeg"},
    ".png": {"image/x-png"},
    ".mp3": {"audio/mp3"},
    ".wav": {"audio/wav", "audio/wave"},
}


def _extension_table() -> dict[str, set[str]]:
    """Each extension's types, from the table built into Python (not the machine's
    /etc/mime.types: the same rule on every machine) and browsers' habits."""
    table: dict[str, set[str]] = {}
    for by_type in mimetypes.MimeTypes(filenames=()).types_map_inv:
        for kind, extensions in by_type.items():
            for extension in extensions:
                table.setdefault(extension, set()).add(kind)
    for extension, kinds in _BROWSER_TYPES.items():
        table.setdefault(extension, set()).update(kinds)
    return table


_EXTENSION_TYPES = _extension_table()


def essence(content_type: str) -> str:
    """The MIME type without its parameters, in lower case ("text/plain; charset=x" gives
    "text/plain")."""
    return content_type.split(";", 1)[0].strip().lower()


def is_active_type(content_type: str) -> bool:
    """Whether a browser could run script from an object served with this type."""
    kind = essence(content_type)
    return kind in ACTIVE_TYPES or kind.endswith(("+xml", "/xml"))


def runs_script_unasked(declared_type: str, served_type: str) -> bool:
    """Whether a store serves as a type that can run script an object declared as one that
    cannot (SeaweedFS stores a type it detects in place of application/octet-stream)."""
    return is_active_type(served_type) and not is_active_type(declared_type)


def content_disposition(content_type: str, download_name: str | None = None) -> str:
    """The `Content-Disposition` an object of this type is stored with: `inline` only for types
    known to be safe to show; anything else is downloaded when opened from the bucket. With a
    `download_name`, browsers save it under that name (RFC 6266): an ASCII `filename` for old
    clients, and the name itself, UTF-8 and percent-encoded, as `filename*` (RFC 8187)."""
    disposition = "inline" if essence(content_type) in INLINE_TYPES else "attachment"
    if not download_name:
        return disposition
    fallback = "".join(
        char if " " <= char <= "~" and char not in '"\\%' else "_" for char in download_name
    )
    encoded = quote(download_name, safe="!#$&+-.^_`|~")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def _fits_extension(kind: str, extension: str) -> bool:
    """Whether a file named `*<extension>` may declare type `kind`: a type the extension is
    known to have; any type that cannot run script if the extension is unknown; or none
    (application/octet-stream: browsers declare nothing for types they do not know)."""
    if kind == DEFAULT_CONTENT_TYPE:
        return True
    known = _EXTENSION_TYPES.get(extension)
    return kind in known if known else not is_active_type(kind)


def is_accepted(accept: tuple[str, ...], file_name: str, content_type: str) -> bool:
    """Whether a file of this name and declared type may be uploaded under `accept`.

    A MIME entry ("image/png", "image/*", "*/*") matches the declared type. An extension entry
    (".pdf") matches the name, and only with a type that fits the extension. A type that can
    run script is accepted only where an entry names it exactly (its MIME type, or an extension
    that has it), never through a wildcard or without `accept`.
    """
    kind = essence(content_type)
    active = is_active_type(kind)
    if not accept:
        return not active
    lower_name = file_name.lower()
    for entry in accept:
        if entry.startswith("."):
            if lower_name.endswith(entry) and _fits_extension(kind, entry):
                return True
        elif entry == kind:
            return True
        elif active:
            continue
        elif entry == "*/*" or (entry.endswith("/*") and kind.startswith(entry[:-1])):
            return True
    return False
