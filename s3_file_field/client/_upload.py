"""One file's upload: prepare (or resume), send the parts in parallel, finalize; on failure or
cancel, free the upload on the store (unless a transient failure keeps it to resume)."""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import json
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import httpx

from ._api import DEFAULT_MAX_PART_URLS, UploadApi
from ._retry import (
    RetryInfo,
    RetryPolicy,
    StopFlag,
    part_retryable,
    retry_after_seconds,
    run_with_retries,
)
from ._slots import PartSlots
from ._source import Source
from .errors import (
    ApiCallError,
    MissingEtagError,
    PartChecksumError,
    PartNetworkError,
    PartStalledError,
    PartUploadError,
    ProtocolError,
    UploadCancelledError,
    describe,
    is_transient,
)
from .resume import ResumeStore

MiB = 1024 * 1024
# S3's smallest part: a file no larger always goes up in one PUT, so its checksum can go with
# upload-prepare/ and the URL comes back signed for it.
SURELY_ONE_PART = 5 * MiB
# Bytes read and sent at a time: what each part in flight holds in memory.
CHUNK = MiB
# S3's most parts in one upload: a plan of more is not a real server's.
S3_MAX_PARTS = 10_000
# A part PUT's error answer is read up to this: enough for S3's error document.
MAX_ERROR_BODY = 64 * 1024

State = Literal["preparing", "uploading", "finalizing", "done"]
# How each part is made sure to be stored as it was read (the TypeScript client's rules):
# "signed": every part URL is signed for the part's CRC32 (or MD5 where the server requires a
# checksum and offers no CRC32), and the store refuses other bytes; "etag": each part's MD5,
# hashed as it is sent, is compared with the store's ETag, and a mismatch is sent again signed
# for its Content-MD5; "none": checksums are off.
Integrity = Literal["signed", "etag", "none"]


@dataclass(frozen=True)
class UploadResult:
    """What `upload-finalize/` answered: `field_value` is what a form or serializer accepts."""

    field_value: str
    object_key: str
    file_size: int
    file_name: str
    # {"algorithm", "value", "type"} of the checksum the store keeps, or None.
    checksum: dict[str, str] | None


@dataclass(frozen=True)
class Progress:
    file_name: str
    # Bytes stored or on their way (a failed attempt's bytes are taken back).
    sent: int
    total: int
    state: State


@dataclass
class ServerTraits:
    """What a client learns of its server and stores as it uploads, for its later uploads."""

    # The server refuses uploads without a checksum it verifies (S3FF_REQUIRE_CHECKSUMS).
    requires_signed_checksums: bool = False
    # Fields whose store answers ETags that are not MD5s (an encrypted bucket).
    opaque_etag_fields: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Engine:
    """What every upload of one client shares."""

    api: UploadApi
    store: httpx.Client
    policy: RetryPolicy
    # Parts of one upload sent at once, and the bound on part PUTs over all of them.
    concurrency: int
    part_slots: PartSlots
    checksums: bool
    stall_timeout: float
    resume_store: ResumeStore | None
    traits: ServerTraits
    on_retry: Callable[[RetryInfo], None] | None


@dataclass(frozen=True)
class Part:
    number: int
    offset: int
    size: int


@dataclass
class Session:
    """An upload the server knows: prepared now, or remembered and found again."""

    signature: str
    object_key: str
    multipart: bool
    part_size: int
    part_count: int
    part_headers: dict[str, str]
    max_part_urls: int
    integrity: Integrity
    # In mode "signed", what every part URL is signed for.
    algorithm: str
    # Part URLs at hand, by part number.
    signed: dict[int, dict[str, Any]]
    # ETags of the parts the store holds.
    etags: dict[int, str]
    file_size: int

    @cached_property
    def parts(self) -> list[Part]:
        """Every part, planned once: part n is `parts[n - 1]`."""
        return plan_parts(self.part_count, self.part_size, self.file_size)

    def record(self, first_part_crc32: str | None) -> dict[str, Any]:
        return {
            "signature": self.signature,
            "object_key": self.object_key,
            "multipart": self.multipart,
            "part_size": self.part_size,
            "part_count": self.part_count,
            "part_headers": self.part_headers,
            "max_part_urls": self.max_part_urls,
            "integrity": self.integrity,
            "algorithm": self.algorithm,
            "first_part_crc32": first_part_crc32,
            "file_size": self.file_size,
            "created_at": time.time(),
        }


def plan_parts(count: int, part_size: int, file_size: int) -> list[Part]:
    return [
        Part(number, (number - 1) * part_size, min(part_size, file_size - (number - 1) * part_size))
        for number in range(1, count + 1)
    ]


def checksum_of(source: Source, part: Part, algorithm: str, stop: StopFlag) -> str:
    """The base64 checksum of a part (`crc32` or `md5`), read a chunk at a time."""
    crc, md5 = 0, hashlib.md5(usedforsecurity=False)
    for offset in range(part.offset, part.offset + part.size, CHUNK):
        if stop.is_set():
            raise UploadCancelledError
        chunk = source.read(offset, min(CHUNK, part.offset + part.size - offset))
        if algorithm == "crc32":
            crc = zlib.crc32(chunk, crc)
        else:
            md5.update(chunk)
    digest = crc.to_bytes(4, "big") if algorithm == "crc32" else md5.digest()
    return base64.b64encode(digest).decode()


def etag_is_md5(etag: str, content_md5: str) -> bool:
    return etag.strip().strip('"').lower() == base64.b64decode(content_md5).hex()


def resume_key(api_url: str, field_id: str, name: str, source: Source, content_type: str) -> str:
    return json.dumps([api_url, field_id, name, source.size, source.modified_ns, content_type])


class UploadRun:
    def __init__(
        self,
        engine: Engine,
        source: Source,
        field_id: str,
        file_name: str,
        content_type: str,
        on_progress: Callable[[Progress], None] | None,
        cancel: threading.Event | None,
        keep_on_cancel: bool = False,
    ) -> None:
        self.engine, self.source, self.field_id = engine, source, field_id
        # With a resume store: a cancel pauses (the upload is kept to go on later).
        self.keep_on_cancel = keep_on_cancel and engine.resume_store is not None
        self.file_name, self.content_type = file_name, content_type
        self.on_progress, self.cancel = on_progress, cancel
        self.stop = StopFlag(cancel)
        self.session: Session | None = None
        self.lock = threading.Lock()
        self.sent = 0
        self.state: State = "preparing"
        # The checksum each part's URL was signed for, told to finalize.
        self.part_checksums: dict[int, str] = {}
        # Parts whose ETag did not match: they go again signed for their Content-MD5.
        self.checked_by_store: set[int] = set()
        self.resume_key = resume_key(engine.api.base_url, field_id, file_name, source, content_type)
        self.executor: concurrent.futures.ThreadPoolExecutor | None = None
        self.pending_numbers: list[int] = []
        # Parts whose URLs a thread is signing now, and the condition others wait on for them.
        self.signing: set[int] = set()
        # Parts whose URL a thread took: they need none signed ahead.
        self.started: set[int] = set()
        self.urls_ready = threading.Condition(self.lock)

    # The states, in order.

    def run(self) -> UploadResult:
        try:
            self._report("preparing")
            session = self._open()
            self._send_parts(session)
            self._report("finalizing")
            result = self._finalize(session)
            self._report("done")
            return result
        except BaseException as error:
            self._fail(error)
            if self.cancel is not None and self.cancel.is_set():
                raise UploadCancelledError from error
            raise

    def _open(self) -> Session:
        resumed = self._resume()
        if resumed is not None:
            return resumed
        session, first_crc32 = self._prepare()
        self.session = session
        if self.engine.resume_store is not None and session.multipart:
            if first_crc32 is None:
                first = session.parts[0]
                first_crc32 = checksum_of(self.source, first, "crc32", self.stop)
            self.engine.resume_store.set(self.resume_key, session.record(first_crc32))
        return session

    def _prepare(self) -> tuple[Session, str | None]:
        """Prepares asking for CRC32, which the server picks where its store verifies it. Where
        it does not, parts are checked by their ETags; where the server requires a checksum
        it verifies (it refuses the first way on `checksum`), they are signed for their MD5."""
        engine, size = self.engine, self.source.size
        small_crc32 = None
        if engine.checksums and size <= SURELY_ONE_PART:
            small_crc32 = checksum_of(self.source, Part(1, 0, size), "crc32", self.stop)

        def prepare(algorithms: list[str] | None) -> dict[str, Any]:
            return engine.api.prepare(
                self.stop,
                field_id=self.field_id,
                file_name=self.file_name,
                file_size=size,
                content_type=self.content_type,
                checksum_algorithms=algorithms,
                part_checksums={1: small_crc32} if small_crc32 and algorithms else {},
            )

        if not engine.checksums:
            prepared = prepare(None)
        elif engine.traits.requires_signed_checksums:
            prepared = prepare(["crc32", "md5"])
        else:
            try:
                prepared = prepare(["crc32"])
            except ApiCallError as error:
                if error.status != 400 or not (error.field_errors or {}).get("checksum"):
                    raise
                engine.traits.requires_signed_checksums = True
                prepared = prepare(["crc32", "md5"])
        picked = prepared.get("checksum")
        picked = picked if picked in ("crc32", "md5") else None
        multipart = prepared.get("upload_id") is not None
        part_count, part_size = prepared["part_count"], prepared["part_size"]
        fits = (
            1 <= part_count <= S3_MAX_PARTS
            and part_size >= 1
            and (part_count - 1) * part_size < max(size, 1) <= max(part_count * part_size, 1)
        )
        if not fits:
            raise ProtocolError("upload-prepare/ answered a part plan that does not fit")
        # A single PUT writes only where no object is, so one stored altered could not be sent
        # again: with no algorithm picked, its URL is signed for its MD5 for the store to check.
        sign_one_put = not multipart and engine.checksums and picked is None
        integrity: Integrity = (
            "signed" if picked or sign_one_put else "etag" if engine.checksums else "none"
        )
        # The whole file's CRC32 went as part 1's; a server that split even so small a file
        # signed part 1 for the wrong bytes.
        whole_file_one_part = part_count == 1
        keep_urls = not sign_one_put and (small_crc32 is None or whole_file_one_part)
        signed = {part["part_number"]: part for part in prepared["parts"]} if keep_urls else {}
        if picked == "crc32" and small_crc32 and whole_file_one_part:
            self.part_checksums[1] = small_crc32
        part_headers = prepared.get("part_headers") or {}
        if not isinstance(part_headers, dict):
            raise ProtocolError("upload-prepare/ answered part_headers that are not an object")
        session = Session(
            signature=prepared["upload_signature"],
            object_key=str(prepared.get("object_key", "")),
            multipart=multipart,
            part_size=part_size,
            part_count=part_count,
            part_headers={str(k): str(v) for k, v in part_headers.items()},
            max_part_urls=int(prepared.get("max_part_urls") or DEFAULT_MAX_PART_URLS),
            integrity=integrity,
            algorithm=picked or "md5",
            signed=signed,
            etags={},
            file_size=size,
        )
        return session, small_crc32

    def _resume(self) -> Session | None:
        """The remembered upload of this file, with the parts the store holds; None when there
        is none, or its first part is not this file's (its upload is then freed)."""
        store = self.engine.resume_store
        if store is None:
            return None
        record = store.get(self.resume_key)
        if record is None:
            return None
        try:
            session = Session(
                signature=record["signature"],
                object_key=record["object_key"],
                multipart=record["multipart"],
                part_size=record["part_size"],
                part_count=record["part_count"],
                part_headers=record["part_headers"],
                max_part_urls=record["max_part_urls"],
                integrity=record["integrity"] if self.engine.checksums else "none",
                algorithm=record["algorithm"],
                signed={},
                etags={},
                file_size=self.source.size,
            )
            first = session.parts[0]
        except (KeyError, TypeError, IndexError):
            store.delete(self.resume_key)
            return None
        if record.get("first_part_crc32") != checksum_of(self.source, first, "crc32", self.stop):
            store.delete(self.resume_key)
            self.engine.api.abort(session.signature)
            return None
        try:
            stored = self.engine.api.status(self.stop, session.signature)
        except ApiCallError as error:
            # The server no longer knows the upload (its signature expired): start over.
            if not 400 <= error.status < 500:
                raise
            store.delete(self.resume_key)
            return None
        sizes = {part.number: part.size for part in session.parts}
        session.etags = {
            part["part_number"]: part["etag"]
            for part in stored
            if sizes.get(part["part_number"]) == part["size"]
        }
        self.session = session
        return session

    def _send_parts(self, session: Session) -> None:
        engine = self.engine
        if session.integrity == "etag":
            self._check_stored(session)
        stored = sum(part.size for part in session.parts if part.number in session.etags)
        self._add_sent(stored)
        self._report("uploading")
        pending = [part for part in session.parts if part.number not in session.etags]
        if not pending:
            return
        self.pending_numbers = [part.number for part in pending]
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=min(engine.concurrency, len(pending)), thread_name_prefix="s3ff-part"
        )
        futures = {self.executor.submit(self._send_part, part): part for part in pending}
        running = set(futures)
        while running:
            done, running = concurrent.futures.wait(
                running, timeout=0.2, return_when=concurrent.futures.FIRST_EXCEPTION
            )
            for future in done:
                error = future.exception()
                if error is not None:
                    raise error
                part = futures[future]
                with self.lock:
                    session.etags[part.number] = future.result()
            if self.stop.is_set():
                raise UploadCancelledError
        self.executor.shutdown()

    def _check_stored(self, session: Session) -> None:
        """On resuming in mode "etag": a part whose ETag is not its MD5 goes again, checked."""
        if self._etags_opaque():
            return
        for part in session.parts:
            etag = session.etags.get(part.number)
            if etag is not None and not etag_is_md5(etag, self._md5(part)):
                del session.etags[part.number]
                self.checked_by_store.add(part.number)

    def _finalize(self, session: Session) -> UploadResult:
        # Only a CRC32's is told: an MD5 is checked as the bytes come and never kept.
        told = session.integrity == "signed" and session.algorithm != "md5"
        parts = (
            [
                {
                    "part_number": part.number,
                    "etag": session.etags[part.number],
                    **(
                        {"checksum": self.part_checksums[part.number]}
                        if told and part.number in self.part_checksums
                        else {}
                    ),
                }
                for part in session.parts
            ]
            if session.multipart
            else []
        )
        answer = self.engine.api.finalize(self.stop, session.signature, parts)
        self._forget()
        checksum = answer.get("checksum")
        return UploadResult(
            field_value=answer["field_value"],
            object_key=answer["object_key"],
            file_size=answer["file_size"],
            file_name=self.file_name,
            checksum=checksum if isinstance(checksum, dict) else None,
        )

    def _fail(self, error: BaseException) -> None:
        """Stops the parts in flight, then frees the upload on the store, unless it is kept to
        resume: after a transient failure, or a cancel (Ctrl+C included) that was to pause."""
        self.stop.set()
        if self.executor is not None:
            # Parts in flight see the flag within a chunk; none is left to land after the abort.
            self.executor.shutdown(wait=True, cancel_futures=True)
        session = self.session
        if session is None:
            return
        cancelled = isinstance(error, KeyboardInterrupt | UploadCancelledError)
        resumable = self.engine.resume_store is not None and is_transient(error)
        if self.keep_on_cancel if cancelled else resumable:
            return
        self.engine.api.abort(session.signature)
        self._forget()

    def _forget(self) -> None:
        if self.engine.resume_store is not None:
            self.engine.resume_store.delete(self.resume_key)

    # One part.

    def _send_part(self, part: Part) -> str:
        return run_with_retries(
            f"part {part.number}",
            self.engine.policy,
            self.stop,
            lambda: self._attempt(part),
            part_retryable,
            self.engine.on_retry,
        )

    def _attempt(self, part: Part) -> str:
        session = self.session
        assert session is not None
        if session.integrity == "etag" and (
            part.number in self.checked_by_store or self._etags_opaque()
        ):
            return self._attempt_checked_by_store(part)
        hasher = (
            hashlib.md5(usedforsecurity=False)
            if session.integrity == "etag" and session.multipart
            else None
        )
        etag, status = self._put_signed(part, self._url_for, hasher)
        if hasher is not None:
            md5 = base64.b64encode(hasher.digest()).decode()
            if not etag_is_md5(etag, md5):
                self.checked_by_store.add(part.number)
                raise PartChecksumError(part.number, status, etag, md5)
        return etag

    def _attempt_checked_by_store(self, part: Part) -> str:
        """A part signed for its Content-MD5, read afresh, so that the store checks the bytes."""
        session = self.session
        assert session is not None
        md5 = self._md5(part)

        def sign(part: Part, again: bool) -> dict[str, Any]:
            return self._sign(session, [part.number], {part.number: md5})[0]

        etag, _ = self._put_signed(part, sign, None)
        # A store-checked part whose ETag is not its MD5: the store's ETags are its own kind.
        if not etag_is_md5(etag, md5):
            with self.lock:
                self.engine.traits.opaque_etag_fields.add(self.field_id)
        return etag

    def _url_for(self, part: Part, again: bool) -> dict[str, Any]:
        """The part's URL: at hand, or signed with the next parts that have none in one
        `upload-parts/` call (in mode "signed", each hashed first). A part another thread is
        signing is waited for; `again`: a fresh URL for this part alone."""
        session = self.session
        assert session is not None
        number = part.number
        with self.urls_ready:
            while not again:
                signed = session.signed.pop(number, None)
                if signed is not None:
                    self.started.add(number)
                    return signed
                if number not in self.signing:
                    break
                self.urls_ready.wait(0.1)
                if self.stop.is_set():
                    raise UploadCancelledError
            ahead = [
                later
                for later in self.pending_numbers
                if later > number
                and later not in session.signed
                and later not in self.signing
                and later not in self.started
            ]
            # A round of parts in flight when each must be hashed first; two rounds otherwise.
            rounds = 1 if session.integrity == "signed" else 2
            size = 1 if again else min(rounds * self.engine.concurrency, session.max_part_urls)
            batch = [number, *ahead][:size]
            self.signing.update(batch)
        try:
            checksums = None
            if session.integrity == "signed":
                checksums = {
                    each: self.part_checksums.get(each)
                    or checksum_of(
                        self.source, session.parts[each - 1], session.algorithm, self.stop
                    )
                    for each in batch
                }
            signed_parts = self._sign(session, batch, checksums)
        finally:
            with self.urls_ready:
                self.signing.difference_update(batch)
                self.urls_ready.notify_all()
        with self.urls_ready:
            self.part_checksums.update(checksums or {})
            for signed_part in signed_parts[1:]:
                session.signed[signed_part["part_number"]] = signed_part
            self.started.add(number)
            self.urls_ready.notify_all()
        return signed_parts[0]

    def _sign(
        self, session: Session, numbers: list[int], checksums: dict[int, str] | None
    ) -> list[dict[str, Any]]:
        try:
            parts = self.engine.api.sign_parts(self.stop, session.signature, numbers, checksums)
        except ApiCallError as error:
            # A single PUT whose file is stored already: an attempt's answer was lost.
            if error.status == 409 and not session.multipart:
                raise _StoredAlready from error
            raise
        if [part["part_number"] for part in parts] != numbers:
            raise ProtocolError(f"upload-parts/ did not sign parts {numbers}")
        return parts

    def _put_signed(
        self,
        part: Part,
        sign: Callable[[Part, bool], dict[str, Any]],
        hasher: Any,
    ) -> tuple[str, int]:
        """One PUT of the part. A URL the store refuses (403) has most often expired (a long or
        resumed upload): it is signed again once, and a fresh URL refused too is reported."""
        for again in (False, True):
            try:
                signed = sign(part, again)
            except _StoredAlready:
                etag = self._stored_already(part)
                self._add_sent(part.size)
                return etag, 409
            if signed["size"] != part.size:
                raise ProtocolError(f"part {part.number} was signed for {signed['size']} bytes")
            status, headers, body = self._put(part, signed, hasher)
            if 200 <= status < 300:
                etag = headers.get("ETag")
                if not etag:
                    raise MissingEtagError(part.number, status)
                return etag, status
            if status == 412 and not self.session_multipart:
                # Stored by an earlier attempt whose answer was lost (the URL writes only where
                # no object is).
                etag = self._stored_already(part)
                self._add_sent(part.size)
                return etag, status
            if status != 403 or again:
                error = PartUploadError.from_answer(part.number, status, body)
                error.retry_after = retry_after_seconds(headers.get("Retry-After"))
                raise error
            if hasher is not None:
                hasher = hashlib.md5(usedforsecurity=False)
        raise AssertionError("unreachable")

    @property
    def session_multipart(self) -> bool:
        return self.session is not None and self.session.multipart

    def _put(
        self, part: Part, signed: dict[str, Any], hasher: Any
    ) -> tuple[int, httpx.Headers, str]:
        session = self.session
        assert session is not None
        headers = {
            **session.part_headers,
            **{str(k): str(v) for k, v in (signed.get("headers") or {}).items()},
            "Content-Length": str(part.size),
        }
        sent = 0

        def body() -> Iterator[bytes]:
            nonlocal sent
            for offset in range(part.offset, part.offset + part.size, CHUNK):
                if self.stop.is_set():
                    raise UploadCancelledError
                chunk = self.source.read(offset, min(CHUNK, part.offset + part.size - offset))
                if hasher is not None:
                    hasher.update(chunk)
                sent += len(chunk)
                self._add_sent(len(chunk))
                yield chunk

        self.engine.part_slots.take(self.stop)
        try:
            with self.engine.store.stream(
                "PUT", signed["upload_url"], content=body(), headers=headers
            ) as response:
                error_body = b""
                if not response.is_success:
                    for data in response.iter_bytes():
                        error_body += data
                        if len(error_body) >= MAX_ERROR_BODY:
                            break
                status, answer_headers = response.status_code, response.headers
        except (httpx.ReadTimeout, httpx.WriteTimeout) as error:
            self._add_sent(-sent)
            raise PartStalledError(part.number, self.engine.stall_timeout) from error
        except httpx.HTTPError as error:
            self._add_sent(-sent)
            raise PartNetworkError(part.number, f"no response ({describe(error)})") from error
        except BaseException:
            self._add_sent(-sent)
            raise
        finally:
            self.engine.part_slots.give()
        if not 200 <= status < 300:
            self._add_sent(-sent)
        return status, answer_headers, error_body.decode("utf-8", "replace")

    def _stored_already(self, part: Part) -> str:
        """The ETag of a single PUT's object stored by an earlier attempt, if it is this part."""
        session = self.session
        assert session is not None
        for stored in self.engine.api.status(self.stop, session.signature):
            if stored["part_number"] == part.number and stored["size"] == part.size:
                etag = str(stored["etag"])
                # Signed parts were checked by the store; others by their ETag where it tells.
                if session.integrity != "etag" or self._etags_opaque():
                    return etag
                if etag_is_md5(etag, self._md5(part)):
                    return etag
        raise PartUploadError(
            part.number, 412, message=f"part {part.number}: another object is at its key"
        )

    def _md5(self, part: Part) -> str:
        return checksum_of(self.source, part, "md5", self.stop)

    def _etags_opaque(self) -> bool:
        with self.lock:
            return self.field_id in self.engine.traits.opaque_etag_fields

    # Progress.

    def _add_sent(self, count: int) -> None:
        if count:
            self._report(self.state, count)

    def _report(self, state: State, count: int = 0) -> None:
        with self.lock:
            self.sent += count
            self.state = state
            progress = Progress(self.file_name, self.sent, self.source.size, state)
        if self.on_progress is not None:
            self.on_progress(progress)


class _StoredAlready(Exception):
    """upload-parts/ says a single PUT's object is stored already."""


__all__ = ["Engine", "Progress", "ServerTraits", "UploadResult", "UploadRun"]
