"""A deadline that stops an analysis in whichever thread runs it.

SIGALRM reaches only the main thread, and sqlglot (compiled by mypyc) offers no hook to look
at a clock. Instead one watchdog thread raises :class:`DeadlineExceeded` in a thread still
running past its deadline, through ``PyThreadState_SetAsyncExc``. Python delivers it where it
would run a signal handler: at the next interpreted bytecode, which sqlglot's compiled code
reaches often. Work that never returns to bytecode (one regex match, one C call) is not
interrupted, which is why the text scanning around it is kept linear and the input bounded.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_RETRY_S = 0.05  # raised again this often until the thread leaves, in case it was swallowed
_GIVE_UP_S = 5.0  # past its deadline by this much, a thread is no longer interrupted


class DeadlineExceeded(BaseException):
    """Analysis ran past the statement's time budget. A BaseException, like asyncio's
    CancelledError, so that ``except Exception`` inside a library does not swallow it."""


def _raise_in(thread_id: int, exception: type[BaseException] | None) -> None:
    """Schedule ``exception`` in the thread, or with ``None`` cancel one not yet delivered."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception) if exception else None
    )


class _Watchdog:
    """One daemon thread for the whole process, waking at the earliest armed deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: dict[int, float] = {}  # thread id -> monotonic deadline
        self._fired: set[int] = set()  # threads with an exception scheduled
        self._expires: dict[int, float] = {}  # thread id -> when re-raising stops
        self._wake: float | None = None  # when the watchdog looks next; None: when notified
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float) -> None:
        with self._cond:
            self._due[threading.get_ident()] = deadline
            self._expires[threading.get_ident()] = deadline + _GIVE_UP_S
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="lineage-deadline", daemon=True
                )
                self._thread.start()
            if self._wake is None or deadline < self._wake:  # else it looks in time anyway
                self._cond.notify()

    def disarm(self) -> None:
        """After this returns no exception from this deadline can reach the thread (one not
        yet delivered is cancelled). One may still arrive before the lock is taken:
        ``deadline()`` calls this again until it returns."""
        ident = threading.get_ident()
        with self._cond:
            self._due.pop(ident, None)
            self._expires.pop(ident, None)
            if ident in self._fired:
                self._fired.discard(ident)
                _raise_in(ident, None)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for ident, due in list(self._due.items()):
                    if self._expires.get(ident, now) < now:  # never disarmed: stop, not forever
                        del self._due[ident]
                        self._expires.pop(ident, None)
                    elif due <= now:
                        _raise_in(ident, DeadlineExceeded)
                        self._fired.add(ident)
                        self._due[ident] = now + _RETRY_S
                self._wake = min(self._due.values(), default=None)
                self._cond.wait(None if self._wake is None else max(self._wake - now, 0.0))


_WATCHDOG = _Watchdog()


def _after_fork() -> None:
    """A forked child has no watchdog thread, and its lock may have been held at the fork."""
    global _WATCHDOG
    _WATCHDOG = _Watchdog()


os.register_at_fork(after_in_child=_after_fork)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`DeadlineExceeded` in this thread if the block runs over ``seconds``
    (one deadline per thread at a time: they do not nest)."""
    if seconds <= 0:
        yield
        return
    late = False
    try:  # arming is inside: an exception arriving in arm() still disarms
        _WATCHDOG.arm(time.monotonic() + seconds)
        yield
    finally:
        while True:  # an exception may land on the way into disarm(): disarm again
            try:
                _WATCHDOG.disarm()
                break
            except DeadlineExceeded:
                late = True
    if late:
        raise DeadlineExceeded
