"""Built-in streamer outputs: RTMP/SRT/UDP network streams and virtual cameras (v4l2loopback, pyvirtualcam)."""

from edgefx import hookimpl
from edgefx.io.stream import StreamSink
from edgefx.io.vcam import PyVirtualCamSink, V4l2Sink


@hookimpl
def edgefx_sinks():
    return [StreamSink, V4l2Sink, PyVirtualCamSink]
