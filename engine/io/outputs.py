"""Several outputs in one run (record and stream at once), encoded once.

``-o out/rec.mkv -o rtmp://host/live/key`` (or ``[output] url`` plus ``[output] also``) opens one
``SharedOutputs``: a single H.264 (+ AAC) encoder whose packets are muxed into every output, the
way OBS's "Recording: same as stream" shares the stream's encoder. Encoding is the expensive part;
a second container only costs the copying and muxing of packets (the run summary reports each
output's ``cpu_s`` beside the engine process's CPU time over the run; ``edgefx bench --only
outputs`` compares one output with two).

- The encoder writes its parameter sets once, as *global headers* (``extradata``), since Matroska,
  MP4 and FLV all want them in the stream header rather than in the packets. Every output copies
  its streams from the encoder's (``Templates``); a stream's sender process gets them as a
  packet-less FLV header (``flv_header``) and encodes nothing itself.
- When a stream is among the outputs, the shared encoder uses the stream's settings
  (``edgefx.io.stream.low_latency``: no B-frames, zerolatency, a capped bitrate), so the recording
  is exactly what went on air.
- A stream never holds up the recording: it takes packets into its own queue (``StreamSink`` relay
  mode) and drops from it when the network is slow or gone; after a drop or a reconnection it asks
  for a keyframe (``keyframe_wanted``), and the encoder makes the next frame one, so the stream
  resumes at once and the recording keeps every frame.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import av
import av.error

from edgefx.errors import ConfigError, SinkError
from edgefx.frame import Frame
from edgefx.io.info import StreamInfo
from edgefx.io.picture import encoder_frame
from edgefx.io.sink import FileSink, Sink, SinkRequest, Templates, encoder_missing, open_video_encoder
from edgefx.io.stream import StreamSink, low_latency
from edgefx.io.timestamps import OutputClock

log = logging.getLogger(__name__)

COMBINABLE = (FileSink, StreamSink)
"""Outputs that can share an encoder: files and network streams."""


def output_targets(output: dict[str, Any]) -> list[str]:
    """The ``[output]`` table's targets: ``url`` and then each of ``also``."""
    return [output["url"], *output.get("also", [])]


def check_targets(targets: Sequence[str], sink_classes: Sequence[type[Sink]]) -> None:
    """Refuse (``ConfigError``) a list of several outputs that cannot share one encoder, before
    anything is opened: only files and streams combine, each target once."""
    seen: set[str] = set()
    for target, cls in zip(targets, sink_classes, strict=True):
        if not issubclass(cls, COMBINABLE):
            raise ConfigError(f"output {target!r} ({cls.name}) cannot be combined with other outputs",
                              "several outputs (-o given twice, [output] also) must be files (.mkv, .mp4, .mov) "
                              "or stream URLs (rtmp://, srt://, udp://); use it as the only -o")
        if target in seen:
            raise ConfigError(f"output {target!r} is given twice", "give each output once")
        seen.add(target)
        if cls is FileSink:
            FileSink.check_path(target)
        else:
            StreamSink.check_url(target)


class SharedEncoder:
    """One video encoder (and one AAC encoder when the input has audio) with global headers.

    Its streams live in a ``null`` container that is never written; they are the templates the
    outputs copy and the contexts that encode."""

    def __init__(self, info: StreamInfo, request: SinkRequest) -> None:
        self._holder = av.open("null", mode="w", format="null")
        try:
            self.video = self._holder.add_stream(request.codec, rate=info.fps)
        except (av.error.FFmpegError, ValueError) as exc:
            raise encoder_missing(request.codec, exc) from None
        self.video.time_base = info.time_base
        self.video.codec_context.flags |= av.codec.context.Flags.global_header
        open_video_encoder(self.video.codec_context, request, info)
        self.audio: av.AudioStream | None = None
        if info.audio is not None:
            self.audio = self._holder.add_stream("aac", rate=info.audio.sample_rate, layout=info.audio.layout)
            self.audio.codec_context.flags |= av.codec.context.Flags.global_header
            self.audio.codec_context.open()
        self._holder.start_encoding()  # copies each context's extradata into its stream: templates complete
        self.templates = Templates(self.video, self.audio)

    def flv_header(self) -> bytes:
        """A packet-less FLV file with these streams, for a stream's sender process to copy them from."""
        buffer = io.BytesIO()
        with av.open(buffer, mode="w", format="flv") as flv:
            flv.add_stream_from_template(self.video)
            if self.audio is not None:
                flv.add_stream_from_template(self.audio)
            flv.start_encoding()
        return buffer.getvalue()


class SharedOutputs(Sink):
    """Files and streams fed by one ``SharedEncoder`` (see the module); it is one sink to the
    runner, wrapped in the output thread like any encoding sink.

    ``stats()``: ``frames_written`` (frames encoded), ``process_cpu_s`` (CPU seconds of the engine
    process, all threads, from opening to closing the outputs; the encoder's own threads are part
    of it), and ``outputs``: each output's own statistics plus ``cpu_s``, the CPU seconds its muxing
    cost on the output thread (a stream's also counts its sender process)."""

    name = "outputs"
    schemes: ClassVar[tuple[str, ...]] = ()
    output_thread = True

    @classmethod
    def open_all(cls, targets: Sequence[str], sink_classes: Sequence[type[Sink]], info: StreamInfo,
                 request: SinkRequest) -> SharedOutputs:
        """Open the encoder and every output (``check_targets`` first); on a failure, close what opened."""
        check_targets(targets, sink_classes)
        streams = any(issubclass(c, StreamSink) for c in sink_classes)
        encoder = SharedEncoder(info, low_latency(request) if streams else request)
        header = encoder.flv_header() if streams else b""
        outputs: dict[str, FileSink | StreamSink] = {}
        try:
            for target, sink_class in zip(targets, sink_classes, strict=True):
                if sink_class is FileSink:
                    outputs[target] = FileSink.open(target, info, request, encoder.templates)  # type: ignore[assignment]
                else:
                    outputs[target] = StreamSink(StreamSink.check_url(target), info, request, header=header,
                                                 extradata=encoder.video.codec_context.extradata or b"")
        except BaseException:
            for sink in outputs.values():
                sink.close()
            raise
        return cls(encoder, outputs, info)

    def __init__(self, encoder: SharedEncoder, outputs: dict[str, FileSink | StreamSink], info: StreamInfo) -> None:
        self.encoder, self.outputs, self.info = encoder, outputs, info
        self.realtime = any(isinstance(s, StreamSink) for s in outputs.values())
        self._cpu_at_open = time.process_time()
        self.process_cpu_s = 0.0
        self.cpu_s = dict.fromkeys(outputs, 0.0)
        self.keyframes_forced = 0
        """Frames made keyframes because a stream asked for one (to resume after a drop or reconnect)."""
        self.clock = OutputClock(self.info.time_base)

    @property
    def restamped(self) -> int:
        """Frames whose timestamp was not newer than the last one's and was moved just after it."""
        return self.clock.restamped

    def write(self, frame: Frame) -> None:
        pts = self.clock.video_pts(frame)
        picture = encoder_frame(frame.image, self.encoder.video.codec_context.pix_fmt)
        picture.pts, picture.time_base = pts, self.info.time_base
        if any([s.keyframe_wanted() for s in self.outputs.values() if isinstance(s, StreamSink)]):
            picture.pict_type = av.video.frame.PictureType.I
            self.keyframes_forced += 1
        self._deliver("video", self.encoder.video.encode(picture))
        self.frames_written += 1

    def write_audio(self, frame: av.AudioFrame) -> None:
        if self.encoder.audio is None:
            return
        if not self.clock.shift_audio(frame):  # sound from before the outputs' start
            return
        self._deliver("audio", self.encoder.audio.encode(frame))

    def _deliver(self, kind: str, packets: list[av.Packet]) -> None:
        for packet in packets:
            for target, sink in self.outputs.items():
                t0 = time.thread_time()
                sink.write_packet(kind, packet)
                self.cpu_s[target] += time.thread_time() - t0

    def close(self) -> None:
        """Flush the encoders into every output, then close each (all of them, also when one fails)."""
        failure: BaseException | None = None
        try:
            self._deliver("video", self.encoder.video.encode(None))
            if self.encoder.audio is not None:
                self._deliver("audio", self.encoder.audio.encode(None))
        except SinkError as exc:
            failure = exc
        for sink in self.outputs.values():
            try:
                sink.close()
            except SinkError as exc:
                failure = failure or exc
        self.process_cpu_s = time.process_time() - self._cpu_at_open
        if failure is not None:
            raise failure

    def stats(self) -> dict[str, Any]:
        outputs = {}
        for target, sink in self.outputs.items():
            st = sink.stats()
            outputs[target] = {**st, "cpu_s": round(self.cpu_s[target] + st.get("sender_cpu_s", 0.0), 3)}
        return {"frames_written": self.frames_written, "restamped": self.clock.restamped,
                "process_cpu_s": round(self.process_cpu_s, 3), "keyframes_forced": self.keyframes_forced,
                "outputs": outputs}
