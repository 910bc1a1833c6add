"""All configuration, read once from the environment, with defaults that run on a laptop."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///liftoff.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
SUPPORTED_DATABASE_SCHEMES = ("sqlite+aiosqlite", "postgresql+asyncpg")


class SettingsError(ValueError):
    """A configuration value that cannot work; the message is one line a person can act on."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    anthropic_api_key: str | None = None
    openai_api_key: str | None = None
    log_level: str = "INFO"
    queue_name: str = "liftoff"

    @property
    def has_slack_credentials(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret)

    @property
    def uses_socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    @property
    def jobs_inline(self) -> bool:
        return self.redis_url is None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and check every setting; raise SettingsError naming the first bad one."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        settings = cls(
            database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            redis_url=get("REDIS_URL"),
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_api_url=_with_trailing_slash(get("SLACK_API_URL") or DEFAULT_SLACK_API_URL),
            anthropic_api_key=get("ANTHROPIC_API_KEY"),
            openai_api_key=get("OPENAI_API_KEY"),
            log_level=(get("LOG_LEVEL") or "INFO").upper(),
            queue_name=get("LIFTOFF_QUEUE") or "liftoff",
        )
        settings._check()
        return settings

    def _check(self) -> None:
        scheme = self.database_url.split("://", 1)[0]
        if "://" not in self.database_url or scheme not in SUPPORTED_DATABASE_SCHEMES:
            raise SettingsError(
                f"DATABASE_URL must start with one of {', '.join(s + '://' for s in SUPPORTED_DATABASE_SCHEMES)}"
                f" (got {scheme!r})"
            )
        if self.redis_url and urlparse(self.redis_url).scheme not in ("redis", "rediss", "unix"):
            raise SettingsError("REDIS_URL must be a redis://, rediss:// or unix:// URL")
        if self.slack_bot_token and not self.slack_bot_token.startswith("xoxb-"):
            raise SettingsError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            raise SettingsError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
        if bool(self.slack_bot_token) != bool(self.slack_signing_secret):
            raise SettingsError("SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET must be set together")
        if self.slack_app_token and not self.slack_bot_token:
            raise SettingsError("SLACK_APP_TOKEN (Socket Mode) also needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET")
        if urlparse(self.slack_api_url).scheme not in ("http", "https"):
            raise SettingsError("SLACK_API_URL must be an http(s) URL such as https://slack.com/api/")
        if logging.getLevelName(self.log_level) not in (10, 20, 30, 40, 50):
            raise SettingsError("LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")


def _with_trailing_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
