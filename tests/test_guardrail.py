"""The PII guardrail: what it finds, the placeholders it writes, and how it fails closed."""

from __future__ import annotations

import io
import json
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from agents import guardrail
from agents.guardrail import GuardrailError, PiiMapping, redact, restore, warm_up
from agents.pii_engine import LEMMA_COMPONENT, build_analyzer
from agents.pii_entities import NEVER_RESTORED, PiiEntity
from agents.pii_mapping import normalized
from bench.pii_corpus import clean_samples, pii_samples, roster
from bench.pii_eval import FALSE_POSITIVE_TARGET, RECALL_TARGET, evaluate
from bench.pii_launch_text import CLEAN_TEMPLATES, fill
from bot.redact_command import EXIT_BAD_INPUT, EXIT_GUARDRAIL_FAILED, EXIT_OK, run

ROSTER = ["Priya Sharma", "Kenji Nakamura", "Will Turner", "Chloé Dubois"]

PRIVATE_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDvJ1xXbMKv0l8Qd7u1Xz3kq0yq9a0Q1w2e3r4t5y6u7gAAAJgSx2y9Esdv\n"
    "-----END OPENSSH PRIVATE KEY-----"
)

# (entity, value, sentence with {v}) — several shapes per kind, as people paste them.
EXAMPLES: list[tuple[PiiEntity, str, str]] = [
    (PiiEntity.EMAIL, "priya.sharma@acme.com", "Send the v2.3.1 notes to {v} by Friday."),
    (PiiEntity.EMAIL, "ops+launch@corp.internal", "Escalations: {v}"),
    (PiiEntity.PHONE, "(415) 555-0132", "Vendor on-call is {v} for ENG-1234."),
    (PiiEntity.PHONE, "+44 20 7946 0958", "London office: {v}"),
    (PiiEntity.PHONE, "+49 30 90182034", "Berlin agency {v}, ask for billing."),
    (PiiEntity.PHONE, "+91 98765 43210", "Call {v} after 10:30 IST."),
    (PiiEntity.PHONE, "4155550132", "Customer's cell: {v}"),
    (PiiEntity.CREDIT_CARD, "4111 1111 1111 1111", "Refund $49.99 to {v}."),
    (PiiEntity.CREDIT_CARD, "5555-5555-5555-4444", "Test card {v} failed in build 20240611.3"),
    (PiiEntity.CREDIT_CARD, "378282246310005", "Amex {v} on file"),
    (PiiEntity.CREDIT_CARD, "2223 0031 2200 3222", "Mastercard {v} declined"),
    (PiiEntity.IBAN, "DE89 3704 0044 0532 0130 00", "Pay the agency to {v} by 2024-06-30."),
    (PiiEntity.IBAN, "GB29NWBK60161331926819", "Payout account {v}"),
    (PiiEntity.IBAN, "FR1420041010050500013M02606", "Reseller IBAN: {v}"),
    (PiiEntity.US_SSN, "219-09-9999", "Contractor SSN {v}, start date 2024-07-01."),
    (PiiEntity.IP_ADDRESS, "203.0.113.42", "Allow-list {v} on the staging WAF."),
    (PiiEntity.IP_ADDRESS, "2001:db8:85a3::8a2e:370:7334", "Suspicious logins from {v}."),
    (PiiEntity.US_BANK_NUMBER, "000123456789", "Wire to bank account {v} for the payout."),
    (PiiEntity.US_PASSPORT, "C03005988", "Speaker's passport {v}, flight on June 3."),
    (PiiEntity.SECRET, "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "bot token {v}"),
    (
        PiiEntity.SECRET,
        "xoxp-123456789012-123456789012-1234567890123-0123456789abcdef0123456789abcdef",
        "{v}",
    ),
    (PiiEntity.SECRET, "xapp-1-A0123ABCDEF-1234567890123-0123456789abcdef", "socket mode: {v}"),
    (PiiEntity.SECRET, "AKIAIOSFODNN7EXAMPLE", "aws key {v} in the runbook"),
    (PiiEntity.SECRET, "ghp_" + "a1B2c3D4e5" * 3 + "f6G7h8", "CI uses {v}"),
    (PiiEntity.SECRET, "github_pat_11ABCDEFG0123456789abc_" + "x" * 59, "token {v}"),
    (PiiEntity.SECRET, "sk-proj-" + "Ab3dEf9hIj" * 8, "OPENAI key {v}"),
    (PiiEntity.SECRET, "sk-ant-api03-" + "Zx9_Yw8-Vu7" * 8 + "AA", "Anthropic: {v}"),
    (PiiEntity.SECRET, "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "Stripe {v}"),
    (PiiEntity.SECRET, "pk_live_" + "TYooMQauvdEDq54NiTphI7jx", "publishable {v}"),
    (PiiEntity.SECRET, "AIzaSyA-1234567890abcdefghijklmnopqrstu", "Maps key {v}"),
    (
        PiiEntity.SECRET,
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "session {v} expires",
    ),
    (PiiEntity.SECRET, "Tr0ub4dor&3", "staging password: {v}"),
    (PiiEntity.SECRET, "copperlantern", "DB_PASSWORD={v}"),
    (PiiEntity.SECRET, "9f8e7d6c5b4a39281706f5e4d3c2b1a0", 'api_key: "{v}"'),
    (PiiEntity.SECRET, "abcdEFGH1234ijklMNOP5678", "Authorization: Bearer {v}"),
    (PiiEntity.PRIVATE_KEY, PRIVATE_KEY, "deploy key:\n{v}\nthanks"),
    (PiiEntity.CREDENTIAL_URL, "postgres://admin:s3cr3tPass@db.internal:5432/app", "DATABASE_URL={v}"),
    (PiiEntity.CREDENTIAL_URL, "redis://:hunter22@10.0.3.17:6379/0", "cache at {v} for v2"),
]


@pytest.fixture(scope="module", autouse=True)
def engine() -> None:
    warm_up()


@pytest.mark.parametrize(
    ("entity", "value", "sentence"), EXAMPLES, ids=[f"{e}-{i}" for i, (e, _, _) in enumerate(EXAMPLES)]
)
def test_each_kind_is_redacted(entity: PiiEntity, value: str, sentence: str) -> None:
    text = sentence.format(v=value)
    result = redact(text)
    assert value not in result.text
    assert f"<{entity}_1>" in result.text
    assert result.counts == {str(entity): 1}
    (finding,) = result.findings
    assert (finding.entity, text[finding.start : finding.end]) == (str(entity), value)
    # A secret is never restored, so the mapping keeps only its digest (a stored mapping holds no secret).
    kept = normalized(entity, value) if entity in NEVER_RESTORED else value
    assert result.mapping.lookup(f"<{entity}_1>").original == kept  # type: ignore[union-attr]


def test_redacted_text_keeps_the_rest_readable() -> None:
    text = "Email priya.sharma@acme.com or call +1 (415) 555-0132 before v2.3.1 ships on 2024-06-11."
    assert redact(text).text == "Email <EMAIL_1> or call <PHONE_1> before v2.3.1 ships on 2024-06-11."


def test_secret_assignment_keeps_its_field_name() -> None:
    assert (
        redact("password=Tr0ub4dor&3 and api_key: Zx81kQ0pLmN3").text
        == "password=<SECRET_1> and api_key: <SECRET_2>"
    )


def test_slack_markup_and_prose_are_handled() -> None:
    assert redact("Owner: <mailto:jo@acme.com|jo@acme.com>").text == "Owner: <mailto:<EMAIL_1>|<EMAIL_1>>"
    assert redact("the password is hunter22").text == "the password is <SECRET_1>"
    assert redact("Password is required for SSO in v2.4").counts == {}


def test_overlapping_findings_become_one_placeholder() -> None:
    # The password and host inside the URL would also match as an email and an IP address.
    result = redact("use postgres://app:hunter22@10.0.3.17:5432/app now")
    assert result.text == "use <CREDENTIAL_URL_1> now"
    assert result.counts == {"CREDENTIAL_URL": 1}


def test_roster_names_are_redacted() -> None:
    text = "Priya Sharma owns ENG-1234; ping Kenji, Nakamura's team and chloé dubois. cc priya"
    result = redact(text, roster=ROSTER)
    assert (
        result.text
        == "<PERSON_1> owns ENG-1234; ping <PERSON_2>, <PERSON_3>'s team and <PERSON_4>. cc <PERSON_5>"
    )
    assert result.counts == {"PERSON": 5}


def test_names_that_are_words_are_redacted_only_where_they_read_as_names() -> None:
    result = redact("Will ship on Friday. Ask Will about it; Will's draft is in. We will see.", roster=ROSTER)
    assert (
        result.text == "Will ship on Friday. Ask <PERSON_1> about it; <PERSON_1>'s draft is in. We will see."
    )


def test_without_a_roster_names_are_left_alone() -> None:
    assert redact("Priya Sharma owns the rollout.").text == "Priya Sharma owns the rollout."


def test_placeholders_are_stable_across_texts_of_a_launch() -> None:
    mapping = PiiMapping()
    first = redact("Mail priya@acme.com or +1 415 555 0132.", mapping=mapping)
    second = redact("New: bob@acme.com. Old: PRIYA@acme.com, (415) 555-0132.", mapping=mapping)
    assert first.text == "Mail <EMAIL_1> or <PHONE_1>."
    assert second.text == "New: <EMAIL_2>. Old: <EMAIL_1>, <PHONE_1>."
    assert second.mapping is mapping


def test_mapping_survives_json_and_keeps_numbering() -> None:
    mapping = PiiMapping()
    redact("priya@acme.com and bob@acme.com", mapping=mapping)
    stored = mapping.to_json()
    loaded = PiiMapping.from_json(stored)
    assert loaded == mapping
    assert redact("bob@acme.com, then carol@acme.com", mapping=loaded).text == "<EMAIL_2>, then <EMAIL_3>"
    assert json.loads(stored)["counters"] == {"EMAIL": 2}


def test_mapping_rejects_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="version"):
        PiiMapping.from_json('{"version": 99, "entries": []}')
    bad = {"version": 1, "entries": [{"placeholder": "EMAIL-1", "entity": "EMAIL", "original": "a@b.co"}]}
    with pytest.raises(ValueError, match="malformed"):
        PiiMapping.from_json(json.dumps(bad))


def test_concurrent_redactions_share_one_mapping_safely() -> None:
    mapping = PiiMapping()
    texts = [f"Owner {i % 5}@acme.com, backup {(i + 1) % 5}@acme.com" for i in range(20)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda t: redact(t, mapping=mapping), texts))
    assert len(mapping) == 5
    for text, result in zip(texts, results, strict=True):
        assert restore(result.text, mapping, allowed=True) == text


def test_restore_respects_allowed() -> None:
    mapping = PiiMapping()
    redact("Ask Priya at priya@acme.com; key AKIAIOSFODNN7EXAMPLE", roster=ROSTER, mapping=mapping)
    from_llm = "Hi <PERSON_1>, confirm with < email_1 > and rotate <SECRET_1>; <EMAIL_9> is unknown."
    assert restore(from_llm, mapping, allowed=False) == from_llm
    assert (
        restore(from_llm, mapping, allowed=True)
        == "Hi Priya, confirm with priya@acme.com and rotate <SECRET_1>; <EMAIL_9> is unknown."
    )


@pytest.mark.parametrize("template", CLEAN_TEMPLATES)
def test_clean_launch_text_passes_untouched(template: str) -> None:
    from random import Random

    text = fill(template, Random(template))
    result = redact(text, roster=roster())
    assert (result.text, result.counts) == (text, {}), result.findings


def test_detection_failure_raises_guardrail_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def analyze(self, **_: Any) -> list[Any]:
            raise RuntimeError("boom")

    monkeypatch.setattr(guardrail, "get_analyzer", lambda: Broken())
    mapping = PiiMapping()
    with pytest.raises(GuardrailError) as caught:
        redact("priya@acme.com", mapping=mapping)
    assert "nothing was sent" in str(caught.value) and caught.value.error_id in str(caught.value)
    assert len(mapping) == 0


def test_engine_that_cannot_start_raises_guardrail_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def cannot_build() -> None:
        raise OSError("model folder missing")

    monkeypatch.setattr(guardrail, "get_analyzer", cannot_build)
    with pytest.raises(GuardrailError, match="could not start"):
        redact("hello")


def test_detection_timeout_raises_guardrail_error(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    class Stuck:
        def analyze(self, **_: Any) -> list[Any]:
            release.wait(10)
            return []

    monkeypatch.setattr(guardrail, "get_analyzer", lambda: Stuck())
    try:
        with pytest.raises(GuardrailError, match="longer than 0.2 s"):
            redact("priya@acme.com", timeout_s=0.2)
    finally:
        release.set()


def test_engine_builds_and_runs_without_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Any] = []

    def no_network(*args: Any, **_: Any) -> None:
        attempts.append(args)
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    analyzer = build_analyzer(cache_dir=tmp_path)
    assert (next(tmp_path.iterdir()) / "config.cfg").exists()
    found = analyzer.analyze("Mail jo@example.co.uk, call 415-555-0132", language="en")
    assert sorted(r.entity_type for r in found) == ["EMAIL", "PHONE"]
    # The lemma component is what lets context words ("call", "passport") raise a score.
    assert [t.lemma_ for t in analyzer.nlp_engine.nlp["en"]("Call ME")] == ["call", "me"]
    assert LEMMA_COMPONENT in analyzer.nlp_engine.nlp["en"].pipe_names
    names = {r.name for r in analyzer.registry.recognizers}
    assert "NhsRecognizer" not in names and "SpacyRecognizer" not in names
    assert attempts == []  # not even tried: no model download, no public suffix list fetch


def test_context_words_decide_ambiguous_numbers() -> None:
    assert redact("cell: 4155550132").counts == {"PHONE": 1}
    assert redact("Cutover at epoch 1718064000 sharp.").counts == {}
    assert redact("passport 912803456").counts == {"US_PASSPORT": 1}
    assert redact("ticket 912803456").counts == {}


def test_run_prints_redacted_text_then_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    brief = tmp_path / "brief.md"
    brief.write_text("Owner: priya@acme.com, +44 20 7946 0958.\nBackup: bob@acme.com\n", encoding="utf-8")
    assert run(str(brief)) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["Owner: <EMAIL_1>, <PHONE_1>.", "Backup: <EMAIL_2>"]
    assert json.loads(lines[2]) == {"EMAIL": 2, "PHONE": 1}
    assert len(lines) == 3


def test_run_reads_standard_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("nothing personal in v2.3.1"))
    assert run("-") == EXIT_OK
    assert capsys.readouterr().out == "nothing personal in v2.3.1\n{}\n"


def test_run_fails_closed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(str(tmp_path / "missing.md")) == EXIT_BAD_INPUT
    monkeypatch.setattr(guardrail, "get_analyzer", lambda: (_ for _ in ()).throw(RuntimeError("down")))
    monkeypatch.setattr("sys.stdin", io.StringIO("priya@acme.com"))
    assert run(None) == EXIT_GUARDRAIL_FAILED
    captured = capsys.readouterr()
    assert captured.out == "" and "nothing was sent" in captured.err


def test_corpus_sample_meets_the_targets() -> None:
    report = evaluate(pii_samples(per_kind=18, seed=11), clean_samples(150, seed=11), roster(11))
    assert report.structured_recall() >= RECALL_TARGET, {
        k: s.misses[:3] for k, s in report.kinds.items() if s.misses
    }
    assert report.false_positive_rate < FALSE_POSITIVE_TARGET, report.clean_flagged
