"""Stopping on SIGINT/SIGTERM/SIGHUP even when a plugin never returns.

The first signal sets the run's ``stop``: the loop ends after the frame it is on, the output is
finished and the run ends as usual (exit 130). When the output is not finished ``grace`` seconds
later (a plugin stuck in its call, e.g. ``time.sleep(1000)``, or a ``close()`` that never
returns), the watchdog finishes the output itself from its own thread and ends the process at
once (exit 130), naming the plugin the loop was waiting for. A second signal does that without
waiting. While the run itself is finishing the output (rewriting a fragmented MP4 into an ordinary
one can take a few seconds for a long recording) the watchdog lets it; a second signal then exits
at once and the fragmented file, which plays, stays.

How: the signals' C-level handler writes their number to a pipe (``signal.set_wakeup_fd``) and the
watchdog thread reads it, so it reacts even while the main thread is stuck inside a plugin. The
output is written and finished under ``lock``, so the watchdog never closes it in the middle of a
frame; ``close_output`` finishes it exactly once, whoever comes first.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

log = logging.getLogger("edgefx.runtime.runner")

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
"""Signals that finish the output and end the run (SIGHUP: the ssh session closed)."""
INTERRUPTED = 130
"""The exit status after a stop by signal (128 + SIGINT, like a shell)."""
_DONE = 0  # the byte ``done`` writes to the pipe: no signal has number 0


class Watchdog:
    """Watches for stop signals during one run (a context manager; does nothing off the main thread).

    ``output``: the open sink once there is one; ``busy``: names the plugin the loop is in (or None).
    """

    def __init__(self, stop: threading.Event, lock: threading.Lock, busy: Callable[[], str | None],
                 grace: float = 1.0) -> None:
        self.stop, self.lock, self.busy, self.grace = stop, lock, busy, grace
        self.output: Any = None
        self.closed = False
        self.signal_name = ""
        self._pipe: tuple[int, int] | None = None
        self._thread: threading.Thread | None = None
        self._previous: dict[int, Any] = {}
        self._previous_fd = -1

    # -- the run's side ----------------------------------------------------------------------------
    def __enter__(self) -> Watchdog:
        if threading.current_thread() is not threading.main_thread():
            return self
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        self._pipe = (read_end, write_end)
        self._previous = {sig: signal.signal(sig, _noted) for sig in SIGNALS}
        self._previous_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        self._thread = threading.Thread(target=self._watch, name="edgefx-watchdog", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._pipe is None:
            return
        os.write(self._pipe[1], bytes([_DONE]))
        self._thread.join()
        signal.set_wakeup_fd(self._previous_fd)
        for sig, old in self._previous.items():
            signal.signal(sig, old)
        for fd in self._pipe:
            os.close(fd)
        self._pipe = None

    def close_output(self) -> None:
        """Finish the output (once; under the lock the loop writes under)."""
        with self.lock:
            if self.output is not None and not self.closed:
                self.closed = True
                self.output.close()

    # -- the watchdog thread -----------------------------------------------------------------------
    def _watch(self) -> None:
        deadline: float | None = None
        finishing = False
        while True:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self._pipe[0]], [], [], timeout)
            if not ready:
                if self.closed and self.lock.locked():  # the run is finishing the output (an index rewrite)
                    if not finishing:
                        log.warning("still finishing the output; a second signal stops now (the file plays as it is)")
                    finishing, deadline = True, time.monotonic() + self.grace
                    continue
                self._finish_and_exit(f"the run did not end within {self.grace:g} s of {self.signal_name}")
            for number in os.read(self._pipe[0], 64):
                if number == _DONE:
                    return
                if number not in SIGNALS:
                    continue
                if deadline is None:
                    self.signal_name = signal.Signals(number).name
                    log.warning("%s received: finishing the output (a second signal exits at once)", self.signal_name)
                    self.stop.set()
                    deadline = time.monotonic() + self.grace
                else:
                    self._finish_and_exit(f"a second signal ({signal.Signals(number).name})")

    def _finish_and_exit(self, why: str) -> None:
        """Finish the output if the run has not, say why, and end the process (exit 130)."""
        busy = self.busy()
        stuck = f"; plugin {busy} had not returned" if busy else "; no plugin was running (waiting for the input?)"
        got = self.lock.acquire(timeout=0.5)  # the loop may be handing a frame to the output
        try:
            if self.output is not None and not self.closed:
                self.closed = True
                if got:
                    self.output.close()
                    written = getattr(self.output, "frames_written", "?")
                    log.error("stopping now: %s%s; the output was finished with %s frames", why, stuck, written)
                else:
                    log.error("stopping now: %s%s; the output was busy and could not be finished", why, stuck)
            elif self.output is None:
                log.error("stopping now: %s%s; the output had not been opened yet", why, stuck)
            else:
                log.error("stopping now: %s%s; the output was already finished", why, stuck)
        except Exception as exc:  # exiting anyway: say what went wrong
            log.error("stopping now: %s%s; finishing the output failed: %s", why, stuck, exc)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(INTERRUPTED)


def _noted(signum: int, frame: object) -> None:
    """The Python-level handler: nothing to do here, the watchdog thread got the signal from the pipe."""
