"""Built-in inputs and outputs: files, URLs, cameras, test patterns, the demo; files, null, preview."""

from edgefx import hookimpl
from edgefx.io.demo import DemoSource
from edgefx.io.inputs import CameraSource, FileSource, TestPatternSource, URLSource
from edgefx.io.preview import PreviewSink
from edgefx.io.sink import FileSink, NullSink


@hookimpl
def edgefx_sources():
    return [FileSource, URLSource, CameraSource, TestPatternSource, DemoSource]


@hookimpl
def edgefx_sinks():
    return [FileSink, NullSink, PreviewSink]
