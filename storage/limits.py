"""Sizes the stored data allows; the modal, the checks and the columns agree on them."""

BRIEF_MAX_CHARS = 10_000
LAUNCH_NAME_MAX_CHARS = 80
