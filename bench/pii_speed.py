"""Milliseconds per 2,000-character text through `redact`, after warm-up.

    python -m bench.pii_speed [--texts 200] [--roster 40]

Texts are 2,000 characters of launch-planning sentences from the corpus, about one in five of
them carrying personal data, which is denser than a real brief. Also prints the one-off cost of
building the engine (`warm_up`) in this process.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from random import Random

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.guardrail import PiiMapping, redact, warm_up  # noqa: E402
from bench.pii_corpus import SEED, clean_samples, pii_samples, roster  # noqa: E402
from bench.pii_values import roster as make_roster  # noqa: E402

TEXT_CHARS = 2000


def long_texts(count: int, seed: int = SEED) -> list[str]:
    """`count` texts of exactly TEXT_CHARS characters, mixing clean and PII sentences."""
    rng = Random(seed)
    clean = [s.text for s in clean_samples(count * 12, seed)]
    pii = [s.text for s in pii_samples(max(count // 10, 30), seed)]
    texts = []
    for _ in range(count):
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < TEXT_CHARS:
            parts.append(rng.choice(pii) if rng.random() < 0.2 else rng.choice(clean))
        texts.append(" ".join(parts)[:TEXT_CHARS])
    return texts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=200)
    parser.add_argument("--roster", type=int, default=0, help="roster size (default: the corpus roster)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    warm_up()
    print(f"warm_up (engine build, once per process): {(time.perf_counter() - started) * 1000:.0f} ms")

    people = make_roster(Random(SEED), args.roster) if args.roster else roster()
    texts = long_texts(args.texts)
    mapping = PiiMapping()
    redact(texts[0], roster=people, mapping=mapping)  # compiles the roster's patterns once
    timings = []
    for text in texts:
        started = time.perf_counter()
        redact(text, roster=people, mapping=mapping)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"redact: {len(texts)} texts x {TEXT_CHARS} chars, roster of {len(people)}: "
        f"mean {statistics.fmean(timings):.1f} ms, median {statistics.median(timings):.1f} ms, "
        f"p95 {p95:.1f} ms, max {timings[-1]:.1f} ms per 2,000-character text"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
