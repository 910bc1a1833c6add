"""Builds the presidio analyzer once per process, fully offline.

presidio's defaults download `en_core_web_lg` on first use; this machine (and a customer's) may have
no network. A blank English spaCy pipeline gives presidio the tokens it needs for context words,
and the guardrail's own recognizers do the finding. The blank pipeline is saved to a cache folder
because presidio's `SpacyNlpEngine` loads models by name or path, never from an object.
"""

from __future__ import annotations

import getpass
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import spacy
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngineProvider, SpacyNlpEngine
from presidio_anonymizer import AnonymizerEngine
from spacy.language import Language
from spacy.tokens import Doc

from agents.pii_phone import LaunchTextPhoneRecognizer
from agents.pii_recognizers import builtin_recognizers, load_public_suffixes
from agents.pii_secrets import secret_recognizers

LANGUAGE = "en"
LEMMA_COMPONENT = "liftoff_lowercase_lemma"

# Scores below this are dropped. Pattern-only phone numbers score 0.4; shapes that are ambiguous
# on their own (bare digit runs, 9-digit passport numbers) need a context word to get here.
SCORE_THRESHOLD = 0.4


@Language.component(LEMMA_COMPONENT)
def lowercase_lemma(doc: Doc) -> Doc:
    """Set each token's lemma to its lower-case text.

    A blank pipeline has no lemmatizer, so every lemma is "" and presidio's context enhancer,
    which compares lemmas with context words, would never raise a score.
    """
    for token in doc:
        token.lemma_ = token.lower_
    return doc


class SerializedSpacyNlpEngine(SpacyNlpEngine):
    """presidio's spaCy engine, one text at a time.

    Tokenizing grows the shared vocabulary, which spaCy does not promise is safe from several
    threads at once; a lock here costs a millisecond or two per text and keeps that promise
    even when a detection that timed out is still running in its thread.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        with self._lock:
            return super().process_text(text, language)


# Bump when the saved pipeline changes, so that a folder saved by an older Liftoff is not reused.
PIPELINE_FORMAT = 1


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "liftoff"


def blank_pipeline_dir(cache_dir: Path | None = None) -> Path:
    """The saved blank pipeline, written on first use; safe when several processes start at once.

    Without an explicit `cache_dir`, a home folder that cannot be written (a read-only container)
    falls back to the temp folder rather than leaving the guardrail unable to start.
    """
    name = f"spacy-blank-{LANGUAGE}-{spacy.__version__}-{PIPELINE_FORMAT}"
    if cache_dir is not None:
        return _saved_pipeline(cache_dir / name)
    try:
        return _saved_pipeline(default_cache_dir() / name)
    except OSError:
        return _saved_pipeline(Path(tempfile.gettempdir()) / f"liftoff-{_user_name()}" / name)


def _user_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no USER variable and no passwd entry, as in some containers
        return "user"


def _saved_pipeline(target: Path) -> Path:
    if (target / "config.cfg").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    nlp = spacy.blank(LANGUAGE)
    nlp.add_pipe(LEMMA_COMPONENT)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        nlp.to_disk(staging)
        try:
            staging.rename(target)
        except OSError:
            if not (target / "config.cfg").exists():
                raise  # not a lost race with another process: a real failure
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def build_analyzer(cache_dir: Path | None = None) -> AnalyzerEngine:
    """An AnalyzerEngine with the guardrail's recognizers and no model download."""
    provider = NlpEngineProvider(
        nlp_engines=(SerializedSpacyNlpEngine,),
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": LANGUAGE, "model_name": str(blank_pipeline_dir(cache_dir))}],
        },
    )
    nlp_engine = provider.create_engine()
    # Built recognizer by recognizer rather than from presidio's default list, which brings in
    # NhsRecognizer (it matches US phone numbers), dates and plain URLs (launch text is full of
    # both) and a spaCy NER recognizer that has no model to run here.
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    for recognizer in [*builtin_recognizers(), LaunchTextPhoneRecognizer(), *secret_recognizers()]:
        registry.add_recognizer(recognizer)
    load_public_suffixes()
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=[LANGUAGE],
        default_score_threshold=SCORE_THRESHOLD,
        context_aware_enhancer=LemmaContextAwareEnhancer(),
    )


class _Engines:
    """The process-wide analyzer and anonymizer, built on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._analyzer: AnalyzerEngine | None = None
        self._anonymizer: AnonymizerEngine | None = None

    def analyzer(self) -> AnalyzerEngine:
        if self._analyzer is None:
            with self._lock:
                if self._analyzer is None:
                    self._analyzer = build_analyzer()
        return self._analyzer

    def anonymizer(self) -> AnonymizerEngine:
        if self._anonymizer is None:
            with self._lock:
                if self._anonymizer is None:
                    self._anonymizer = AnonymizerEngine()
        return self._anonymizer


_ENGINES = _Engines()


def get_analyzer() -> AnalyzerEngine:
    return _ENGINES.analyzer()


def get_anonymizer() -> AnonymizerEngine:
    return _ENGINES.anonymizer()
