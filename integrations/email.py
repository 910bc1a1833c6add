"""Email, the fallback when Slack cannot deliver: plain-text SMTP through aiosmtplib.

Configuration is read once from the environment (SMTP_HOST unset: no email). Each message carries its
idempotency key as its Message-ID, so a receiving system can tell a resend from a new message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib


class EmailError(Exception):
    """The message could not be handed to the SMTP server."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str | None = None
    port: int = 587
    username: str | None = None
    password: str | None = None
    sender: str = "Liftoff <liftoff@localhost>"
    starttls: bool = False
    timeout: float = 10.0

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpConfig:
        env = os.environ if env is None else env
        port = env.get("SMTP_PORT", "587")
        if not port.isdigit():
            raise ValueError(f"SMTP_PORT must be a port number (got {port!r})")
        return cls(host=env.get("SMTP_HOST") or None, port=int(port), username=env.get("SMTP_USERNAME") or None,
                   password=env.get("SMTP_PASSWORD") or None,
                   sender=env.get("SMTP_FROM") or "Liftoff <liftoff@localhost>",
                   starttls=env.get("SMTP_STARTTLS", "").lower() in ("1", "true", "yes"))


class EmailSender:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    async def send(self, to: str, subject: str, body: str, *, key: str) -> None:
        if not self.config.enabled:
            raise EmailError("email is not configured (SMTP_HOST unset)")
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = to
        message["Subject"] = subject
        domain = self.config.sender.rsplit("@", 1)[-1].strip("> ") or "localhost"
        message["Message-ID"] = f"<{key.replace(':', '.').replace(' ', '')}@{domain}>"
        message.set_content(body)
        try:
            await aiosmtplib.send(message, hostname=self.config.host, port=self.config.port,
                                  username=self.config.username, password=self.config.password,
                                  start_tls=self.config.starttls, timeout=self.config.timeout)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise EmailError(str(exc) or type(exc).__name__) from exc
