"""background: each mode changes only what is not the person, the blur keeps the person's colours
out of the background, missing files are named before the first frame, effects can draw behind
the person, and the real pipeline and CLI run it."""

from __future__ import annotations

import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import av
import cv2
import numpy as np
import pytest
from conftest import write_clip

from edgefx.contract import Effect, Layer
from edgefx.errors import ConfigError
from edgefx.frame import Frame, FrameContext
from edgefx.io.info import StreamInfo
from edgefx.plugins.background.effect import Background
from edgefx.plugins.person import hooks
from edgefx.plugins.person.analyzer import PersonAnalyzer
from edgefx.plugins.person.front import PersonFront, link_layers
from edgefx.scheduling.scheduler import Plan, RunEverything
from edgefx.testing import photo, run_plugin, sample_frames

EDGEFX = str(Path(sys.executable).with_name("edgefx"))
SIZE = (640, 360)


def stream(width: int, height: int) -> StreamInfo:
    return StreamInfo(width, height, Fraction(30), Fraction(1, 30), False)


def analysed(image: np.ndarray) -> FrameContext:
    analyzer = PersonAnalyzer()
    analyzer.start()
    frame = Frame(image.copy(), 0, Fraction(1, 30), 0)
    ctx = FrameContext(frame)
    ctx.results["person"] = analyzer.analyze(frame, ctx)
    return ctx


def render(ctx: FrameContext, index: int = 0, **options) -> tuple[np.ndarray, np.ndarray]:
    """(output image, full-size alpha) of ``background`` with ``options`` on the context's frame."""
    effect = Background(options)
    h, w = ctx.frame.image.shape[:2]
    effect.start(stream(w, h))
    frame = Frame(ctx.frame.image.copy(), index, Fraction(1, 30), index)
    effect.apply(frame, ctx)
    return frame.image, ctx.results["person"].full(h, w)


@pytest.fixture(scope="module")
def ctx(models_dir) -> FrameContext:
    return analysed(photo("astronaut", SIZE))


def test_blur_changes_the_background_and_keeps_the_person(ctx):
    out, alpha = render(ctx, mode="blur")
    original = ctx.frame.image
    person, background = alpha == 255, alpha == 0
    assert np.array_equal(out[person], original[person])
    assert cv2.absdiff(out, original)[background].mean() > 5
    # blurred: far less fine detail left in the background
    lap = np.abs(cv2.Laplacian(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.CV_32F))
    lap0 = np.abs(cv2.Laplacian(cv2.cvtColor(original, cv2.COLOR_BGR2GRAY), cv2.CV_32F))
    assert lap[background].mean() < 0.4 * lap0[background].mean()


def test_blur_does_not_halo_the_person_into_the_background(models_dir):
    """The astronaut in front of a flat grey wall: next to her the blurred wall must stay grey."""
    from skimage import data
    person = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    truth = cv2.imread(str(Path(__file__).parent / "data" / "person" / "astronaut.png"), cv2.IMREAD_GRAYSCALE)
    a = (truth.astype(np.float32) / 255)[:, :, None]
    image = (person * a + 128 * (1 - a)).astype(np.uint8)
    out, alpha = render(analysed(image), mode="blur", strength=0.08)
    near = cv2.dilate((alpha > 0).astype(np.uint8), np.ones((41, 41), np.uint8)) > 0
    ring = near & (alpha == 0) & (truth == 0)  # grey wall within 20 px of the person
    assert ring.sum() > 5000
    tint = np.abs(out[ring].astype(int) - 128).max(axis=1)
    assert tint.mean() <= 3 and np.percentile(tint, 99) <= 10
    plain = np.abs(cv2.blur(image, (41, 41))[ring].astype(int) - 128).max(axis=1)  # an unweighted blur
    assert plain.mean() > 8 and np.percentile(plain, 99) > 30


def test_colour_desaturate_and_image_modes(ctx, tmp_path):
    original = ctx.frame.image
    out, alpha = render(ctx, mode="colour")
    background, person = alpha == 0, alpha == 255
    assert (out[background] == (0, 177, 64)).all() and np.array_equal(out[person], original[person])
    out, _ = render(ctx, mode="colour", colour=[255, 0, 0])
    assert (out[background] == (255, 0, 0)).all()
    out, _ = render(ctx, mode="desaturate")
    b, g, r = cv2.split(out)
    assert (b[background] == g[background]).all() and (g[background] == r[background]).all()
    assert np.array_equal(out[person], original[person])
    picture = tmp_path / "coffee.png"
    cv2.imwrite(str(picture), photo("coffee"))
    out, _ = render(ctx, mode="image", path=str(picture))
    fitted = cv2.resize(photo("coffee"), (640, 427), interpolation=cv2.INTER_LINEAR)[34:394]  # cover: centred
    assert np.abs(out[background].astype(int) - fitted[background].astype(int)).mean() < 3
    out, _ = render(ctx, mode="image", path=str(picture), fit="contain", colour=[0, 0, 0])
    assert (out[:, :50][background[:, :50]] == 0).all()  # bars left and right, in the given colour


def test_video_mode_loops_the_clip(ctx, tmp_path):
    clip = write_clip(tmp_path / "bg.mp4", sample_frames(4, SIZE, name="coffee", pan_px=40.0))
    effect = Background({"mode": "video", "path": str(clip)})
    effect.start(stream(*SIZE))
    alpha = ctx.results["person"].full(SIZE[1], SIZE[0])
    outs = []
    for i in range(8):
        frame = Frame(ctx.frame.image.copy(), i, Fraction(1, 30), i)
        effect.apply(frame, ctx)
        outs.append(frame.image[alpha == 0].astype(int))
    effect.close()
    assert np.abs(outs[0] - outs[1]).mean() > 5  # the clip plays
    assert np.array_equal(outs[0], outs[4]) and np.array_equal(outs[3], outs[7])  # and loops after 4 pictures


@pytest.mark.parametrize("mode", ["image", "video"])
def test_missing_file_is_named_before_the_first_frame(models_dir, tmp_path, mode):
    missing = tmp_path / f"nowhere.{'png' if mode == 'image' else 'mp4'}"
    with pytest.raises(ConfigError, match=re.escape(str(missing))):
        Background({"mode": mode, "path": str(missing)}).start(stream(*SIZE))
    out = tmp_path / "out.mp4"
    done = subprocess.run([EDGEFX, "run", "-i", "demo:?seconds=1", "-o", str(out), "--effects", "background",
                           "--set", f"effects.background.mode={mode}", "--set", f"effects.background.path={missing}",
                           "--no-progress"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and str(missing) in done.stderr and not out.exists()


class Curtain(Effect):
    """Paints the whole frame red, drawn behind the person."""

    name = "curtain"
    layer = Layer.BEHIND_PERSON

    def apply(self, frame: Frame, ctx: FrameContext) -> None:
        frame.image[:] = (0, 0, 255)


@pytest.mark.parametrize(("with_background", "overlap"), [(True, False), (False, True)])
def test_effects_behind_the_person_stay_behind(models_dir, with_background, overlap):
    """With or without a background, analyzers in line or one frame ahead on a worker thread."""
    frames = sample_frames(4, SIZE)
    person, front = PersonAnalyzer(), PersonFront()
    effects = {"person_front": front, "curtain": Curtain()}
    if with_background:
        effects["background"] = Background({"mode": "blur"})
    hooks.edgefx_startup(SimpleNamespace(analyzers={"person": person}, effects=effects))
    assert person.keep_frame and front.behind == [effects["curtain"]]
    run = run_plugin(person, *effects.values(), frames=frames, scheduler=EveryOther(overlap))
    for i in (2, 3):  # fresh and carried
        alpha = run.results[i]["person"].full(SIZE[1], SIZE[0])
        assert np.array_equal(run.images[i][alpha == 255], frames[i][alpha == 255])  # the person on top
        assert (run.images[i][alpha == 0] == (0, 0, 255)).all()  # the curtain over the background
    assert run.ages[3]["person"] == 1
    warning = link_layers({"person": PersonAnalyzer()}, {"curtain": Curtain(), "background": Background()})
    assert "person_front" in warning[0]


class EveryOther(RunEverything):
    """Runs the analyzers fresh on even frames only: the others are carried."""

    def plan(self, ctx, analyzers, effects):
        plan = super().plan(ctx, analyzers, effects)
        return Plan(set(analyzers) if ctx.frame.index % 2 == 0 else set(), plan.notes)


def test_blur_through_the_real_pipeline_and_cli(models_dir, tmp_path):
    run = run_plugin(Background, frames=10, size=SIZE)
    assert not run.disabled
    for inp, out, result in zip(run.inputs, run.images, run.results, strict=True):
        alpha = result["person"].full(SIZE[1], SIZE[0])
        assert np.array_equal(out[alpha == 255], inp[alpha == 255])
        assert cv2.absdiff(out, inp)[alpha == 0].mean() > 3
    video = tmp_path / "blur.mp4"
    done = subprocess.run([EDGEFX, "run", "-i", "demo:?seconds=1", "-o", str(video), "--effects", "background",
                           "--no-progress"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with av.open(str(video)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 30


def test_options_change_while_running(ctx, tmp_path):
    effect = Background()
    effect.start(stream(*SIZE))
    with pytest.raises(ConfigError, match=r"nowhere\.png"):
        effect.set_option("path", str(tmp_path / "nowhere.png"))  # fine while the mode is blur
        effect.set_option("mode", "image")
    assert effect.settings["mode"] == "blur"  # the bad change is not kept
    picture = tmp_path / "coffee.png"
    cv2.imwrite(str(picture), photo("coffee"))
    effect.set_option("path", str(picture))
    effect.set_option("mode", "image")
    assert effect.backdrop is not None and effect.backdrop.shape == (SIZE[1], SIZE[0], 3)
    with pytest.raises(ConfigError, match="colour"):
        effect.set_option("colour", [0, 300, 0])
