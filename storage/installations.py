"""Tables of slack_sdk's SQLAlchemy installation and OAuth state stores, on our metadata and migrations.

The token columns are Text: tokens are stored Fernet-encrypted (see bot/installations.py), which
makes them longer than slack_sdk's String(200).
"""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Table, Text

from storage.models import Base

INSTALLATIONS_TABLE = "slack_installations"
BOTS_TABLE = "slack_bots"
OAUTH_STATES_TABLE = "slack_oauth_states"
TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


def _widen_tokens(table: Table) -> Table:
    for name in TOKEN_COLUMNS:
        if name in table.c:
            table.c[name].type = Text()
    return table


installations = _widen_tokens(SQLAlchemyInstallationStore.build_installations_table(Base.metadata, INSTALLATIONS_TABLE))
bots = _widen_tokens(SQLAlchemyInstallationStore.build_bots_table(Base.metadata, BOTS_TABLE))
oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(Base.metadata, OAUTH_STATES_TABLE)
