"""The ``edgefx`` command: run | batch | analyze | bench | plugins | models | doctor (plus plugin commands)."""

from __future__ import annotations

import argparse
import faulthandler
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from edgefx import __version__
from edgefx.errors import EdgefxError

log = logging.getLogger("edgefx")


def _csv(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _add_job_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", help="preset name (configs/) or .toml path")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override any preset key, e.g. effects.background.mode=blur (repeatable)")
    p.add_argument("--width", type=int, help="frame width to ask for / scale to")
    p.add_argument("--height", type=int, help="frame height")
    p.add_argument("--fps", type=float, help="camera frame rate to ask for")
    p.add_argument("--max-frames", type=int, default=0, help="stop after N frames (0 = all)")


def build_parser(registry: Any | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgefx", description="Real-time video effects for edge devices.")
    parser.add_argument("--version", action="version", version=f"edgefx {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--models-dir", help="model cache folder (default: $EDGEFX_MODELS_DIR or the user cache)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="process an input with effects into an output")
    run.add_argument("-i", "--input", help="file, URL, v4l2:///dev/video0, testsrc:, demo:")
    run.add_argument("-o", "--output", action="append",
                     help="file (.mp4/.mkv/.mov), null, preview[:PORT], stream URL; give it again to record "
                          "and stream at once (-o out/rec.mkv -o rtmp://HOST/live/KEY: encoded once)")
    run.add_argument("--effects", type=_csv, help="effects to enable at their defaults: name,name")
    run.add_argument("--stats", help="write per-frame latency and per-plugin timings as JSON here")
    run.add_argument("--contact-sheet", help="write a PNG of sample frames here")
    run.add_argument("--overwrite", action="store_true", default=None,
                     help="replace existing output files even when edgefx did not write them")
    run.add_argument("--realtime", action=argparse.BooleanOptionalAction,
                     help="pace a file or demo input at its frame rate (default: when the output is a stream, "
                          "camera or preview)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--budget-ms", type=float, help="frame time budget in ms: the scheduler degrades to fit it")
    run.add_argument("--fps-target", type=float, help="target frame rate (budget = 1000/fps)")
    run.add_argument("--control", nargs="?", const="127.0.0.1:8091", metavar="HOST:PORT",
                     help="start the web control panel (default 127.0.0.1:8091; off-loopback needs a token)")
    _add_job_args(run)
    run.set_defaults(func=cmd_run)

    ana = sub.add_parser("analyze", help="write what analyzers find per frame (JSON lines, PNG masks)")
    ana.add_argument("input", help="file, URL, camera, testsrc:, demo:")
    ana.add_argument("--analyzers", "-a", type=_csv, required=True, help="analyzers to run: name,name")
    ana.add_argument("--out", required=True, type=Path, help="output folder")
    ana.add_argument("--keywords", type=_csv, help="keywords for analyzers that take a `keywords` option")
    _add_job_args(ana)
    ana.set_defaults(func=cmd_analyze)

    bench = sub.add_parser("bench", help="measure the engine and every plugin on this device")
    bench.add_argument("--only", type=_csv, help="run only these benchmarks: name,name")
    bench.add_argument("--frames", type=int, default=300, help="frames per measurement")
    bench.add_argument("--out", type=Path, default=Path("out/bench"), help="report folder")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions (smoke check)")
    bench.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    bench.set_defaults(func=cmd_bench)

    plugins = sub.add_parser("plugins", help="list installed plugins or show one's options")
    psub = plugins.add_subparsers(dest="plugins_command", required=True)
    plist = psub.add_parser("list", help="every plugin: package, version, what it provides, problems")
    plist.add_argument("--json", action="store_true", help="machine-readable output")
    plist.set_defaults(func=cmd_plugins_list)
    pshow = psub.add_parser("show", help="an effect's, analyzer's or config section's options")
    pshow.add_argument("name")
    pshow.set_defaults(func=cmd_plugins_show)
    pnew = psub.add_parser("new", help="create an installable plugin package (analyzer, effect, tests)")
    pnew.add_argument("name", help="plugin name: a lowercase identifier, e.g. sparkle")
    pnew.add_argument("--dir", default=".", help="folder to create edgefx-NAME/ in (default: here)")
    pnew.set_defaults(func=cmd_plugins_new)

    models = sub.add_parser("models", help="fetch and check models")
    msub = models.add_subparsers(dest="models_command", required=True)
    mfetch = msub.add_parser("fetch", help="download the pinned wheel, extract and verify every model")
    mfetch.add_argument("--wheel", help="use this already-downloaded mediapipe wheel instead of pip")
    mfetch.set_defaults(func=cmd_models_fetch)
    mlist = msub.add_parser("list", help="every model: present / missing / corrupt")
    mlist.set_defaults(func=cmd_models_list)

    from edgefx.batch.command import add_arguments as add_batch_arguments

    batch = sub.add_parser("batch", help="one preset over many recordings: local worker processes or a Ray cluster")
    _add_job_args(batch)
    add_batch_arguments(batch)

    doctor = sub.add_parser("doctor", help="what will and will not work on this machine, and why")
    doctor.set_defaults(func=cmd_doctor)

    if registry is not None:
        registry.call_safely("edgefx_add_commands", subparsers=sub)
    return parser


# -- commands ----------------------------------------------------------------------------------------

def _settings(args: argparse.Namespace, registry: Any, extra: dict[str, Any]):
    from edgefx.config import load_settings

    overrides = {k: v for k, v in extra.items() if v is not None}
    for key in ("width", "height", "fps"):
        if getattr(args, key, None) is not None:
            overrides[f"input.{key}"] = getattr(args, key)
    return load_settings(args.config or "default", overrides, args.set)


def cmd_run(args: argparse.Namespace, registry: Any) -> int:
    from tqdm import tqdm

    from edgefx.cli.contact_sheet import ContactSheet, check_sheet_path
    from edgefx.runtime.runner import execute, run_outputs

    outputs = args.output or [None]
    settings = _settings(args, registry, {"input.url": args.input, "output.url": outputs[0],
                                          "output.also": outputs[1:] or None,
                                          "run.effects": args.effects, "run.stats": args.stats,
                                          "scheduler.budget_ms": args.budget_ms,
                                          "scheduler.fps_target": args.fps_target,
                                          "output.overwrite": args.overwrite,
                                          "run.realtime": None if args.realtime is None else
                                          ("on" if args.realtime else "off"),
                                          **_control_overrides(args.control)})
    if args.output is None:
        _make_default_output_folder(settings)
    if args.contact_sheet:
        from edgefx.io.protect import check_outputs

        check_outputs(settings.input["url"], {"--contact-sheet": (Path(args.contact_sheet), "image"),
                                              **run_outputs(settings)}, settings.output["overwrite"])
        check_sheet_path(args.contact_sheet)
    sheet: ContactSheet | None = None
    bar: tqdm | None = None

    def on_open(pipeline) -> None:
        nonlocal sheet, bar
        total = args.max_frames or pipeline.stream.frame_count or 0
        if args.contact_sheet:
            sheet = ContactSheet.evenly(total or 300)
        if not pipeline.stream.live and not args.no_progress:
            bar = tqdm(total=total or None, unit="frame", desc="edgefx", leave=False)

    def on_frame(frame, ctx) -> None:
        if sheet is not None:
            sheet.offer(frame.index, frame.image)
        if bar is not None:
            bar.update(1)

    try:
        result = execute(settings, registry, on_frame=on_frame, on_open=on_open, max_frames=args.max_frames)
    finally:  # also before an error message, which then starts on its own line
        if bar is not None:
            bar.close()
    if sheet is not None and (path := sheet.write(args.contact_sheet)):
        result.summary["contact_sheet"] = str(path)
    _print_summary(result.summary)
    if result.source_error is not None:
        print(f"error: {result.source_error}", file=sys.stderr)
        return 2
    if _nothing_sent(result.summary):
        print(f"error: none of the {result.summary['frames']} frames reached {result.summary['output']}: "
              "the stream never connected\n  -> check that the server is up and the URL is right "
              "(the log above says why each attempt failed)", file=sys.stderr)
        return 3
    return 130 if result.interrupted else 0


def _make_default_output_folder(settings: Any) -> None:
    """Without ``-o`` the preset's output file is used (``out/demo.mp4`` by default): its folder
    is created when missing, and the log says where the video goes. (A folder given with ``-o``
    that does not exist is refused: it is more likely a typo.)"""
    from edgefx.io.protect import local_file

    path = local_file(settings.output["url"])
    if path is None:
        return
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        logging.getLogger("edgefx.cli").info("no -o given: writing to %s (the preset's output; created the folder "
                                             "%s)", path, path.parent)
    else:
        logging.getLogger("edgefx.cli").info("no -o given: writing to %s (the preset's output)", path)


def _nothing_sent(summary: dict[str, Any]) -> bool:
    """A network output that sent no frame of a run that had frames."""
    out = summary.get("output_stats", {})
    return "reconnects" in out and summary["frames"] > 0 and out["frames_written"] == 0


def _control_overrides(address: str | None) -> dict[str, Any]:
    """``--control HOST:PORT`` -> ``[control]`` keys (nothing when the flag is absent)."""
    if address is None:
        return {}
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        from edgefx.errors import ConfigError

        raise ConfigError(f"--control {address!r} is not HOST:PORT", "example: --control 127.0.0.1:8091")
    return {"control.enabled": True, "control.host": host.strip("[]") or "127.0.0.1", "control.port": int(port)}


def _print_outputs(out: dict[str, Any]) -> None:
    """Several outputs sharing one encoder: what encoding cost, and each output's own figures."""
    from edgefx.io.stream import reconnect_text

    total = out["process_cpu_s"]
    print(f"  encoded once for {len(out['outputs'])} outputs: {out['frames_written']} frames, engine process "
          f"{total} CPU s ({out['keyframes_forced']} keyframes asked for by a stream)")
    for target, st in out["outputs"].items():
        share = f"{100 * st['cpu_s'] / total:.1f}% of the engine's" if total else "-"
        line = (f"{st['frames_written']} frames sent, {st['dropped']} dropped, {reconnect_text(st)}"
                if "reconnects" in st else f"{st['frames_written']} frames written")
        print(f"  -> {target}: {line}; {st['cpu_s']} CPU s ({share})")


def _print_summary(s: dict[str, Any]) -> None:
    frame_ms = s.get("frame_ms", {})
    print(f"{s['frames']} frames in {s['wall_s']} s ({s['fps']} fps), frame time p50 {frame_ms.get('p50', 0)} ms"
          f" / p99 {frame_ms.get('p99', 0)} ms, dropped at the input {s['dropped']} -> {s.get('output')}")
    if "frames_read" in s:
        dropped = sum(s["frames_dropped"].values())
        print(f"  frames: {s['frames_read']} read, {s['frames_written']} written, {dropped} dropped"
              + "".join(f"; {n} {why}" for why, n in s["frames_dropped"].items())
              + (f"; {s['frames_restamped']} re-stamped (out-of-order or repeated timestamps in the input)"
                 if s["frames_restamped"] else ""))
    out = s.get("output_stats", {})
    if "reconnects" in out:
        from edgefx.io.stream import reconnect_text

        print(f"  output: {out['frames_written']} frames sent, {out['dropped']} dropped, {reconnect_text(out)}")
    if "outputs" in out:
        _print_outputs(out)
    for name, st in s.get("stages_ms", {}).items():
        print(f"  {name:<16} p50 {st['p50']:>7} ms  p99 {st['p99']:>7} ms")
    stages = s.get("stages", {})
    if stages:
        print("  stages (p50 ms): " + ", ".join(f"{n} {v['p50']}" for n, v in stages.items() if n != "slowest")
              + (f"; slowest: {stages['slowest']['stage']}" if "slowest" in stages else ""))
    if s.get("time_to_first_frame_s") is not None:
        print(f"  time to first frame: {s['time_to_first_frame_s']} s from the process start "
              f"({s.get('start_to_first_frame_s')} s from opening the job)")
    for name, why in s.get("disabled_plugins", {}).items():
        print(f"  disabled: {name}: {why}")
    for name, failing in s.get("failing_plugins", {}).items():
        print(f"  failing: {name}: failed {failing['failures']} times (first: {failing['first']})")
    if s.get("failed_actions", {}).get("count"):
        print(f"  failed event actions: {s['failed_actions']['count']} (first: {s['failed_actions']['first'][0]})")
    for name, slow in s.get("slow_plugins", {}).items():
        print(f"  slow: {name}: {slow['overruns']} frames far over its expected {slow['expected_ms']} ms"
              f" (worst {slow['worst_ms']} ms)")
    if s.get("contact_sheet"):
        print(f"contact sheet: {s['contact_sheet']}")


def cmd_analyze(args: argparse.Namespace, registry: Any) -> int:
    from edgefx.cli.analyze import analyze

    settings = _settings(args, registry, {"input.url": args.input})
    if args.keywords:
        for name in args.analyzers:
            if "keywords" in registry.analyzer(name).options:
                settings.analyzers.setdefault(name, {})["keywords"] = args.keywords
    result = analyze(settings, registry, args.analyzers, args.out, args.max_frames)
    print(f"{result.summary['frames']} frames analyzed -> {args.out / 'frames.jsonl'}")
    if result.source_error is not None:
        print(f"error: {result.source_error}", file=sys.stderr)
        return 2
    return 130 if result.interrupted else 0


def cmd_bench(args: argparse.Namespace, registry: Any) -> int:
    from edgefx.bench import BenchSettings
    from edgefx.bench.suite import run_benchmarks

    settings = BenchSettings(frames=args.frames, out_dir=args.out, quick=args.quick)
    return run_benchmarks(registry, settings, args.only, list_only=args.list)


def cmd_plugins_list(args: argparse.Namespace, registry: Any) -> int:
    records = list(registry.records.values())
    if args.json:
        print(json.dumps([{"name": r.name, "package": r.package, "version": r.version, "provides": r.provides,
                           "problems": r.problems, "loaded": r.loaded} for r in records], indent=1))
        return 0
    for r in records:
        provides = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in r.provides.items()) or "nothing"
        print(f"{r.name:<12} {r.package} {r.version:<8} {'ok' if r.loaded else 'NOT LOADED'}  {provides}")
        for problem in r.problems:
            print(f"{'':<12} ! {problem}")
    return 0


def cmd_plugins_show(args: argparse.Namespace, registry: Any) -> int:
    from edgefx.config import SECTIONS
    from edgefx.errors import ConfigError

    section = args.name.strip("[]")
    if section in SECTIONS:
        print(f"config section [{section}]")
        _print_options(SECTIONS[section])
        return 0
    found = [(kind, table[args.name]) for kind, table in (("effect", registry.effects),
                                                           ("analyzer", registry.analyzers)) if args.name in table]
    if not found:
        raise ConfigError(f"no effect, analyzer or config section called {args.name!r}",
                          f"see `edgefx plugins list`; config sections: {', '.join(SECTIONS)}")
    for kind, cls in found:
        owner = next(p for (k, n), p in registry.owner.items() if n == args.name and k == kind)
        print(f"{kind} {args.name} (plugin {owner})")
        doc = (cls.__doc__ or "").strip().splitlines()
        if doc:
            print(f"  {doc[0]}")
        if kind == "effect":
            print(f"  layer: {cls.layer.name.lower()}   requires: {', '.join(cls.requires) or 'nothing'}")
        else:
            print(f"  levels: {', '.join(cls.levels)}   requires: {', '.join(cls.requires) or 'nothing'}")
        _print_options(cls.options)
    return 0


def _print_options(options: dict[str, Any]) -> None:
    """One line per declared option: name, type, default, what is allowed, help."""
    for key, opt in options.items():
        types = opt.type if isinstance(opt.type, tuple) else (opt.type or type(opt.default),)
        type_names = " or ".join(t.__name__ for t in types)
        print(f"  {key}: {type_names} = {opt.default!r}  allowed: {opt.allowed()}  - {opt.help}")


def cmd_plugins_new(args: argparse.Namespace, registry: Any) -> int:
    from edgefx.cli.scaffold import new_plugin, template_values

    root = new_plugin(args.name, args.dir)
    values = template_values(args.name)
    print(f"created {root}: analyzer {values['analyzer']}, effect {values['effect']}, tests")
    print(f"next: pip install -e '{root}[test]' && (cd {root} && pytest) && "
          f"edgefx run -i demo:?seconds=3 -o out/{args.name}.mp4 --effects {values['effect']}")
    return 0


def cmd_models_fetch(args: argparse.Namespace, registry: Any) -> int:
    from edgefx.inference.models import fetch_models

    status = fetch_models(args.models_dir, args.wheel)
    bad = {k: v for k, v in status.items() if v != "present"}
    print(f"{len(status) - len(bad)} of {len(status)} models present and verified")
    return 1 if bad else 0


def cmd_models_list(args: argparse.Namespace, registry: Any) -> int:
    from edgefx.inference.models import load_manifest, model_status, models_dir

    models, _ = load_manifest()
    where = models_dir(args.models_dir)
    print(f"models in {where}")
    for name, spec in models.items():
        print(f"  {name:<32} {model_status(spec, where):<8} {spec.input_shape}  {spec.licence}")
    return 0


def cmd_doctor(args: argparse.Namespace, registry: Any) -> int:
    from edgefx.doctor.report import report

    ok = True
    for section, rows in report(registry).items():
        print(section)
        for status, text in rows:
            ok &= status != "FAIL"
            print(f"  [{status:<4}] {text}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``edgefx`` command."""
    from edgefx.registry import load_registry

    argv = sys.argv[1:] if argv is None else argv
    if not faulthandler.is_enabled():  # a crash in native code (a plugin's extension, a codec) says where
        faulthandler.enable()
    logging.basicConfig(level=logging.DEBUG if ("-v" in argv or "--verbose" in argv) else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        registry = load_registry()
        args = build_parser(registry).parse_args(argv)
        if args.models_dir:
            os.environ["EDGEFX_MODELS_DIR"] = args.models_dir
        return args.func(args, registry)
    except EdgefxError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  -> {exc.hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C outside a run's own handling (loading plugins, opening the input)
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`edgefx plugins show x | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python flushes stdout at exit
        return 1


if __name__ == "__main__":
    sys.exit(main())
