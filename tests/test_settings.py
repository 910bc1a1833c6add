"""Settings come from the environment once; a bad value stops the start with one clear line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.settings import DEFAULT_DATABASE_URL, Settings, SettingsError
from tests.support import ROOT


def test_defaults_run_on_a_laptop() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite+aiosqlite:///liftoff.db"
    assert settings.jobs_inline and not settings.has_slack_credentials and not settings.uses_socket_mode
    assert settings.slack_api_url == "https://slack.com/api/"


def test_values_are_read_and_normalised() -> None:
    settings = Settings.from_env({
        "DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1/liftoff",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_APP_TOKEN": "xapp-1",
        "SLACK_API_URL": "http://127.0.0.1:9/api",
        "LOG_LEVEL": "debug",
    })
    assert not settings.jobs_inline and settings.uses_socket_mode and settings.has_slack_credentials
    assert settings.slack_api_url == "http://127.0.0.1:9/api/" and settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"DATABASE_URL": "sqlite:///liftoff.db"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token", "SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_APP_TOKEN": "xoxb-2"}, "SLACK_APP_TOKEN"),
        ({"SLACK_API_URL": "ftp://slack"}, "SLACK_API_URL"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_bad_values_name_the_setting(env: dict[str, str], names: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env(env)
    assert names in str(error.value) and "\n" not in str(error.value)


def test_the_cli_stops_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": "mysql://nope"},
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("liftoff: configuration error: DATABASE_URL")
