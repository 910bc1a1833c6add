"""Answer Slack the moment a listener calls ack(), not on Bolt's next 10 ms poll.

Bolt's asyncio listener runner starts the listener as a task, then checks every 10 ms whether ack() has been
called. That adds up to 10 ms to every answer, more when the loop is busy, and with 20 requests in flight it
wakes the loop 2,000 times a second for nothing. Here ack() wakes the waiting request itself.

After answering, ack() returns when the listener's turn comes (bot/answers_first.py): requests still waiting for
their answer go first. An event's listener, answered before it starts, waits its turn before it starts.

Everything else is Bolt's: lazy listeners and process_before_response keep Bolt's own path, the listener's
errors go to the app's error handler as they would there, and a listener that neither acks nor ends within its
ack_timeout is answered with nothing, as Bolt does.
"""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.listener.async_listener import AsyncListener
from slack_bolt.listener.asyncio_runner import AsyncioListenerRunner
from slack_bolt.logger.messages import warning_did_not_call_ack
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.answers_first import AnswersFirst
from storage.db import in_session


class PromptAck(AsyncAck):
    """Bolt's ack, which also wakes the request waiting to be answered, then waits for the listener's turn."""

    def __init__(self, answers_first: AnswersFirst) -> None:
        super().__init__()
        self.answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._answers_first = answers_first

    async def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        response = await self.answer(*args, **kwargs)
        if not in_session():  # its connection, or its locks, may be what the requests waiting for answers need
            await self._answers_first.turn()
        return response

    async def answer(self, *args: Any, **kwargs: Any) -> BoltResponse:
        """Answer, without waiting for a turn afterwards."""
        response = await super().__call__(*args, **kwargs)
        _settle(self.answered)
        return response


class PromptListenerRunner(AsyncioListenerRunner):
    """Bolt's runner, waiting on the listener's ack() instead of polling for it."""

    def __init__(self, *args: Any, answers_first: AnswersFirst | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answers_first = answers_first or AnswersFirst()
        self._running: set[asyncio.Future[None]] = set()

    @classmethod
    def replacing(cls, runner: AsyncioListenerRunner) -> PromptListenerRunner:
        return cls(
            logger=runner.logger,
            process_before_response=runner.process_before_response,
            listener_error_handler=runner.listener_error_handler,
            listener_start_handler=runner.listener_start_handler,
            listener_completion_handler=runner.listener_completion_handler,
            lazy_listener_runner=runner.lazy_listener_runner,
        )

    async def run(self, request: AsyncBoltRequest, response: BoltResponse, listener_name: str,
                  listener: AsyncListener, starting_time: float | None = None) -> BoltResponse | None:
        if self.process_before_response or request.lazy_only or listener.lazy_functions \
                or request.context.ack.response is not None:
            return await super().run(request, response, listener_name, listener, starting_time)
        ack = PromptAck(self.answers_first)
        request.context["ack"] = ack  # the listener's `ack` argument is read from the context when it starts
        if listener.auto_acknowledgement:
            await ack.answer()  # events: answered before the listener runs
        # Named for its listener: asyncio's debug mode and task dumps then say which one ran long.
        listener_task = asyncio.get_running_loop().create_task(
            self._run_listener(ack, request, response, listener), name=f"listener:{listener_name}")
        self._running.add(listener_task)  # the loop holds tasks weakly: this one runs on after the answer
        listener_task.add_done_callback(self._running.discard)
        # A listener that fails (or ends) without ack() is answered by what its error handler left in ack.
        listener_task.add_done_callback(lambda _: _settle(ack.answered))
        timeout = asyncio.get_running_loop().call_later(listener.ack_timeout, _settle, ack.answered)
        try:
            await asyncio.shield(ack.answered)  # the listener goes on after its ack, whatever happens here
        finally:
            timeout.cancel()
        if ack.response is None:
            self.logger.warning(warning_did_not_call_ack(listener_name))
        return ack.response

    async def _run_listener(self, ack: AsyncAck, request: AsyncBoltRequest, response: BoltResponse | None,
                            listener: AsyncListener) -> None:
        """Bolt's run_ack_function_asynchronously: the listener, its errors to the app's error handler."""
        if listener.auto_acknowledgement:  # already answered: everything the listener does comes after answers
            await self.answers_first.turn()
        try:
            await self.listener_start_handler.handle(request=request, response=response)
            await listener.run_ack_function(request=request, response=response)  # type: ignore[arg-type]
        except Exception as error:
            if response is None:
                response = BoltResponse(status=500)
            response.status = 500
            if ack.response is not None:  # already answered: the error is only handled
                response = None
            await self.listener_error_handler.handle(error=error, request=request, response=response)
            ack.response = response
        finally:
            await self.listener_completion_handler.handle(request=request, response=response)  # type: ignore[arg-type]


def answer_on_ack(app: AsyncApp) -> None:
    """Install the prompt runner on `app` (Bolt offers no setting for its runner)."""
    app._async_listener_runner = PromptListenerRunner.replacing(app.listener_runner)


def answers_first_of(app: AsyncApp) -> AnswersFirst:
    """The count of `app`'s requests waiting for their answer, which the web server keeps (bot/server.py)."""
    runner = app.listener_runner
    if not isinstance(runner, PromptListenerRunner):
        raise TypeError("answer_on_ack(app) first")
    return runner.answers_first


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
