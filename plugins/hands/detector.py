"""BlazePalm palm detection on a whole frame, as MediaPipe's ``palm_detection`` graph runs it.

Letterboxed 192x192 RGB input in [0, 1], 2016 SSD anchors, 7 keypoints per palm (0 wrist centre,
1 index MCP, 2 middle MCP, 3 ring MCP, 4 pinky MCP, 5 thumb CMC, 6 thumb MCP), weighted NMS.
"""

from __future__ import annotations

import cv2
import numpy as np

from edgefx.vision.ssd import Detection, DetectorSpec, SsdDetector, letterbox

PALM_LITE = DetectorSpec("palm_detection_lite", 192, (8, 16, 16, 16), 2, 0.5)
PALM_FULL = DetectorSpec("palm_detection_full", 192, (8, 16, 16, 16), 2, 0.5)
SPECS = {"lite": PALM_LITE, "full": PALM_FULL}
NUM_KEYPOINTS = 7


class PalmDetector(SsdDetector):
    """``detect(image)`` returns the palms of a frame, best first."""

    keypoints = NUM_KEYPOINTS

    def __init__(self, model: str = "lite", threads: int = 1, min_score: float | None = None) -> None:
        super().__init__(SPECS[model], threads, min_score)

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Palms in ``image`` (HxWx3 uint8 BGR)."""
        return self.infer(self.prepare(image))

    def prepare(self, image: np.ndarray) -> tuple[float, float, float]:
        """Letterbox ``image`` into the model's input tensor; returns the scale and padding for
        ``infer``. Split from ``infer`` so the model can run on another thread without a frame copy."""
        scale, px, py = letterbox(image, self.canvas, "warp")
        rgb = cv2.cvtColor(self.canvas, cv2.COLOR_BGR2RGB)
        np.divide(rgb, np.float32(255.0), out=self.model.input_tensor()[0], dtype=np.float32)
        return scale, px, py

    def infer(self, placement: tuple[float, float, float]) -> list[Detection]:
        """Run the model on the prepared input; palms in frame pixels."""
        raw, logits = self.model.invoke()
        return self.detections(raw, logits, placement)
