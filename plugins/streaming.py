"""Built-in streamer outputs: RTMP/SRT/UDP network streams and the v4l2 virtual camera."""

from edgefx import hookimpl
from edgefx.io.stream import StreamSink


@hookimpl
def edgefx_sinks():
    return [StreamSink]
