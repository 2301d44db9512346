"""The ``particles`` effect: snow, sparks, confetti or hearts, simulated in NumPy arrays and stamped
as small pre-rendered sprites (one gather/blend/scatter per sprite size, no per-particle Python).

Off until a trigger (or ``always_on``) switches it on; switched off, it stops spawning and the
particles in flight finish their fall. On ``behind_person`` it draws before the person layer, where
``person_front`` (person plugin) pastes the person back over it.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from edgefx.contract import Effect, Layer
from edgefx.frame import Frame, FrameContext
from edgefx.io.info import StreamInfo
from edgefx.options import Option
from edgefx.plugins.particles.kinds import KINDS, SIZE_BUCKETS, Kind, area_share, sprite

LEVEL_SHARE = {"full": 1.0, "half": 0.5, "quarter": 0.25}
"""Share of ``max`` particles alive at each quality level."""


class Particles(Effect):
    """Falling or rising particles; ``kind``, ``max``, ``rate`` and ``size`` may change while running."""

    name = "particles"
    layer = Layer.FOREGROUND
    levels = tuple(LEVEL_SHARE)
    expected_ms: ClassVar[float | None] = 3.0
    options: ClassVar[dict[str, Option]] = {
        "kind": Option("snow", "what falls or rises", choices=tuple(KINDS)),
        "layer": Option("foreground", "draw over everything, or behind the person (add the person_front effect)",
                        choices=("foreground", "behind_person")),
        "max": Option(300, "most particles alive at once at full quality, counted in snowflakes "
                            "(bigger kinds get fewer: same drawing cost)", min=1, max=5000),
        "rate": Option(0.0, "particles spawned per second (0 = the kind's own rate)", min=0.0, max=5000.0),
        "size": Option(1.0, "sprite size factor", min=0.2, max=5.0),
        "always_on": Option(False, "start switched on (else a trigger switches it on)"),
        "seed": Option(0, "random seed (0 = a different run each time)", min=0),
    }

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.enabled = self.settings["always_on"]
        if self.settings["layer"] == "behind_person":
            self.layer = Layer.BEHIND_PERSON
        self.rng = np.random.default_rng(self.settings["seed"] or None)
        cap = self.settings["max"]
        self.pos = np.zeros((cap, 2), np.float32)
        self.vel = np.zeros((cap, 2), np.float32)
        self.age = np.zeros(cap, np.float32)
        self.life = np.zeros(cap, np.float32)
        self.phase = np.zeros(cap, np.float32)
        self.bucket = np.zeros(cap, np.int8)
        self.color = np.zeros((cap, 3), np.float32)
        self.count = 0
        self._spawn_debt = 1.0  # switched on, the first particle shows on the first frame
        self._last_t: float | None = None
        self._sprites: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._sprite_key: tuple[str, int, float] | None = None

    def start(self, stream: StreamInfo | None = None) -> None:
        self._last_t = None

    def option_changed(self, key: str) -> None:
        """A new ``kind``: the particles in flight take its colours at once (its sprite is drawn from
        the next frame); they keep their paths, so the change does not jump."""
        if key == "kind" and self.count:
            colors = np.asarray(self.kind.colors, np.float32)
            self.color[:self.count] = colors[self.rng.integers(0, len(colors), self.count)]

    def set_enabled(self, enabled: bool) -> None:
        if enabled and not self.enabled:
            self._spawn_debt = max(self._spawn_debt, 1.0)
        self.enabled = enabled

    @property
    def active(self) -> bool:
        return self.enabled or self.count > 0

    @property
    def kind(self) -> Kind:
        return KINDS[self.settings["kind"]]

    # -- simulation ----------------------------------------------------------------------------------
    def _scale(self, h: int) -> float:
        return h / 720.0

    def _capacity(self) -> int:
        """Particles allowed now; the arrays grow when ``max`` was raised while running."""
        cap = self.settings["max"]
        if cap > len(self.age):
            for name in ("pos", "vel", "age", "life", "phase", "bucket", "color"):
                old = getattr(self, name)
                grown = np.zeros((cap, *old.shape[1:]), old.dtype)
                grown[:len(old)] = old
                setattr(self, name, grown)
        return max(1, round(cap * LEVEL_SHARE[self.level] * area_share(self.kind)))

    def _spawn(self, dt: float, w: int, h: int) -> None:
        kind, s = self.kind, self._scale(h)
        self._spawn_debt += (self.settings["rate"] or kind.rate) * dt
        n = min(int(self._spawn_debt), self._capacity() - self.count)
        self._spawn_debt -= int(self._spawn_debt)
        if n <= 0:
            return
        sl = slice(self.count, self.count + n)
        rng = self.rng
        margin = kind.size[1] * s * self.settings["size"]
        self.pos[sl, 0] = rng.uniform(0, w, n)
        edge = rng.uniform(0, margin * 0.5, n)  # the sprite's edge shows on the first frame
        self.pos[sl, 1] = -edge if kind.from_top else h + edge
        self.vel[sl, 0] = rng.uniform(-0.3, 0.3, n) * kind.sway * s
        self.vel[sl, 1] = rng.uniform(*kind.speed, n) * s
        self.age[sl] = 0
        self.life[sl] = rng.uniform(*kind.life, n) if kind.life[1] else np.inf
        self.phase[sl] = rng.uniform(0, 2 * np.pi, n)
        self.bucket[sl] = rng.integers(0, SIZE_BUCKETS, n)
        self.color[sl] = np.asarray(kind.colors, np.float32)[rng.integers(0, len(kind.colors), n)]
        self.count += n

    def _step(self, dt: float, w: int, h: int) -> None:
        kind, s, n = self.kind, self._scale(h), self.count
        pos, vel = self.pos[:n], self.vel[:n]
        vel[:, 1] += kind.gravity * s * dt
        sway = np.sin(self.phase[:n] + self.age[:n] * 1.7) * kind.sway * s
        pos[:, 0] += (vel[:, 0] + sway) * dt
        pos[:, 1] += vel[:, 1] * dt
        self.age[:n] += dt
        margin = kind.size[1] * s * self.settings["size"] * 2
        alive = (self.age[:n] < self.life[:n]) & (pos[:, 1] > -margin - 1) & (pos[:, 1] < h + margin)
        alive &= (pos[:, 0] > -margin) & (pos[:, 0] < w + margin)
        if not alive.all():
            keep = np.flatnonzero(alive)
            for arr in (self.pos, self.vel, self.age, self.life, self.phase, self.bucket, self.color):
                arr[:keep.size] = arr[keep]
            self.count = keep.size

    # -- drawing ---------------------------------------------------------------------------------------
    def _sprite_set(self, h: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per size bucket: the (dy, dx) offsets from the centre of the sprite's visible pixels and their alpha."""
        key = (self.kind.sprite, h, self.settings["size"])
        if key != self._sprite_key:
            lo, hi = self.kind.size
            s = self._scale(h) * self.settings["size"]
            self._sprites = []
            for b in range(SIZE_BUCKETS):
                alpha = sprite(self.kind.sprite, round((lo + (hi - lo) * b / max(1, SIZE_BUCKETS - 1)) * s))
                dy, dx = np.nonzero(alpha > 0.02)
                half = alpha.shape[0] // 2
                self._sprites.append(((dy - half)[None, :], (dx - half)[None, :], alpha[dy, dx][None, :]))
            self._sprite_key = key
        return self._sprites

    def _opacity(self) -> np.ndarray:
        """Per-particle opacity: fade out near the end of life; confetti flickers as it tumbles."""
        n, kind = self.count, self.kind
        out = np.ones(n, np.float32)
        finite = np.isfinite(self.life[:n])
        if finite.any():
            left = (self.life[:n][finite] - self.age[:n][finite]) / np.maximum(self.life[:n][finite], 1e-3)
            out[finite] = np.clip(left * 3.0, 0.0, 1.0)
        if kind.spin:
            out *= 0.45 + 0.55 * np.abs(np.cos(self.phase[:n] + self.age[:n] * kind.spin))
        return out

    def _draw(self, image: np.ndarray) -> None:
        h, w = image.shape[:2]
        opacity, additive = self._opacity(), self.kind.additive
        flat = image.reshape(-1, 3)
        for b, (dy, dx, alpha) in enumerate(self._sprite_set(h)):
            idx = np.flatnonzero(self.bucket[:self.count] == b)
            if idx.size == 0:
                continue
            ys = np.rint(self.pos[idx, 1]).astype(np.int32)[:, None] + dy
            xs = np.rint(self.pos[idx, 0]).astype(np.int32)[:, None] + dx
            inside = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
            rows, _cols = np.nonzero(inside)
            a = (alpha * opacity[idx, None])[inside][:, None]
            color = self.color[idx[rows]]
            where = ys[inside] * w + xs[inside]
            px = flat[where].astype(np.float32)
            px = np.minimum(px + a * color, 255.0) if additive else px + a * (color - px)
            flat[where] = px.astype(np.uint8)

    def apply(self, frame: Frame, ctx: FrameContext) -> None:
        h, w = frame.image.shape[:2]
        t = frame.time
        dt = 1.0 / 30 if self._last_t is None else min(max(t - self._last_t, 0.0), 0.1)
        self._last_t = t
        if self.enabled:
            self._spawn(dt, w, h)
        if self.count == 0:
            return
        self._step(dt, w, h)
        self._draw(frame.image)
