"""Multi-workspace mode: the OAuth install flow, tokens encrypted at rest, per-workspace authorization.

slack_sdk's AsyncSQLAlchemy installation and state stores keep their rows in our database (tables in
storage/installations.py, created by our migrations). Every token passes through Fernet
(LIFTOFF_ENCRYPTION_KEY) on its way in and out, so the database never holds one in clear. Tokens
that expire (token rotation) are refreshed shortly before they do, by the request or job that needs one.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator

from agents.access import AuditAction
from bot.settings import Settings
from storage.audit import AuditLog
from storage.db import Database
from storage.installations import BOTS_TABLE, INSTALLATIONS_TABLE, OAUTH_STATES_TABLE, TOKEN_COLUMNS
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository

log = logging.getLogger(__name__)

BOT_SCOPES = [
    "commands",
    "chat:write",
    "channels:join",
    "im:write",
    "users:read",
    "channels:history",
    "groups:history",
    "im:history",
]
STATE_EXPIRATION_SECONDS = 600


class TokenCipher:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def encrypt(self, token: str | None) -> str | None:
        return None if token is None else self._fernet.encrypt(token.encode()).decode()

    def decrypt(self, stored: str | None) -> str | None:
        if stored is None:
            return None
        try:
            return self._fernet.decrypt(stored.encode()).decode()
        except InvalidToken as exc:
            raise RuntimeError(
                "a stored Slack token cannot be decrypted: is LIFTOFF_ENCRYPTION_KEY the right key?"
            ) from exc


def _with_tokens(record: Any, change: Any) -> Any:
    """A copy of an Installation or Bot with each token column passed through change()."""
    result = copy.copy(record)
    for name in TOKEN_COLUMNS:
        if hasattr(result, name):
            setattr(result, name, change(getattr(result, name)))
    return result


class EncryptedInstallationStore(AsyncInstallationStore):
    """slack_sdk's SQLAlchemy store with every token encrypted at rest; installs and removals are audited."""

    def __init__(self, settings: Settings, db: Database) -> None:
        assert settings.slack_client_id and settings.encryption_key
        self.db = db
        self.cipher = TokenCipher(settings.encryption_key)
        self.inner = AsyncSQLAlchemyInstallationStore(
            client_id=settings.slack_client_id,
            engine=db.engine,
            bots_table_name=BOTS_TABLE,
            installations_table_name=INSTALLATIONS_TABLE,
            logger=log,
        )

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await self.inner.async_save(_with_tokens(installation, self.cipher.encrypt))

    async def async_save_bot(self, bot: Bot) -> None:
        await self.inner.async_save_bot(_with_tokens(bot, self.cipher.encrypt))

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        bot = await self.inner.async_find_bot(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        return None if bot is None else _with_tokens(bot, self.cipher.decrypt)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        found = await self.inner.async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, is_enterprise_install=is_enterprise_install
        )
        return None if found is None else _with_tokens(found, self.cipher.decrypt)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.inner.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await self.inner.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)


class WorkspaceTokens:
    """A workspace's current bot: refreshed when its token is about to expire (token rotation)."""

    def __init__(self, settings: Settings, store: EncryptedInstallationStore, rotator_client: Any) -> None:
        assert settings.slack_client_id and settings.slack_client_secret
        self.store = store
        self.minutes_before_expiration = settings.token_rotation_minutes
        self.rotator = AsyncTokenRotator(
            client_id=settings.slack_client_id, client_secret=settings.slack_client_secret, client=rotator_client
        )

    async def bot(self, team_id: str | None, enterprise_id: str | None = None) -> Bot | None:
        bot = await self.store.async_find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None:
            return None
        refreshed = await self.rotator.perform_bot_token_rotation(
            bot=bot, minutes_before_expiration=self.minutes_before_expiration
        )
        if refreshed is not None:
            await self.store.async_save_bot(refreshed)
            log.info("rotated the bot token of %s", team_id)
            return refreshed
        return bot


class StoredBotAuthorize(AsyncAuthorize):
    """Authorizes a request from the stored bot of its workspace, with no auth.test before the ack."""

    def __init__(self, tokens: WorkspaceTokens) -> None:
        super().__init__()
        self.tokens = tokens

    async def __call__(
        self, *, context: Any, enterprise_id: str | None, team_id: str | None, user_id: str | None, **_: Any
    ) -> AuthorizeResult | None:
        bot = await self.tokens.bot(team_id, enterprise_id)
        if bot is None:
            return None
        return AuthorizeResult(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            bot_user_id=bot.bot_user_id,
            bot_id=bot.bot_id,
            bot_token=bot.bot_token,
            bot_scopes=bot.bot_scopes,
            user_id=user_id,
        )


def build_oauth_flow(
    settings: Settings, db: Database, store: EncryptedInstallationStore, client: Any
) -> AsyncOAuthFlow:
    state_store = AsyncSQLAlchemyOAuthStateStore(
        expiration_seconds=STATE_EXPIRATION_SECONDS, engine=db.engine, table_name=OAUTH_STATES_TABLE, logger=log
    )

    async def installed(args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        if installation.team_id:
            scope = Scope(installation.team_id, installation.user_id)
            async with db.session() as session:
                await WorkspaceRepository(session, scope).ensure(installation.team_name or "")
                await AuditLog(session, scope).append(
                    actor=installation.user_id or "slack",
                    action=AuditAction.APP_INSTALLED,
                    target=f"workspace:{installation.team_id}",
                    after={"scopes": installation.bot_scopes},
                )
        return await args.default.success(args)

    async def failed(args: AsyncFailureArgs) -> BoltResponse:
        log.warning("installation failed: %s", args.reason)
        return await args.default.failure(args)

    oauth_settings = AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=BOT_SCOPES,
        installation_store=store,
        installation_store_bot_only=True,
        state_store=state_store,
        install_path="/slack/install",
        redirect_uri_path="/slack/oauth_redirect",
        token_rotation_expiration_minutes=settings.token_rotation_minutes,
        callback_options=AsyncCallbackOptions(success=installed, failure=failed),
    )
    return AsyncOAuthFlow(client=client, logger=log, settings=oauth_settings)


def build_workspace_tokens(settings: Settings, db: Database) -> WorkspaceTokens:
    from bot.services import build_web_client

    return WorkspaceTokens(settings, EncryptedInstallationStore(settings, db), build_web_client(settings, None))
