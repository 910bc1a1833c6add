"""All configuration, read once from the environment, with defaults that run on a laptop."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlparse

from integrations.llm.pricing import DEFAULT_PRICES, Price, parse_prices, price_table

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///liftoff.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_SANDBOX_DIR = "liftoff-sandbox"
SUPPORTED_DATABASE_SCHEMES = ("sqlite+aiosqlite", "postgresql+asyncpg")
DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-4-6"
DEFAULT_OPENAI_MODEL = "gpt-4.1-mini"
DEFAULT_LLM_TIMEOUT_SECONDS = 180.0
DEFAULT_LLM_BUDGET_USD = 1.0
# What `/okr ask` questions may spend on LLMs per workspace and calendar month (UTC); then the rule parser.
DEFAULT_LLM_QUESTION_BUDGET_USD = 5.0
DEFAULT_AUDIT_RETENTION_DAYS = 2557  # seven years


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
    # The LLM planner (agents/llm_planner.py): models, endpoints, per-request timeout, per-launch budget, prices.
    anthropic_model: str = DEFAULT_ANTHROPIC_MODEL
    openai_model: str = DEFAULT_OPENAI_MODEL
    anthropic_base_url: str | None = None
    openai_base_url: str | None = None
    llm_timeout_seconds: float = DEFAULT_LLM_TIMEOUT_SECONDS
    llm_budget_usd: float = DEFAULT_LLM_BUDGET_USD
    llm_question_budget_usd: float = DEFAULT_LLM_QUESTION_BUDGET_USD
    llm_prices: Mapping[str, Price] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    log_level: str = "INFO"
    queue_name: str = "liftoff"
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    encryption_key: str | None = None
    audit_retention_days: int = DEFAULT_AUDIT_RETENTION_DAYS
    token_rotation_minutes: int = 120
    # Where the sandbox (`liftoff serve` without Slack credentials) keeps its SQLite database and Slack state.
    sandbox_dir: str = DEFAULT_SANDBOX_DIR
    # The public https base URL that reaches `liftoff serve` (calendar feed URLs are built on it).
    public_url: str | None = None

    @property
    def has_slack_credentials(self) -> bool:
        return bool((self.slack_bot_token or self.multi_workspace) and self.slack_signing_secret)

    @property
    def multi_workspace(self) -> bool:
        """OAuth install flow with per-workspace tokens (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set)."""
        return bool(self.slack_client_id and self.slack_client_secret)

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
            anthropic_model=get("ANTHROPIC_MODEL") or DEFAULT_ANTHROPIC_MODEL,
            openai_model=get("OPENAI_MODEL") or DEFAULT_OPENAI_MODEL,
            anthropic_base_url=get("ANTHROPIC_BASE_URL"),
            openai_base_url=get("OPENAI_BASE_URL"),
            llm_timeout_seconds=_number("LLM_TIMEOUT_SECONDS", get("LLM_TIMEOUT_SECONDS"), DEFAULT_LLM_TIMEOUT_SECONDS),
            llm_budget_usd=_number("LLM_BUDGET_USD", get("LLM_BUDGET_USD"), DEFAULT_LLM_BUDGET_USD, allow_zero=True),
            llm_question_budget_usd=_number("LLM_QUESTION_BUDGET_USD", get("LLM_QUESTION_BUDGET_USD"),
                                            DEFAULT_LLM_QUESTION_BUDGET_USD, allow_zero=True),
            llm_prices=_llm_prices(get("LLM_PRICES")),
            log_level=(get("LOG_LEVEL") or "INFO").upper(),
            queue_name=get("LIFTOFF_QUEUE") or "liftoff",
            sandbox_dir=get("LIFTOFF_SANDBOX_DIR") or DEFAULT_SANDBOX_DIR,
            public_url=get("LIFTOFF_PUBLIC_URL"),
            slack_client_id=get("SLACK_CLIENT_ID"),
            slack_client_secret=get("SLACK_CLIENT_SECRET"),
            encryption_key=get("LIFTOFF_ENCRYPTION_KEY"),
            audit_retention_days=_positive_int("AUDIT_RETENTION_DAYS", get("AUDIT_RETENTION_DAYS"),
                                               DEFAULT_AUDIT_RETENTION_DAYS),
            token_rotation_minutes=_positive_int("SLACK_TOKEN_ROTATION_MINUTES", get("SLACK_TOKEN_ROTATION_MINUTES"),
                                                 120),
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
        if bool(self.slack_client_id) != bool(self.slack_client_secret):
            raise SettingsError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET must be set together (multi-workspace mode)")
        if self.multi_workspace:
            self._check_multi_workspace()
        elif bool(self.slack_bot_token) != bool(self.slack_signing_secret):
            raise SettingsError("SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET must be set together")
        if self.slack_app_token and self.multi_workspace:
            raise SettingsError(
                "SLACK_APP_TOKEN (Socket Mode) serves one workspace with SLACK_BOT_TOKEN; multi-workspace mode"
                " (SLACK_CLIENT_ID) is served over HTTP: unset SLACK_APP_TOKEN or SLACK_CLIENT_ID/SECRET"
            )
        if self.slack_app_token and not self.slack_bot_token:
            raise SettingsError("SLACK_APP_TOKEN (Socket Mode) also needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET")
        if self.public_url and (urlparse(self.public_url).scheme not in ("http", "https")
                                or not urlparse(self.public_url).netloc):
            raise SettingsError("LIFTOFF_PUBLIC_URL must be an http(s) URL such as https://liftoff.example.com")
        if urlparse(self.slack_api_url).scheme not in ("http", "https"):
            raise SettingsError("SLACK_API_URL must be an http(s) URL such as https://slack.com/api/")
        if logging.getLevelName(self.log_level) not in (10, 20, 30, 40, 50):
            raise SettingsError("LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        self._check_llm()

    def _check_llm(self) -> None:
        for name, url in (("ANTHROPIC_BASE_URL", self.anthropic_base_url), ("OPENAI_BASE_URL", self.openai_base_url)):
            if url and urlparse(url).scheme not in ("http", "https"):
                raise SettingsError(f"{name} must be an http(s) URL (got {url!r})")
        for name, model in (("ANTHROPIC_MODEL", self.anthropic_model), ("OPENAI_MODEL", self.openai_model)):
            if model not in self.llm_prices:
                raise SettingsError(f"{name} {model!r} has no price: add it to LLM_PRICES (USD per million tokens)")

    def _check_multi_workspace(self) -> None:
        if not self.slack_signing_secret:
            raise SettingsError("SLACK_SIGNING_SECRET is required with SLACK_CLIENT_ID (multi-workspace mode)")
        if not self.encryption_key:
            raise SettingsError(
                "LIFTOFF_ENCRYPTION_KEY is required with SLACK_CLIENT_ID (multi-workspace mode): it encrypts tokens"
                " at rest; make one with `python -c 'from cryptography.fernet import Fernet;"
                " print(Fernet.generate_key().decode())'`"
            )
        from cryptography.fernet import Fernet

        try:
            Fernet(self.encryption_key.encode())
        except ValueError as exc:
            raise SettingsError("LIFTOFF_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64 bytes)") from exc


def _positive_int(name: str, value: str | None, default: int) -> int:
    if value is None:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"{name} must be a whole number of at least 1 (got {value!r})")
    return int(value)


def _with_trailing_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _number(name: str, value: str | None, default: float, *, allow_zero: bool = False) -> float:
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        least = "0 or more" if allow_zero else "more than 0"
        raise SettingsError(f"{name} must be a number {least} (got {value!r})")
    return number


def _llm_prices(raw: str | None) -> dict[str, Price]:
    if raw is None:
        return price_table()
    try:
        return price_table(parse_prices(raw))
    except ValueError as exc:
        raise SettingsError(f"LLM_PRICES {exc}") from None
