"""Progress reporting and cancellation for long work, shared by the CLI, the GUI workers and tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Optional

from qatt.errors import Cancelled

# A progress callback receives (done, total, message); total may be 0 when unknown.
ProgressFn = Callable[[int, int, str], None]


@dataclass
class CancelToken:
    """A flag the caller sets (from any thread) to ask long work to stop at its next checkpoint."""

    _event: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled()


def no_progress(done: int, total: int, message: str) -> None:
    """The default progress callback: report nothing."""


def checkpoint(cancel: Optional[CancelToken]) -> None:
    if cancel is not None:
        cancel.check()
