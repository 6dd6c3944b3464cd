"""`wait_until`, the readiness wait of every server the tests and benchmarks start, on a fake
clock: no test here waits."""

from __future__ import annotations

import pytest
import requests

from tests.harness.seaweedfs import StopWaiting, wait_until


class FakeClock:
    """A clock that moves only when the wait sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = 0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps += 1
        self.now += seconds


def probe_answering(answers):
    """A probe that gives (or raises) each of `answers` in turn."""
    remaining = iter(answers)

    def probe():
        answer = next(remaining)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return probe


def test_any_error_means_not_ready_yet():
    clock = FakeClock()
    probe = probe_answering(
        [
            requests.ConnectionError("refused"),
            requests.ReadTimeout("read timed out"),
            RuntimeError("anything else"),
            None,
            "ready",
        ]
    )
    assert wait_until(probe, timeout=10, what="a server", clock=clock, sleep=clock.sleep) == (
        "ready"
    )
    assert clock.sleeps == 4


def test_the_timeout_names_what_and_chains_the_last_error():
    clock = FakeClock()
    last = requests.ReadTimeout("read timed out")
    # Tried at the start and after each interval up to the deadline: five times.
    probe = probe_answering([requests.ConnectionError("refused")] * 4 + [last, "too late"])
    with pytest.raises(TimeoutError, match=r"gunicorn at x not ready within 1 s") as raised:
        wait_until(
            probe, timeout=1, what="gunicorn at x", interval=0.25, clock=clock, sleep=clock.sleep
        )
    assert raised.value.__cause__ is last
    assert "ReadTimeout" in str(raised.value)
    assert clock.sleeps == 4


def test_stop_waiting_ends_the_wait_at_once():
    clock = FakeClock()
    probe = probe_answering([None, StopWaiting("it exited"), "never asked"])
    with pytest.raises(StopWaiting, match="it exited"):
        wait_until(probe, timeout=10, what="a server", clock=clock, sleep=clock.sleep)
    assert clock.sleeps == 1
