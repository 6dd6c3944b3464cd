"""How failed requests are tried again: tenacity, with full jitter and the server's Retry-After.

tenacity rather than a loop of our own: its stop, wait and retry strategies compose, and it
is the retry library Python projects already trust (pip's dependency resolver's neighbours,
OpenStack, many SDKs).
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

from .errors import (
    PartChecksumError,
    PartNetworkError,
    PartUploadError,
    UploadCancelledError,
    is_transient,
)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    # Attempts after the first one.
    retries: int
    # Upper bound of the first wait, in seconds; it doubles on every further retry.
    base_delay: float
    # No wait is longer, whatever the attempt or a Retry-After asks.
    max_delay: float
    # Injected by tests: the uniform draw in [0, 1) of the jitter, and the wait itself.
    random: Callable[[], float]
    sleep: Callable[[float], None] | None = None


class StopFlag:
    """Set by the upload itself (a part failed for good) or by the caller's cancel event."""

    def __init__(self, cancel: threading.Event | None = None) -> None:
        self._own = threading.Event()
        self._cancel = cancel

    def set(self) -> None:
        self._own.set()

    def is_set(self) -> bool:
        return self._own.is_set() or (self._cancel is not None and self._cancel.is_set())

    def wait(self, seconds: float) -> bool:
        """Waits up to `seconds` for the flag; whether it is set. Polls the caller's event."""
        deadline = time.monotonic() + seconds
        while not self.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._own.wait(min(left, 0.1) if self._cancel is not None else left)
        return True


@dataclass(frozen=True)
class RetryInfo:
    """Told before each wait, for logging: what is retried, the how-many-th time, for how long."""

    operation: str
    retry_number: int
    delay: float
    error: BaseException


def retry_after_seconds(header: str | None, now: float | None = None) -> float | None:
    """Retry-After as delta-seconds or an HTTP date, in seconds from now."""
    if header is None or not header.strip():
        return None
    text = header.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def part_retryable(error: BaseException) -> bool:
    """Whether a part attempt's failure is worth another. Altered on the way (our ETag check,
    a store's BadDigest): the next attempt has the store check the bytes. API errors met on
    the way (signing its URL) are not: their own call did its retries."""
    if isinstance(error, PartChecksumError):
        return True
    if isinstance(error, PartUploadError) and error.store_code == "BadDigest":
        return True
    return isinstance(error, PartNetworkError | PartUploadError) and is_transient(error)


def run_with_retries(
    operation: str,
    policy: RetryPolicy,
    stop: StopFlag,
    attempt: Callable[[], T],
    retryable: Callable[[BaseException], bool],
    on_retry: Callable[[RetryInfo], None] | None = None,
) -> T:
    """Runs `attempt` until it succeeds, fails for good, the retries are spent, or `stop` is
    set (then UploadCancelledError). The last error is raised as it is."""

    def wait(state: tenacity.RetryCallState) -> float:
        # Full jitter: a uniform wait in [0, min(max, base * 2^(n-1))), so that parts (or
        # clients) that failed together do not come back together.
        ceiling = min(policy.max_delay, policy.base_delay * 2 ** (state.attempt_number - 1))
        delay: float = policy.random() * ceiling
        error = state.outcome.exception() if state.outcome else None
        asked = getattr(error, "retry_after", None)
        floor = float(asked) if isinstance(asked, int | float) else 0.0
        return min(policy.max_delay, max(delay, floor))

    def sleep(seconds: float) -> None:
        if policy.sleep is not None:
            policy.sleep(seconds)
        if stop.wait(0 if policy.sleep is not None else seconds):
            raise UploadCancelledError

    def tell(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        if on_retry is not None and error is not None:
            delay = state.next_action.sleep if state.next_action else 0.0
            on_retry(RetryInfo(operation, state.attempt_number, delay, error))

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.retries + 1),
        wait=wait,
        retry=tenacity.retry_if_exception(lambda error: retryable(error) and not stop.is_set()),
        sleep=sleep,
        before_sleep=tell,
        reraise=True,
    )
    return retrying(attempt)


__all__ = [
    "RetryInfo",
    "RetryPolicy",
    "StopFlag",
    "part_retryable",
    "retry_after_seconds",
    "run_with_retries",
]
