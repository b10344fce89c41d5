"""Which use case runs which kind of job, and the two workers of every process: the job runner and the sender.

Each feature that adds a job kind adds its line to `job_handlers`. Handlers and hooks get the context bound here,
so the workers need only the database, the clock and a way to publish what a handler returns.
"""

from __future__ import annotations

from functools import partial

from widget_server.jobs.runner import Handler, JobRunner, Publish
from widget_server.mail.sender import OutboxSender
from widget_server.services import agenda, conversation_mail, forms, mail_outcomes
from widget_server.services.context import Context
from widget_server.services.unit_of_work import publish_all


def job_handlers(ctx: Context) -> dict[str, Handler]:
    handlers: dict[str, Handler] = {
        forms.FORM_JOB: partial(forms.run_form_job, ctx),
        conversation_mail.UNREAD_JOB: partial(conversation_mail.send_unread, ctx),
        agenda.REMINDER_JOB: partial(agenda.fire_reminder, ctx),
    }
    if ctx.settings.test_clock_file is not None:
        # Multi-process tests only: a job kind whose effect the test can observe (never in production).
        from widget_server.assembly.testing import test_handlers

        handlers |= test_handlers(ctx)
    return handlers


def publisher(ctx: Context) -> Publish:
    return partial(publish_all, ctx)


def job_runner(ctx: Context) -> JobRunner:
    return JobRunner(ctx.db, ctx.clock, job_handlers(ctx), publisher(ctx))


def mail_sender(ctx: Context) -> OutboxSender:
    """Sends the outbox when an SMTP server is configured; without one, e-mails wait there for operators to read."""
    return OutboxSender(
        ctx.settings,
        ctx.db,
        ctx.clock,
        publisher(ctx),
        on_sent=partial(mail_outcomes.on_email_sent, ctx),
        on_failed=partial(mail_outcomes.on_email_failed, ctx),
    )
