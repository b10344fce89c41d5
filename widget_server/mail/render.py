"""Rendering an e-mail from its three templates in `email_templates/`, in a line's language and time zone.

Each e-mail is `<name>.subject.txt`, `<name>.txt` and `<name>.html`, rendered from one context. Strings go
through the Babel catalogs of `widget_server/i18n` (jinja2's i18n extension, `_()`), so a string missing from a
catalog comes out in English. HTML templates autoescape everything; the text ones do not, since they are not
HTML. Dates are formatted by Babel for the language, in the line's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime, format_time
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from widget_server.assets import asset_dir
from widget_server.domain.text import single_line
from widget_server.i18n import normalize_language, translations

SUBJECT_MAX = 250


def zone(name: str | None) -> tzinfo:
    """The IANA zone, or UTC for an empty or unknown name (lines are validated; this is the last guard)."""
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def valid_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# DateFormat has a `datetime` method (templates call `fmt.datetime(d)`): in the class body, below it, that name is
# the method, so the type is spelt `_DateTime` there.
_DateTime = datetime


@dataclass(frozen=True)
class DateFormat:
    """Dates for templates: `fmt.datetime(d)`, `fmt.date(d)`, `fmt.time(d)`, `fmt.offset(d)`."""

    language: str
    tz: tzinfo

    def local(self, value: datetime) -> datetime:
        return value.astimezone(self.tz)

    def date(self, value: datetime) -> str:
        return format_date(self.local(value), "long", locale=self.language)

    def time(self, value: datetime) -> str:
        return format_time(value, "short", tzinfo=self.tz, locale=self.language)

    def offset(self, value: datetime) -> str:
        return format_datetime(value, "ZZZZ", tzinfo=self.tz, locale=self.language)

    def datetime(self, value: datetime) -> str:
        return f"{self.date(value)}, {self.time(value)} ({self.offset(value)})"

    def same_day(self, a: _DateTime, b: _DateTime) -> bool:
        return self.local(a).date() == self.local(b).date()


def nl2br(value: str) -> Markup:
    """Escape, then keep the message's line breaks as <br> (mail clients ignore `white-space: pre-wrap`)."""
    return Markup("<br>\n").join(escape(line) for line in str(value).split("\n"))


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(asset_dir("email_templates")),
        extensions=["jinja2.ext.i18n"],
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # Added by the i18n extension at run time: Environment does not declare it.
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["nl2br"] = nl2br
    return env


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(name: str, language: str | None, time_zone: str | None, **context: object) -> RenderedEmail:
    lang = normalize_language(language)
    env = environment(lang)
    values = {**context, "fmt": DateFormat(lang, zone(time_zone)), "lang": lang}
    subject = env.get_template(f"{name}.subject.txt").render(values)
    return RenderedEmail(
        # A subject is one line whatever went into it (a line name with a newline cannot start a header).
        subject=single_line(subject, SUBJECT_MAX),
        text=env.get_template(f"{name}.txt").render(values),
        html=env.get_template(f"{name}.html").render(values),
    )


def render_part(template: str, language: str | None, time_zone: str | None, **context: object) -> str:
    """One template on its own (an attachment's text), with the same language, dates and filters."""
    lang = normalize_language(language)
    values = {**context, "fmt": DateFormat(lang, zone(time_zone)), "lang": lang}
    return environment(lang).get_template(template).render(values)
