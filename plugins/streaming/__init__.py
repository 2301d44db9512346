"""Built-in streamer outputs: RTMP/SRT/UDP network streams and virtual cameras (v4l2loopback,
pyvirtualcam), and the ``stream_sink`` benchmark."""

from edgefx.plugins.streaming.hooks import edgefx_benchmarks, edgefx_sinks

__all__ = ["edgefx_benchmarks", "edgefx_sinks"]
