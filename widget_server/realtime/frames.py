"""Inbound frames: every frame a client may send, as pydantic models, and the parser that picks one.

A frame that is not JSON, has an unknown `type` or a wrong field becomes an `InvalidInput` with a code the
client can act on; the connection survives it.
"""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from widget_server.errors import InvalidInput

ClientMsgId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
Ref = Annotated[str, StringConstraints(max_length=64)]
DialogId = Annotated[int, Field(ge=1, le=2**62)]
Seq = Annotated[int, Field(ge=0, le=2**31)]
# Texts are checked for length against the setting after parsing; this cap only keeps validation cheap.
RawText = Annotated[str, StringConstraints(max_length=100_000)]


class Frame(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class PageIn(Frame):
    url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    title: Annotated[str, StringConstraints(max_length=300)] | None = None


class ResumeIn(Frame):
    dialog_id: DialogId
    last_seq: Seq


class Hello(Frame):
    type: Literal["hello"]
    line: Annotated[str, StringConstraints(max_length=64)] | None = None
    token: Annotated[str, StringConstraints(max_length=128)] | None = None
    page: PageIn | None = None
    lang: Annotated[str, StringConstraints(max_length=35)] | None = None
    resume: ResumeIn | None = None
    # The token of an e-mail's link back to a conversation (`#openline=<token>` on the page's URL).
    link: Annotated[str, StringConstraints(max_length=200)] | None = None


class Open(Frame):
    type: Literal["open"]
    ref: Ref | None = None


class VisitorSend(Frame):
    type: Literal["send"]
    client_msg_id: ClientMsgId
    text: RawText


class VisitorTyping(Frame):
    type: Literal["typing"]
    active: bool = True


class VisitorSeen(Frame):
    type: Literal["seen"]
    seq: Seq


FormId = Annotated[int, Field(ge=1, le=2**62)]
RequiredRef = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# Form values are strings; their own rules (e-mail, phone, lengths) are checked by the form, field by field.
FormValue = Annotated[str, StringConstraints(max_length=2000)]


class FormSubmit(Frame):
    type: Literal["form.submit"]
    ref: RequiredRef
    form_id: FormId
    values: Annotated[dict[Annotated[str, StringConstraints(max_length=32)], FormValue], Field(max_length=10)]


class FormDismiss(Frame):
    type: Literal["form.dismiss"]
    ref: RequiredRef
    form_id: FormId


class TranscriptRequestIn(Frame):
    type: Literal["transcript.request"]
    ref: RequiredRef


class Ping(Frame):
    type: Literal["ping"]


class Auth(Frame):
    type: Literal["auth"]
    token: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class Join(Frame):
    type: Literal["join"]
    dialog_id: DialogId
    last_seq: Seq = 0


class OperatorSend(Frame):
    type: Literal["send"]
    dialog_id: DialogId
    client_msg_id: ClientMsgId
    text: RawText


class OperatorTyping(Frame):
    type: Literal["typing"]
    dialog_id: DialogId
    active: bool = True


class OperatorSeen(Frame):
    type: Literal["seen"]
    dialog_id: DialogId
    seq: Seq


class Close(Frame):
    type: Literal["close"]
    dialog_id: DialogId
    ref: Ref | None = None


class OperatorNote(Frame):
    type: Literal["note"]
    dialog_id: DialogId
    client_msg_id: ClientMsgId
    text: RawText


class SetStatus(Frame):
    type: Literal["status"]
    dialog_id: DialogId
    status: Literal["new", "in_progress", "waiting", "finished"]
    ref: Ref | None = None


class Leave(Frame):
    type: Literal["leave"]
    dialog_id: DialogId
    ref: Ref | None = None


class Assign(Frame):
    type: Literal["assign"]
    dialog_id: DialogId
    operator_id: Annotated[int, Field(ge=1, le=2**31)]
    mode: Literal["transfer", "add", "remove"] = "transfer"
    ref: Ref | None = None


VISITOR_FRAMES: dict[str, type[Frame]] = {
    "hello": Hello,
    "open": Open,
    "send": VisitorSend,
    "typing": VisitorTyping,
    "seen": VisitorSeen,
    "ping": Ping,
    "form.submit": FormSubmit,
    "form.dismiss": FormDismiss,
    "transcript.request": TranscriptRequestIn,
}

OPERATOR_FRAMES: dict[str, type[Frame]] = {
    "auth": Auth,
    "join": Join,
    "send": OperatorSend,
    "typing": OperatorTyping,
    "seen": OperatorSeen,
    "close": Close,
    "note": OperatorNote,
    "status": SetStatus,
    "leave": Leave,
    "assign": Assign,
    "ping": Ping,
}


def parse_frame(raw: str, models: dict[str, type[Frame]]) -> Frame:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput("The frame is not valid JSON", "bad_json") from None
    if not isinstance(data, dict):
        raise InvalidInput("The frame must be a JSON object", "bad_json")
    kind = data.get("type")
    model = models.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise InvalidInput(f"type: expected one of {', '.join(sorted(models))}", "unknown_type")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "frame"
        raise InvalidInput(f"{where}: {first['msg']}") from None


def frame_ref(raw: str) -> str | None:
    """The id a bad frame carried, if one can be found, so the client can match the error to its frame."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    for key in ("client_msg_id", "ref"):
        value = data.get(key)
        if isinstance(value, str) and len(value) <= 64:
            return value
    return None
