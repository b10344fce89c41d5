"""Which handler runs which kind of job. Each feature adds its kinds here."""

from __future__ import annotations

from widget_server.jobs.runner import Handler
from widget_server.services import forms


def default_handlers() -> dict[str, Handler]:
    return {forms.FORM_JOB: forms.run_form_job}
