"""Recall per kind of personal data and the false-positive rate on clean launch text.

    python -m bench.pii_eval [--per-kind 300] [--clean 500] [--seed N] [--show-misses 5]

A labelled value counts as found when every character of it is inside findings of the expected
entity type ("recall"); "covered" also counts findings of another type (it was still hidden).
A clean text is a false positive when anything at all is found in it.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.guardrail import Finding, redact, warm_up  # noqa: E402
from bench.pii_corpus import CLEAN_COUNT, PER_KIND, SEED, Sample, Span, clean_samples, pii_samples, roster  # noqa: E402

# Names are matched from a deny-list, not by their structure, so they are reported apart from
# the structured kinds that the 99% recall target is about.
UNSTRUCTURED = {"PERSON"}
RECALL_TARGET = 0.99
FALSE_POSITIVE_TARGET = 0.02


@dataclass
class KindScore:
    total: int = 0
    found: int = 0
    covered: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.total if self.total else 1.0


@dataclass
class Report:
    kinds: dict[str, KindScore]
    clean_total: int
    clean_flagged: list[tuple[str, list[str]]]

    @property
    def false_positive_rate(self) -> float:
        return len(self.clean_flagged) / self.clean_total if self.clean_total else 0.0

    def structured_recall(self) -> float:
        scores = [s for k, s in self.kinds.items() if k.split("/")[0] not in UNSTRUCTURED]
        total = sum(s.total for s in scores)
        return sum(s.found for s in scores) / total if total else 1.0

    def entity_recall(self) -> dict[str, KindScore]:
        merged: dict[str, KindScore] = defaultdict(KindScore)
        for kind, score in self.kinds.items():
            entity = merged[kind.split("/")[0]]
            entity.total += score.total
            entity.found += score.found
            entity.covered += score.covered
        return dict(merged)


def _inside(span: Span, findings: Sequence[Finding], entity: str | None) -> bool:
    hidden = [False] * (span.end - span.start)
    for f in findings:
        if entity is not None and f.entity != entity:
            continue
        for i in range(max(f.start, span.start), min(f.end, span.end)):
            hidden[i - span.start] = True
    return all(hidden)


def evaluate(pii: Sequence[Sample], clean: Sequence[Sample], people: Sequence[str]) -> Report:
    kinds: dict[str, KindScore] = defaultdict(KindScore)
    for sample in pii:
        findings = redact(sample.text, roster=people).findings
        for span in sample.spans:
            score = kinds[span.kind]
            score.total += 1
            score.found += _inside(span, findings, span.entity)
            score.covered += _inside(span, findings, None)
            if not _inside(span, findings, span.entity):
                score.misses.append(f"{sample.text[span.start : span.end]!r} in {sample.text!r}")
    flagged = []
    for sample in clean:
        findings = redact(sample.text, roster=people).findings
        if findings:
            flagged.append((sample.text, [f"{f.entity}:{sample.text[f.start : f.end]!r}" for f in findings]))
    return Report(dict(kinds), len(clean), flagged)


def print_report(report: Report, show_misses: int = 0) -> None:
    print(f"{'kind':<32}{'n':>6}{'recall':>9}{'covered':>9}")
    for kind in sorted(report.kinds):
        s = report.kinds[kind]
        print(f"{kind:<32}{s.total:>6}{s.recall:>9.2%}{s.covered / s.total:>9.2%}")
        for miss in s.misses[:show_misses]:
            print(f"    missed {miss}")
    print()
    print(f"{'entity':<32}{'n':>6}{'recall':>9}{'covered':>9}")
    for entity, s in sorted(report.entity_recall().items()):
        print(f"{entity:<32}{s.total:>6}{s.recall:>9.2%}{s.covered / s.total:>9.2%}")
    print()
    structured = report.structured_recall()
    fp = report.false_positive_rate
    print(f"structured PII recall: {structured:.2%} (target >= {RECALL_TARGET:.0%})")
    print(
        f"false positives: {len(report.clean_flagged)}/{report.clean_total} clean texts = {fp:.2%} "
        f"(target < {FALSE_POSITIVE_TARGET:.0%})"
    )
    for text, found in report.clean_flagged[:show_misses]:
        print(f"    flagged {found} in {text!r}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=PER_KIND)
    parser.add_argument("--clean", type=int, default=CLEAN_COUNT)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--show-misses", type=int, default=3)
    args = parser.parse_args(argv)
    warm_up()
    report = evaluate(
        pii_samples(args.per_kind, args.seed), clean_samples(args.clean, args.seed), roster(args.seed)
    )
    print_report(report, args.show_misses)
    met = report.structured_recall() >= RECALL_TARGET and report.false_positive_rate < FALSE_POSITIVE_TARGET
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
