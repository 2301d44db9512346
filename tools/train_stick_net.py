"""Train the saber's stick net (``plugins/saber/stick_net.tflite``) on rendered ground truth.

    .train-venv/bin/python tools/train_stick_net.py [--out plugins/saber/stick_net.tflite]
                                                    [--clips 200] [--epochs 24]

Run in the training venv ``.train-venv`` (``tensorflow-cpu``, ``numpy``, ``opencv-python-headless``,
``av``, ``pluggy``, ``platformdirs``, ``scikit-image``, ``scikit-video``, and this worktree installed with
``pip install --no-deps -e .``): TensorFlow is a training-time tool only, the engine runs the exported
model through LiteRT.

Data: ``groundtruth.render_sequence`` at 640x360 on the TUNED backgrounds only, that is every
background of ``groundtruth.BACKGROUNDS`` that is not in ``evaluate.UNTUNED`` (the untuned split is
never rendered here). Each clip draws, from a seeded generator, a path (sweep, circle, hang, and the
blurred fast swing, the hardest, twice as often), a stick colour (every key of ``STICKS``), hand or
no hand, motion blur (1, 4 or 6 sub-frames), a look (plain, bright, dark), a distractor (none, pole,
frame: never marked, they are negatives), a lighting ramp and sometimes a sudden drop, sensor noise
and a start in the background; one clip in six has no stick at all (the fist alone or nothing), and
most clips have a short tail without it. Every third frame of a clip is kept, and once more either
mirrored left to right or turned upside down (a stick at every angle, the hand above it or below).

Target: the visible rod from the truth ``base`` to ``tip`` as a capsule of the generator's rod
radius (at least ``net.TARGET_RADIUS`` heatmap cells), drawn anti-aliased at the heatmap's size.

Net: a stride-2 3x3 convolution, then four 3x3 convolutions dilated 1, 2, 4, 8 (12 channels,
ReLU), a 1x1 sigmoid head; loss: binary cross-entropy plus soft Dice (the rod is a few percent of
the picture). Exported to TFLite (float32, builtin ops only). Seeds are fixed (NumPy,
TensorFlow) and TensorFlow is limited to 2 threads. It prints the wall time of each stage.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from edgefx.plugins.saber.analyzer import WORK_WIDTH, shrink
from edgefx.plugins.saber.evaluate import UNTUNED
from edgefx.plugins.saber.groundtruth import BACKGROUNDS, STICKS, render_sequence
from edgefx.plugins.saber.net import INPUT_SIZE, OUTPUT_STRIDE, TARGET_RADIUS, net_input

SIZE = (640, 360)
ROD_RADIUS = 0.016
"""The generator's rod radius as a fraction of the frame height (``render_sequence``)."""
TUNED = tuple(bg for bg in BACKGROUNDS if bg not in UNTUNED)
SEED = 2323


def target(base: tuple[float, float] | None, tip: tuple[float, float] | None, size: tuple[int, int],
           flip: int | None) -> np.ndarray:
    """The heatmap the net should give for a frame of ``size`` (width, height) with the visible rod
    from ``base`` to ``tip`` (frame pixels; ``None``: no rod): coverage 0..1 of each heatmap cell.
    ``flip``: the frame was flipped as by ``cv2.flip`` with that code (``None``: not flipped)."""
    w, h = INPUT_SIZE[0] // OUTPUT_STRIDE, INPUT_SIZE[1] // OUTPUT_STRIDE
    out = np.zeros((h * 4, w * 4), np.float32)
    if base is not None and tip is not None:
        scale = np.array([4 * w / size[0], 4 * h / size[1]])
        p0, p1 = np.array(base) * scale, np.array(tip) * scale
        radius = max(ROD_RADIUS * size[1] * scale[1], 4 * TARGET_RADIUS)
        cv2.line(out, (round(p0[0] * 16), round(p0[1] * 16)), (round(p1[0] * 16), round(p1[1] * 16)), 1.0,
                 max(1, round(2 * radius)), cv2.LINE_AA, shift=4)
    out = out if flip is None else cv2.flip(out, flip)
    return cv2.resize(out, (w, h), interpolation=cv2.INTER_AREA)[..., None]


def clip_spec(rng: np.random.Generator, k: int) -> dict:
    """``render_sequence`` arguments of training clip ``k`` (see the module docstring)."""
    frames = int(rng.integers(24, 61))
    spec = dict(background=TUNED[k % len(TUNED)], path=str(rng.choice(["sweep", "circle", "fast", "fast", "hang"])),
                colour=str(rng.choice(list(STICKS))), hand=bool(rng.random() < 0.5), seed=5000 + k,
                blur_subframes=int(rng.choice([1, 4, 6])), look=str(rng.choice(["plain", "plain", "bright", "dark"])),
                distractor=[None, "pole", "frame"][int(rng.integers(3))], frames=frames,
                gain=(float(rng.uniform(0.8, 1.2)), float(rng.uniform(0.5, 1.1))), noise=float(rng.uniform(2, 6)),
                bg_start=int(rng.integers(0, 120)), tail=int(rng.integers(0, 6)), stick=bool(k % 6 != 5))
    if rng.random() < 0.3:
        spec["drop"] = (int(rng.integers(5, frames)), float(rng.uniform(0.5, 0.8)))
    return spec


def render_data(clips: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (N, 90, 160, 3) and targets (N, 45, 80, 1), float32, from ``clips`` rendered clips."""
    rng = np.random.default_rng(SEED)
    xs, ys = [], []
    for k in range(clips):
        spec = clip_spec(rng, k)
        assert spec["background"] not in UNTUNED
        for truth in render_sequence(size=SIZE, **spec)[int(rng.integers(3))::3]:
            work = shrink(truth.image, WORK_WIDTH, round(SIZE[1] * WORK_WIDTH / SIZE[0]))
            for flip in (None, int(rng.choice([1, -1]))):
                xs.append(net_input(work if flip is None else cv2.flip(work, flip))[0])
                ys.append(target(truth.base, truth.tip, SIZE, flip))
    return np.stack(xs), np.stack(ys)


def build_model():
    """The stick net (Keras): see the module docstring."""
    import tensorflow as tf

    inputs = tf.keras.Input((INPUT_SIZE[1], INPUT_SIZE[0], 3))
    x = tf.keras.layers.Conv2D(12, 3, strides=OUTPUT_STRIDE, padding="same", activation="relu")(inputs)
    for rate in (1, 2, 4, 8):
        x = tf.keras.layers.Conv2D(12, 3, dilation_rate=rate, padding="same", activation="relu")(x)
    outputs = tf.keras.layers.Conv2D(1, 1, activation="sigmoid")(x)
    return tf.keras.Model(inputs, outputs)


def loss(y_true, y_pred):
    """Binary cross-entropy plus soft Dice over the batch."""
    import tensorflow as tf

    bce = tf.reduce_mean(tf.keras.losses.binary_crossentropy(y_true, y_pred))
    dice = 1.0 - (2.0 * tf.reduce_sum(y_true * y_pred) + 1.0) / (tf.reduce_sum(y_true) + tf.reduce_sum(y_pred) + 1.0)
    return bce + dice


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("plugins/saber/stick_net.tflite"))
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=24)
    args = parser.parse_args()

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(2)
    tf.keras.utils.set_random_seed(SEED)
    t0 = time.time()
    x, y = render_data(args.clips)
    print(f"rendered {len(x)} samples from {args.clips} clips on {', '.join(TUNED)} in {time.time() - t0:.0f} s",
          flush=True)
    t1 = time.time()
    model = build_model()
    model.compile(optimizer=tf.keras.optimizers.Adam(3e-3), loss=loss)
    schedule = tf.keras.callbacks.LearningRateScheduler(lambda epoch, lr: 3e-3 * 0.5 ** (epoch // 8))
    model.fit(x, y, batch_size=32, epochs=args.epochs, shuffle=True, validation_split=0.1, callbacks=[schedule],
              verbose=2)
    print(f"trained in {time.time() - t1:.0f} s", flush=True)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    args.out.write_bytes(converter.convert())
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes); total {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
