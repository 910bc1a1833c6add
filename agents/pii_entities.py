"""The kinds of personal data and secrets the guardrail finds, one name per kind.

The value of each member is both the entity type the presidio recognizers report and the label
inside a placeholder (`<EMAIL_1>`), so counts, findings and redacted text all speak one vocabulary.
"""

from __future__ import annotations

from enum import StrEnum


class PiiEntity(StrEnum):
    PERSON = "PERSON"
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CREDIT_CARD = "CREDIT_CARD"
    IBAN = "IBAN"
    US_SSN = "US_SSN"
    US_BANK_NUMBER = "US_BANK_NUMBER"
    US_PASSPORT = "US_PASSPORT"
    IP_ADDRESS = "IP_ADDRESS"
    SECRET = "SECRET"
    CREDENTIAL_URL = "CREDENTIAL_URL"
    PRIVATE_KEY = "PRIVATE_KEY"


# Credentials are never put back into outgoing text, whoever reads it: a launch plan never needs
# the AWS key that someone pasted into the brief, and a Slack channel is not a vault.
NEVER_RESTORED: frozenset[PiiEntity] = frozenset(
    {PiiEntity.SECRET, PiiEntity.CREDENTIAL_URL, PiiEntity.PRIVATE_KEY}
)

# When two findings overlap, the span is merged and labelled with the most specific kind:
# a password inside a connection string is a CREDENTIAL_URL, not an EMAIL.
SPECIFICITY: dict[PiiEntity, int] = {
    PiiEntity.PRIVATE_KEY: 100,
    PiiEntity.CREDENTIAL_URL: 95,
    PiiEntity.SECRET: 90,
    PiiEntity.IBAN: 80,
    PiiEntity.CREDIT_CARD: 75,
    PiiEntity.US_SSN: 70,
    PiiEntity.EMAIL: 65,
    PiiEntity.IP_ADDRESS: 60,
    PiiEntity.PHONE: 50,
    PiiEntity.US_PASSPORT: 40,
    PiiEntity.US_BANK_NUMBER: 30,
    PiiEntity.PERSON: 20,
}

# Countries whose national phone formats ("(415) 555-0132", "020 7946 0958") are recognised, in
# the order a number without a country code is tried. Any number written "+<country code> ..."
# is recognised whatever its country.
PHONE_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "IN", "AU", "IL", "BR")
