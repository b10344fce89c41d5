"""Which handler runs which kind of job. Each feature adds its kinds here."""

from __future__ import annotations

from widget_server.jobs.runner import Handler
from widget_server.services import agenda, conversation_mail, forms


def default_handlers() -> dict[str, Handler]:
    return {
        forms.FORM_JOB: forms.run_form_job,
        conversation_mail.UNREAD_JOB: conversation_mail.send_unread,
        agenda.REMINDER_JOB: agenda.fire_reminder,
    }
