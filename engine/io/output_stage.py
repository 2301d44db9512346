"""The output stage: convert, encode and write on a thread of its own, so the loop renders the
next frame while this one is encoded (PyAV releases the GIL while FFmpeg converts and encodes;
``edgefx bench --only pipeline`` measures it).

The loop hands each finished frame over through a one-slot ``Handoff``:

- **live input** (camera, network, paced demo): the newest frame wins. A frame still waiting
  when the next arrives is dropped and counted (``handoff_dropped``); a live picture never
  queues behind a slow encoder.
- **file input**: the slot is bounded. The loop waits for it to empty, so no frame is lost and
  the output is the same frame for frame as with the stage off.

The frame's array changes owner, it is not copied: the source decodes each frame into a new
array and nothing draws on it after the sink. Audio goes through the same handoff, in order
with the video (one thread muxes), and is never dropped.

A write that fails on the output thread (a full disk) is raised on the loop thread by the next
``write`` or by ``close``, once. ``close`` lets the thread finish what was handed over, then
closes the wrapped sink, so a stop by signal (``edgefx.runtime.watchdog``) still leaves a playable file.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any

import av

from edgefx.frame import Frame
from edgefx.io.sink import Sink
from edgefx.runtime.metrics import Distribution

log = logging.getLogger(__name__)

AUDIO_BACKLOG = 64
"""Audio frames the handoff holds at most before the loop waits (audio is never dropped)."""


class Handoff:
    """A one-slot handoff for video frames (plus the audio frames between them), from one
    producer to one consumer. ``live``: newest wins (the waiting frame is dropped and counted);
    otherwise ``put`` waits for the slot."""

    def __init__(self, live: bool) -> None:
        self.live = live
        self.dropped = 0
        """Video frames replaced by a newer one before the consumer took them (live only)."""
        self.wait = Distribution()
        """Per video frame: ms the producer waited for the slot (file input only)."""
        self._items: deque[Any] = deque()
        self._video_waiting = 0
        self._cond = threading.Condition()
        self._closed = False

    def put(self, item: Frame | av.AudioFrame) -> None:
        """Hand ``item`` over (see the class)."""
        with self._cond:
            if isinstance(item, Frame):
                if self.live and self._video_waiting:
                    self._drop_waiting_video()
                else:
                    t0 = time.perf_counter()
                    while self._video_waiting and not self._closed:
                        self._cond.wait()
                    self.wait.add((time.perf_counter() - t0) * 1000.0)
                self._video_waiting += 1
            else:
                while len(self._items) >= AUDIO_BACKLOG and not self._closed:
                    self._cond.wait()
            self._items.append(item)
            self._cond.notify_all()

    def _drop_waiting_video(self) -> None:
        """Newest wins: take out the video frame still waiting (the audio around it stays)."""
        for i, queued in enumerate(self._items):
            if isinstance(queued, Frame):
                del self._items[i]
                self._video_waiting -= 1
                self.dropped += 1
                return

    def get(self) -> Frame | av.AudioFrame | None:
        """The next item, waiting for one; ``None`` after ``close`` once everything was taken."""
        with self._cond:
            while not self._items and not self._closed:
                self._cond.wait()
            if not self._items:
                return None
            item = self._items.popleft()
            if isinstance(item, Frame):
                self._video_waiting -= 1
            self._cond.notify_all()
            return item

    def close(self) -> None:
        """No more items: ``get`` returns what is left, then ``None``; a waiting ``put`` returns."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class OutputStage(Sink):
    """Wraps a sink so its ``write`` / ``write_audio`` run on the output thread (see the module).

    ``stats()`` adds ``handoff_dropped`` and ``output_stage`` (per-frame ms of the wrapped
    sink's write, i.e. convert + encode + mux, and of the loop's wait for the slot). Any other
    attribute is the wrapped sink's (a stream's ``reconnects``, a file's ``path``)."""

    realtime = False

    def __init__(self, inner: Sink, live: bool) -> None:
        self.inner = inner
        self.name = f"{inner.name} (output thread)"
        self.handoff = Handoff(live)
        self.encode_ms = Distribution()
        """Per video frame: ms of the wrapped sink's ``write`` on the output thread."""
        self._error: BaseException | None = None
        self._raised = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"output:{inner.name}", daemon=True)
        self._thread.start()

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not set yet
            raise AttributeError(name)
        return getattr(self.inner, name)

    @property
    def frames_written(self) -> int:  # type: ignore[override]
        return self.inner.frames_written

    # -- loop thread -------------------------------------------------------------------------------
    def write(self, frame: Frame) -> None:
        self._raise_failure()
        self.handoff.put(frame)

    def write_audio(self, frame: av.AudioFrame) -> None:
        self._raise_failure()
        self.handoff.put(frame)

    def close(self) -> None:
        """Finish what was handed over, close the wrapped sink; raise a failure not yet raised."""
        if self._closed:
            return
        self._closed = True
        self.handoff.close()
        self._thread.join()
        try:
            self.inner.close()
        finally:
            self._raise_failure()

    def stats(self) -> dict[str, Any]:
        return {**self.inner.stats(), "handoff_dropped": self.handoff.dropped,
                "output_stage": {"encode_ms": self.encode_ms.summary(), "wait_ms": self.handoff.wait.summary()}}

    def _raise_failure(self) -> None:
        if self._error is not None and not self._raised:
            self._raised = True
            raise self._error

    # -- output thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        while (item := self.handoff.get()) is not None:
            if self._error is not None:
                continue  # the output is broken (and finished by the sink): what follows is not written
            try:
                if isinstance(item, Frame):
                    t0 = time.perf_counter()
                    self.inner.write(item)
                    self.encode_ms.add((time.perf_counter() - t0) * 1000.0)
                else:
                    self.inner.write_audio(item)
            except BaseException as exc:  # raised on the loop thread by its next write or close
                log.debug("output thread: writing failed", exc_info=exc)
                self._error = exc
