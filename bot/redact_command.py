"""`liftoff redact [FILE|-]`: print a text with personal data and secrets replaced by placeholders.

The redacted text goes to standard output, followed by one JSON line that counts what was found
per entity type, e.g. `{"EMAIL": 2, "PHONE": 1}` (`{}` when nothing was). If the text cannot be
checked, nothing is printed to standard output: the command fails closed, like the pipeline.

Exit status: 0 when redacted, 1 when the input cannot be read, 2 when the check failed.
"""

from __future__ import annotations

import json
import sys

from agents.guardrail import GuardrailError, redact

STDIN = "-"
EXIT_OK = 0
EXIT_BAD_INPUT = 1
EXIT_GUARDRAIL_FAILED = 2


def read_input(path: str | None) -> str:
    """The text of FILE, or of standard input for `-` or no path."""
    if path is None or path == STDIN:
        return sys.stdin.read()
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def run(path: str | None) -> int:
    try:
        text = read_input(path)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"liftoff redact: cannot read {path}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        redaction = redact(text)
    except GuardrailError as exc:
        print(f"liftoff redact: {exc}", file=sys.stderr)
        return EXIT_GUARDRAIL_FAILED
    out = redaction.text if redaction.text.endswith("\n") or not redaction.text else redaction.text + "\n"
    sys.stdout.write(out)
    sys.stdout.write(json.dumps(redaction.counts, sort_keys=True) + "\n")
    return EXIT_OK
