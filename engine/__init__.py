"""edgefx: a plugin-based real-time video effects engine for edge devices.

Everything a plugin may use is exported here: the base classes (``Analyzer``, ``Effect``,
``Source``, ``Sink``, ``Benchmark``), ``Option``, ``Frame``, ``Event`` and the typed results other
plugins publish (``Face``, ``Hand``, ``PersonMask``, ``Saber``, from ``edgefx.results``)::

    import edgefx

    class Invert(edgefx.Effect):
        name = "invert"
        layer = edgefx.Layer.OVERLAY

        def apply(self, frame, ctx):
            frame.image[...] = 255 - frame.image

    @edgefx.hookimpl
    def edgefx_effects():
        return [Invert]
"""

import pluggy

from edgefx.bench import Benchmark, BenchSettings
from edgefx.contract import Analyzer, Effect, Layer
from edgefx.events import Event, EventBus
from edgefx.frame import Frame, FrameContext
from edgefx.io.info import AudioInfo, StreamInfo
from edgefx.io.recording import EDGEFX_VERSION
from edgefx.io.sink import Sink, SinkRequest
from edgefx.io.source import Source, SourceRequest
from edgefx.options import Option
from edgefx.results import Face, Hand, PersonMask, Saber

hookimpl = pluggy.HookimplMarker("edgefx")
__version__ = EDGEFX_VERSION  # found once, where recordings are stamped with it

__all__ = [
    "Analyzer", "AudioInfo", "BenchSettings", "Benchmark", "Effect", "Event", "EventBus", "Face", "Frame",
    "FrameContext", "Hand", "Layer", "Option", "PersonMask", "Saber", "Sink", "SinkRequest", "Source",
    "SourceRequest", "StreamInfo", "__version__", "hookimpl",
]
