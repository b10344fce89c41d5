"""Uploads: the declared type must be allowed and agree with the file's first bytes."""

from __future__ import annotations

import pytest

from widget_server.domain.file_types import DEFAULT_ALLOWED, Accepted, Refused, check_upload, clean_filename

ALLOWED = frozenset(DEFAULT_ALLOWED)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"


def test_a_real_png_is_accepted_as_an_image():
    assert check_upload("image/png", "shot.png", PNG, ALLOWED) == Accepted("image/png", True)


def test_a_pdf_is_a_download_not_an_image():
    assert check_upload("application/pdf", "invoice.pdf", PDF, ALLOWED) == Accepted("application/pdf", False)


def test_html_dressed_as_a_png_is_refused():
    verdict = check_upload("image/png", "cat.png", b"<html><script>alert(1)</script>", ALLOWED)
    assert isinstance(verdict, Refused) and verdict.code == "type_mismatch"


@pytest.mark.parametrize("kind", ["text/html", "image/svg+xml", "application/x-msdownload"])
def test_types_outside_the_allow_list_are_refused(kind):
    verdict = check_upload(kind, "x", b"<svg onload=alert(1)>", ALLOWED)
    assert isinstance(verdict, Refused) and verdict.code == "type_not_allowed"


def test_the_extension_stands_in_for_a_missing_type():
    assert check_upload("application/octet-stream", "notes.txt", "Привет\n".encode(), ALLOWED) == Accepted(
        "text/plain", False
    )
    assert isinstance(check_upload(None, "notes.txt", b"\x00\x01binary", ALLOWED), Refused)


def test_an_empty_file_is_refused():
    assert check_upload("text/plain", "a.txt", b"", ALLOWED) == Refused("empty", "The file is empty")


def test_a_narrower_allow_list_is_respected():
    assert isinstance(check_upload("application/pdf", "a.pdf", PDF, frozenset({"image/png"})), Refused)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("bad\r\nname.txt", "badname.txt"),
        ("", "file"),
        ("..", "file"),
        ("a" * 300 + ".pdf", "a" * 196 + ".pdf"),
    ],
)
def test_file_names_lose_paths_and_control_characters(raw, clean):
    assert clean_filename(raw) == clean
