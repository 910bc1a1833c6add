"""Posts the quarterly OKR review: a summary message, then one progress chart per company objective."""

from __future__ import annotations

import asyncio
from datetime import date

from slack_sdk.web.async_client import AsyncWebClient

from agents.okr_report import progress_chart, quarterly_review
from blocks import okr_messages
from storage.db import Database
from storage.okrs import OkrRepository
from storage.scope import Scope


async def post_quarterly_review(db: Database, client: AsyncWebClient, workspace_id: str, channel: str,
                                period: str, user_id: str) -> int:
    """Returns how many charts were uploaded."""
    async with db.reader() as session:
        review = await quarterly_review(OkrRepository(session, Scope(workspace_id, user_id)), user_id, period or None,
                                        date.today())
    if review is None:
        await client.chat_postEphemeral(channel=channel, user=user_id, **okr_messages.text_message(
            f"No OKR period {period!r}." if period else "No OKR period covers today."))
        return 0
    views = [item.view for item in review.items]
    await client.chat_postMessage(channel=channel, **okr_messages.objectives_message(
        f"Quarterly review · {review.period}", views, empty="_No company objectives in this period._"))
    for item in review.items:
        png = await asyncio.to_thread(progress_chart, item, review.window)
        await client.files_upload_v2(channel=channel, content=png, filename=f"{item.view.row.key}-progress.png",
                                     title=f"{item.view.row.key} progress · {review.period}")
    return len(review.items)
