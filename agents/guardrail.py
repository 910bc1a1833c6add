"""The PII guardrail: the first step of the pipeline, before any text leaves for an LLM or a tracker.

`redact` replaces personal data and secrets with readable placeholders (`<EMAIL_1>`, `<PERSON_2>`)
that are stable across a launch through a `PiiMapping`; `restore` puts originals back into text
that comes back, only where the reader may see them. Detection runs on presidio offline (see
`pii_engine`). If detection fails or takes too long, `redact` raises `GuardrailError` and the
caller must block the launch or update and send nothing anywhere: an unchecked text is never
passed on.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import regex as re
from presidio_analyzer import RecognizerResult
from presidio_analyzer.pattern_recognizer import REGEX_TIMEOUT_SECONDS
from presidio_anonymizer import OperatorConfig

from agents.pii_engine import LANGUAGE, get_analyzer, get_anonymizer
from agents.pii_entities import NEVER_RESTORED, SPECIFICITY
from agents.pii_mapping import PLACEHOLDER, PiiMapping
from agents.pii_roster import roster_recognizer

__all__ = ["Finding", "GuardrailError", "PiiMapping", "Redaction", "redact", "restore", "warm_up"]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 5.0


class GuardrailError(RuntimeError):
    """The text could not be checked for personal data, so it must not be sent anywhere."""

    def __init__(self, message: str, *, error_id: str) -> None:
        super().__init__(message)
        self.error_id = error_id


@dataclass(frozen=True)
class Finding:
    entity: str
    start: int
    end: int
    score: float
    placeholder: str


@dataclass(frozen=True)
class Redaction:
    text: str
    mapping: PiiMapping
    counts: dict[str, int]
    findings: tuple[Finding, ...]


def warm_up() -> None:
    """Build the analyzer now, so the first request does not pay for it."""
    get_analyzer()
    get_anonymizer()


def redact(
    text: str,
    *,
    roster: Sequence[str] = (),
    mapping: PiiMapping | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Redaction:
    """Replace personal data and secrets in `text` with placeholders from `mapping`.

    The mapping is updated in place (and returned in the result) so that every text of a launch
    shares one set of placeholders; it is only touched once detection has succeeded.
    Raises GuardrailError if detection raises or takes longer than `timeout_s`.
    """
    mapping = mapping if mapping is not None else PiiMapping()
    results = _detect(text, roster, timeout_s)
    spans = resolve_overlaps(results)
    findings = tuple(
        Finding(
            str(s.entity_type),
            s.start,
            s.end,
            round(s.score, 3),
            mapping.placeholder_for(s.entity_type, text[s.start : s.end]),
        )
        for s in spans
    )
    try:
        redacted = _replace(text, spans, mapping)
    except Exception as exc:
        raise _failure("the placeholders could not be written", exc) from exc
    counts = dict(sorted(Counter(f.entity for f in findings).items()))
    return Redaction(text=redacted, mapping=mapping, counts=counts, findings=findings)


def restore(text: str, mapping: PiiMapping, *, allowed: bool) -> str:
    """Put originals back for the placeholders in `text`, if the reader may see them.

    With `allowed=False` the text is returned as it is. Secrets (API keys, passwords, key blocks,
    URLs with credentials) are never restored; nor are placeholders this mapping does not know.
    """
    if not allowed:
        return text

    def original_or_placeholder(match: re.Match[str]) -> str:
        entry = mapping.lookup(match.group(0))
        if entry is None or entry.entity in NEVER_RESTORED:
            return match.group(0)
        return entry.original

    return PLACEHOLDER.sub(original_or_placeholder, text)


def _detect(text: str, roster: Sequence[str], timeout_s: float) -> list[RecognizerResult]:
    """Run the analyzer with a deadline; any failure becomes a GuardrailError."""
    try:
        analyzer = get_analyzer()
        ad_hoc = [r for r in [roster_recognizer(roster)] if r is not None]
    except Exception as exc:
        raise _failure("the PII detector could not start", exc) from exc

    outcome: dict[str, object] = {}

    def analyze() -> None:
        try:
            outcome["results"] = analyzer.analyze(text=text, language=LANGUAGE, ad_hoc_recognizers=ad_hoc)
        except BaseException as exc:  # handed to the waiting thread, which raises GuardrailError
            outcome["error"] = exc

    # A thread per call, not a pool: a detection that overruns keeps its thread busy until it
    # ends (Python cannot stop a thread), and must not hold up the requests queued behind it.
    worker = threading.Thread(target=analyze, name="pii-detect", daemon=True)
    worker.start()
    # presidio gives each regex its own deadline (REGEX_TIMEOUT_SECONDS) and then skips that
    # pattern with a warning instead of failing; ours must come first, so that a slow text is
    # blocked rather than passed on half-checked.
    worker.join(min(timeout_s, REGEX_TIMEOUT_SECONDS / 2))
    if worker.is_alive():
        raise _failure(f"checking the text for personal data took longer than {timeout_s:g} s", None)
    if "error" in outcome:
        error = outcome["error"]
        raise _failure("the PII detector failed", error) from error  # type: ignore[misc]
    return outcome["results"]  # type: ignore[return-value]


def _failure(reason: str, exc: BaseException | None) -> GuardrailError:
    error_id = uuid.uuid4().hex[:8]
    logger.error("PII guardrail blocked a text (error %s): %s", error_id, reason, exc_info=exc)
    return GuardrailError(
        f"Liftoff could not check this text for personal data ({reason}), so nothing was sent. "
        f"Try again in a minute; if it keeps happening, share error id {error_id} with your admin.",
        error_id=error_id,
    )


def resolve_overlaps(results: Sequence[RecognizerResult]) -> list[RecognizerResult]:
    """Non-overlapping spans, in text order, covering every character any recognizer flagged.

    Overlapping findings merge into one span (so no part of either is left showing), labelled
    with the most specific entity: a password inside a connection string is a CREDENTIAL_URL.
    """
    ordered = sorted(results, key=lambda r: (r.start, -r.end))
    merged: list[RecognizerResult] = []
    for result in ordered:
        if merged and result.start < merged[-1].end:
            current = merged[-1]
            label = max(current, result, key=_precedence)
            merged[-1] = RecognizerResult(
                entity_type=label.entity_type,
                start=current.start,
                end=max(current.end, result.end),
                score=max(current.score, result.score),
            )
        else:
            merged.append(RecognizerResult(result.entity_type, result.start, result.end, result.score))
    return merged


def _precedence(result: RecognizerResult) -> tuple[int, float, int]:
    return (SPECIFICITY.get(result.entity_type, 0), result.score, result.end - result.start)


def _replace(text: str, spans: Sequence[RecognizerResult], mapping: PiiMapping) -> str:
    if not spans:
        return text
    operators = {
        entity: OperatorConfig("custom", {"lambda": _placeholder_operator(mapping, entity)})
        for entity in {s.entity_type for s in spans}
    }
    result = get_anonymizer().anonymize(
        text=text,
        analyzer_results=list(spans),
        operators=operators,
        merge_entities_with_spaces=False,
    )
    return result.text


def _placeholder_operator(mapping: PiiMapping, entity: str) -> Callable[[str], str]:
    return lambda value: mapping.placeholder_for(entity, value)
