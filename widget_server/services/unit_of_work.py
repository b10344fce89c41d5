"""Events are published after the commit, by the use case that made them, never by its caller.

A use case collects what it will tell (`Outcome.events`: an event and its topics) while its transaction runs, and
returns after the commit. `@publishes` makes that return the moment they go out: every entry point (a socket's
frame, a REST call, a job) gets the same order of "stored, then told", and none of them has to remember to publish.
A use case that calls another one inside its own transaction calls the undecorated function (`.inner`), so nothing
is told before the outer transaction has committed.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Concatenate, Generic, ParamSpec, Protocol, TypeVar

from widget_server.realtime.events import Published
from widget_server.services.context import Context


class Told(Protocol):
    events: list[Published]


P = ParamSpec("P")
R = TypeVar("R", bound=Told)


def publish_all(ctx: Context, events: list[Published]) -> None:
    for topics, event in events:
        for topic in topics:
            ctx.events.publish(topic, event)


class UseCase(Generic[P, R]):
    """A use case that publishes its outcome's events once it returns; `inner` is the use case itself."""

    def __init__(self, inner: Callable[Concatenate[Context, P], Awaitable[R]]) -> None:
        self.inner = inner
        functools.update_wrapper(self, inner)

    async def __call__(self, ctx: Context, *args: P.args, **kwargs: P.kwargs) -> R:
        outcome = await self.inner(ctx, *args, **kwargs)
        events, outcome.events = outcome.events, []  # told once, even if a caller hands the outcome on
        publish_all(ctx, events)
        return outcome


def publishes(use_case: Callable[Concatenate[Context, P], Awaitable[R]]) -> UseCase[P, R]:
    return UseCase(use_case)
