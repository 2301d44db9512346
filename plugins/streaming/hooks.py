"""Plugin hooks of ``streaming``: the network and virtual-camera sinks and the benchmark."""

from __future__ import annotations

from edgefx import hookimpl


@hookimpl
def edgefx_sinks():
    from edgefx.io.stream import StreamSink
    from edgefx.io.vcam import PyVirtualCamSink, V4l2Sink
    return [StreamSink, V4l2Sink, PyVirtualCamSink]


@hookimpl
def edgefx_benchmarks():
    from edgefx.bench import Benchmark
    from edgefx.plugins.streaming.bench import bench_stream_sink
    return [Benchmark("stream_sink", bench_stream_sink, "network output: loop-side write cost vs a file, sent/dropped")]
