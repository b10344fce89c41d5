"""The widget's own texts, translated on the server and sent in `welcome.line.strings`, so the widget carries no
catalogs. Keys are what `t(key)` looks up in widget.js; `{name}`-style fields are filled in by the widget.

A new text: add it here (English), extract and translate as for any string (widget_server/i18n/__init__.py), and
use `t('key')` in widget.js, which keeps the English text as its fallback.
"""

from __future__ import annotations

from widget_server.i18n import N_, gettext

WIDGET_STRINGS: dict[str, str] = {
    "open": N_("Open chat"),
    "close": N_("Close chat"),
    "chat": N_("Chat"),
    "message": N_("Message"),
    "send": N_("Send"),
    "connecting": N_("Connecting…"),
    "reconnecting": N_("Reconnecting…"),
    "typing": N_("{name} is typing…"),
    "dialog": N_("Dialog #{number}"),
    "finished": N_("The dialog is finished. Write to start a new one."),
    "not_sent": N_("Not sent."),
    "retry": N_("Retry"),
    "retry_label": N_("Retry sending"),
    "unread": N_("Unread messages: {count}"),
    "operator": N_("Operator"),
    "attach": N_("Attach a file"),
    "uploading": N_("Sending {name}…"),
    "transcript": N_("Send a copy of the conversation"),
    "thanks": N_("Thank you!"),
    "error_too_long": N_("This message is too long."),
    "error_rate_limited": N_("You are sending messages too fast. Please wait a moment."),
    "error_internal": N_("Something went wrong. Please try again."),
    "error_invalid": N_("The message could not be sent."),
    "error_form_closed": N_("This form was already sent."),
    "error_too_large": N_("This file is too large."),
    "error_type_not_allowed": N_("Files of this type cannot be sent here."),
    "error_type_mismatch": N_("This file is not what its name says."),
    "error_invalid_link": N_("This link has expired. Write to us here and we will answer."),
}


def widget_strings(language: str) -> dict[str, str]:
    return {key: gettext(language, text) for key, text in WIDGET_STRINGS.items()}
