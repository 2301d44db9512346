"""edgefx: a plugin-based real-time video effects engine for edge devices.

The public API for plugin authors lives here::

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

from importlib.metadata import PackageNotFoundError, version

import pluggy

from edgefx.contract import Analyzer, Effect, Layer
from edgefx.events import Event, EventBus
from edgefx.frame import Frame, FrameContext
from edgefx.io.info import AudioInfo, StreamInfo
from edgefx.options import Option

hookimpl = pluggy.HookimplMarker("edgefx")

try:
    __version__ = version("edgefx")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [
    "Analyzer", "AudioInfo", "Effect", "Event", "EventBus", "Frame", "FrameContext", "Layer",
    "Option", "StreamInfo", "__version__", "hookimpl",
]
