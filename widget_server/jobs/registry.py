"""Which handler runs which kind of job. Each feature adds its kinds here."""

from __future__ import annotations

from widget_server.jobs.runner import Handler
from widget_server.services import agenda


def default_handlers() -> dict[str, Handler]:
    return {agenda.REMINDER_JOB: agenda.fire_reminder}
