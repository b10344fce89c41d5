"""What the forms say, in the line's language: titles, field labels and the message for each field problem."""

from __future__ import annotations

from typing import Any

from widget_server.domain.contact_fields import COMMENT_MAX, EMAIL_MAX, NAME_MAX, PHONE_INPUT_MAX, Bad, Problem
from widget_server.domain.form_schedule import FormKind
from widget_server.i18n import gettext

STEP_NAME = "name"
STEP_CONTACTS = "contacts"


def problem_text(language: str, bad: Bad) -> str:
    messages = {
        Problem.REQUIRED: gettext(language, "Please fill in this field."),
        Problem.TOO_LONG: gettext(language, "At most {limit} characters, please.", limit=bad.limit),
        Problem.CONTROL_CHARS: gettext(language, "Line breaks and control characters are not allowed here."),
        Problem.INVALID_EMAIL: gettext(language, "This does not look like an e-mail address."),
        Problem.INVALID_PHONE: gettext(language, "This does not look like a phone number."),
        Problem.PHONE_NEEDS_COUNTRY: gettext(language, "Please add the country code, starting with +."),
        Problem.EMAIL_OR_PHONE: gettext(language, "Please enter an e-mail or a phone number."),
        Problem.INVALID_CHOICE: gettext(language, "Please choose one of the options."),
    }
    return messages[bad.problem]


def _field(
    name: str, kind: str, label: str, value: str | None, required: bool, limit: int, auto: str
) -> dict[str, Any]:
    return {
        "name": name,
        "type": kind,
        "label": label,
        "value": value or "",
        "required": required,
        "max_length": limit,
        "autocomplete": auto,
    }


def form_view(language: str, kind: FormKind, step: str, values: dict[str, str | None]) -> dict[str, Any]:
    """Title, text, fields (with the current values) and button labels of a form, ready for the widget."""
    name = _field("name", "text", gettext(language, "Your name"), values.get("name"), True, NAME_MAX, "name")
    email = _field("email", "email", gettext(language, "E-mail"), values.get("email"), False, EMAIL_MAX, "email")
    phone = _field("phone", "tel", gettext(language, "Phone"), values.get("phone"), False, PHONE_INPUT_MAX, "tel")
    view: dict[str, Any] = {
        "submit": gettext(language, "Send"),
        "dismiss": gettext(language, "Not now"),
        "text": "",
    }
    if kind is FormKind.INTRO:
        view["title"] = gettext(language, "Please introduce yourself")
        if step == STEP_NAME:
            view["fields"] = [name]
        else:
            view["text"] = gettext(language, "How can we reach you if the chat is interrupted?")
            view["fields"] = [name, email, phone]
    elif kind is FormKind.OFFLINE:
        view["title"] = gettext(language, "Leave your contacts and we will notify you of the answer")
        view["fields"] = [{**name, "required": False}, email, phone]
    elif kind is FormKind.TRANSCRIPT:
        view["title"] = gettext(language, "Enter the e-mail to which we will send a copy of the conversation")
        view["fields"] = [{**email, "required": True}]
    else:
        view["title"] = gettext(language, "Please rate the dialog")
        view["fields"] = [
            {
                "name": "rating",
                "type": "choice",
                "label": gettext(language, "Your rating"),
                "value": values.get("rating") or "",
                "required": True,
                "options": [
                    {"value": "good", "label": gettext(language, "Good")},
                    {"value": "bad", "label": gettext(language, "Bad")},
                ],
            },
            _field("comment", "textarea", gettext(language, "Comment (optional)"), None, False, COMMENT_MAX, "off"),
        ]
    return view


def card_text(language: str, kind: FormKind, values: dict[str, str]) -> str:
    details = ", ".join(values[k] for k in ("name", "email", "phone") if values.get(k))
    if kind is FormKind.TRANSCRIPT:
        return gettext(language, "The visitor asked for a copy of the conversation at {email}", email=values["email"])
    return gettext(language, "Contact details from the visitor: {details}", details=details)


def rating_text(language: str, rating: str, comment: str | None) -> str:
    label = gettext(language, "Good") if rating == "good" else gettext(language, "Bad")
    if comment:
        return gettext(
            language, "The visitor rated the dialog: {rating}. Comment: {comment}", rating=label, comment=comment
        )
    return gettext(language, "The visitor rated the dialog: {rating}", rating=label)
