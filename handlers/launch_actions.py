"""Buttons on launch messages. Buttons carry ids only; the launch is reloaded within the workspace.

Show health is answered in a CLICK job (handlers/deferred.py registers its listener)."""

from __future__ import annotations

from agents.policy import Action, decide
from blocks.ids import ActionId, row_id
from handlers.access import current_actor, refuse
from handlers.deferred import DeferredClick, deferred
from handlers.launch_command import status_message
from storage.launches import LaunchRepository
from storage.scope import Scope


@deferred(ActionId.SHOW_HEALTH)
async def show_health(run: DeferredClick) -> None:
    """Show health: the launch's health card, ephemeral, answered in a CLICK job (handlers/deferred.py)."""
    respond = run.respond
    if respond is None:  # only messages carry this button, and they have a response_url
        return
    launch_id = row_id(run.click.value)
    if launch_id is None:
        await respond(response_type="ephemeral", replace_original=False, text="That button is not one of mine.")
        return
    actor = await current_actor(run.context, run.click.user_id, run.client)
    async with run.services.db.reader() as session:
        launch = await LaunchRepository(session, Scope(run.click.workspace_id)).get(launch_id)
    if launch is None:
        await respond(response_type="ephemeral", replace_original=False,
                      text="That launch no longer exists in this workspace.")
        return
    decision = decide(actor, Action.LAUNCH_VIEW, launch=launch)
    if not decision.allowed:
        await refuse(run.context, respond, actor, Action.LAUNCH_VIEW, f"launch:{launch.id}", decision)
        return
    message = await status_message(run.context, launch.name, None, actor)
    await respond(response_type="ephemeral", replace_original=False, **message)
