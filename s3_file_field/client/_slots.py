"""The bound on part PUTs in flight over all of a client's uploads.

All of them at once: the TypeScript client's adaptive rule (begin with 2, double while it pays)
settled at 2 on a capped link here, measuring bytes as they are handed to sockets whose
buffers fill first (benchmarks/README.md, "Python client").
"""

from __future__ import annotations

import threading

from ._retry import StopFlag
from .errors import UploadCancelledError


class PartSlots:
    """At most `most` part PUTs at once; threads wait their turn, and stop waiting when their
    upload stops."""

    def __init__(self, most: int) -> None:
        self.most = most
        self.running = 0
        self.condition = threading.Condition()

    def take(self, stop: StopFlag) -> None:
        with self.condition:
            while self.running >= self.most:
                if stop.is_set():
                    raise UploadCancelledError
                self.condition.wait(0.1)
            self.running += 1

    def give(self) -> None:
        with self.condition:
            self.running -= 1
            self.condition.notify()
