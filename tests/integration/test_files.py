"""Files: operators and visitors attach them; size limit and type allow-list; only the dialog's people fetch them."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.clients import OperatorClient, Visitor, api, login, make_line, make_operator
from widget_server.storage.file_store import LocalFileStore

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def operator_upload(server, token, dialog_id, content, name, kind, cid):
    with api(server, token) as client:
        return client.post(
            f"/api/dialogs/{dialog_id}/files",
            params={"name": name, "client_msg_id": cid},
            content=content,
            headers={"content-type": kind},
        )


def visitor_upload(server, line_id, token, content, name, kind, cid, origin=None):
    return httpx.post(
        f"{server.url}/api/visitor/files",
        params={"line": line_id, "name": name, "client_msg_id": cid},
        content=content,
        headers={
            "content-type": kind,
            "authorization": f"Bearer {token}",
            "origin": origin or server.url,
        },
    )


async def test_files_go_both_ways_as_previews_or_links_and_only_their_dialog_gets_them(server):
    admin = login(server)
    line = make_line(server, admin)
    other_line = make_line(server, admin)
    _, outsider = make_operator(server, admin, [other_line["id"]])
    operator = await OperatorClient.connect(server, admin)
    visitor = await Visitor.connect(server, line=line["id"])
    dialog_id = (await visitor.say("Here is a photo of the damage"))["dialog_id"]

    # The visitor attaches a picture from the widget (its own token, from the site's origin).
    sent = visitor_upload(server, line["id"], visitor.token, PNG, "damage.png", "image/png", "visitor-file-01")
    assert sent.status_code == 201, sent.text
    assert sent.headers["access-control-allow-origin"] == server.url
    assert sent.json()["dialog_id"] == dialog_id
    got = await operator.expect("message", seq=sent.json()["seq"])
    assert got["kind"] == "file" and got["text"] == "damage.png"
    assert got["file"]["is_image"] is True and got["file"]["size"] == len(PNG)
    echo = await visitor.expect("message", seq=sent.json()["seq"])
    image = httpx.get(echo["file"]["url"])
    assert image.status_code == 200 and image.content == PNG
    assert image.headers["content-type"] == "image/png"
    assert image.headers["content-disposition"].startswith("inline")
    assert "sandbox" in image.headers["content-security-policy"]

    # The operator answers with a document: a link, downloaded as an attachment.
    doc = operator_upload(
        server, admin, dialog_id, b"%PDF-1.4\n...", "Return label.pdf", "application/pdf", "op-file-001"
    )
    assert doc.status_code == 201, doc.text
    link = (await visitor.expect("message", seq=doc.json()["seq"]))["file"]
    assert link["is_image"] is False
    download = httpx.get(link["url"])
    assert download.status_code == 200 and download.headers["content-disposition"].startswith("attachment")
    assert "Return%20label.pdf" in download.headers["content-disposition"]

    # The same upload retried (same client_msg_id) is acknowledged again, not stored twice.
    retry = operator_upload(
        server, admin, dialog_id, b"%PDF-1.4\n...", "Return label.pdf", "application/pdf", "op-file-001"
    )
    assert retry.status_code == 200 and retry.json()["duplicate"] is True
    assert retry.json()["seq"] == doc.json()["seq"]

    # Without the signed link nobody gets the file; a tampered link neither.
    parts = urlsplit(link["url"])
    bare = f"{server.url}{parts.path}"
    assert httpx.get(bare).status_code == 403
    query = parse_qs(parts.query)
    forged = f"{bare}?exp={int(query['exp'][0]) + 3600}&sig={query['sig'][0]}"
    assert httpx.get(forged).status_code == 403
    # An operator of the line may fetch by session; one of another line may not.
    assert httpx.get(bare, headers={"Authorization": f"Bearer {admin}"}).status_code == 200
    assert httpx.get(bare, headers={"Authorization": f"Bearer {outsider}"}).status_code == 403

    # Another visitor's upload lands in their own dialog, never in this one.
    stranger = await Visitor.connect(server, line=line["id"])
    theirs = visitor_upload(server, line["id"], stranger.token, PNG, "mine.png", "image/png", "stranger-file-1")
    assert theirs.status_code == 201 and theirs.json()["dialog_id"] != dialog_id
    assert all(f.get("text") != "mine.png" for f in await visitor.remaining())
    for client in (operator, visitor, stranger):
        await client.close()


async def test_uploads_are_checked_for_type_size_origin_and_identity(fresh_server):
    fresh_server.overrides = {"max_upload_bytes": 2048, "upload_types": "image/png,text/plain"}
    server = fresh_server.start()
    admin = login(server)
    line = make_line(server, admin)
    visitor = await Visitor.connect(server, line=line["id"])
    dialog_id = (await visitor.say("hi"))["dialog_id"]

    too_big = operator_upload(server, admin, dialog_id, b"x" * 4096, "big.txt", "text/plain", "too-big-0001")
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "too_large"
    html = operator_upload(
        server, admin, dialog_id, b"<script>alert(1)</script>", "x.html", "text/html", "html-file-01"
    )
    assert html.status_code == 400 and html.json()["error"]["code"] == "type_not_allowed"
    pdf = operator_upload(server, admin, dialog_id, b"%PDF-1.4", "a.pdf", "application/pdf", "pdf-file-001")
    assert pdf.status_code == 400 and pdf.json()["error"]["code"] == "type_not_allowed"  # not on this allow-list
    fake = operator_upload(server, admin, dialog_id, b"<html>", "cat.png", "image/png", "fake-png-001")
    assert fake.status_code == 400 and fake.json()["error"]["code"] == "type_mismatch"
    no_id = operator_upload(server, admin, dialog_id, b"hello", "a.txt", "text/plain", "x")
    assert no_id.status_code == 400
    # Nothing refused was kept on disk (only the staging area exists).
    stored = [p for p in (server.data_dir / "uploads").rglob("*") if p.is_file()]
    assert stored == []

    wrong_site = visitor_upload(
        server, line["id"], visitor.token, PNG[:100], "a.png", "image/png", "wrong-site-1", "https://evil.example"
    )
    assert wrong_site.status_code == 403 and wrong_site.json()["error"]["code"] == "origin_not_allowed"
    nobody = visitor_upload(server, line["id"], "made-up-token", PNG[:100], "a.png", "image/png", "no-visitor-1")
    assert nobody.status_code == 401
    preflight = httpx.options(
        f"{server.url}/api/visitor/files", params={"line": line["id"]}, headers={"origin": server.url}
    )
    assert preflight.status_code == 204
    assert "authorization" in preflight.headers["access-control-allow-headers"]

    # Links expire: FILE_LINK_TTL_HOURS later the visitor's link no longer works.
    ok = visitor_upload(server, line["id"], visitor.token, PNG[:100], "a.png", "image/png", "expiring-01")
    assert ok.status_code == 201
    url = (await visitor.expect("message", seq=ok.json()["seq"]))["file"]["url"]
    assert httpx.get(url).status_code == 200
    server.clock.advance(31 * 24 * 3600)
    assert httpx.get(url).status_code == 403
    await visitor.close()


class RemoteLikeStore(LocalFileStore):
    """A store that keeps no file on this machine's disk (as object storage would): downloads are streamed."""

    def local_path(self, key: str) -> Path | None:
        return None


async def test_a_file_missing_from_the_store_is_404_file_gone_and_streamed_files_keep_their_disposition(server):
    admin = login(server)
    line = make_line(server, admin)
    operator = await OperatorClient.connect(server, admin)
    visitor = await Visitor.connect(server, line=line["id"])
    dialog_id = (await visitor.say("The invoice, please"))["dialog_id"]
    pdf, png = b"%PDF-1.4\ninvoice 7", PNG + b"shelf"
    doc = operator_upload(server, admin, dialog_id, pdf, "Invoice 7.pdf", "application/pdf", "inv-0001")
    photo = operator_upload(server, admin, dialog_id, png, "shelf.png", "image/png", "shelf-0001")
    doc_url = (await visitor.expect("message", seq=doc.json()["seq"]))["file"]["url"]
    photo_url = (await visitor.expect("message", seq=photo.json()["seq"]))["file"]["url"]

    ctx = server.app.state.ctx
    local = ctx.files
    ctx.files = RemoteLikeStore(server.data_dir / "uploads")
    try:
        streamed = httpx.get(doc_url)
        assert streamed.status_code == 200 and streamed.content == pdf
        assert streamed.headers["content-disposition"] == "attachment; filename*=utf-8''Invoice%207.pdf"
        assert "sandbox" in streamed.headers["content-security-policy"]
        assert httpx.get(photo_url).headers["content-disposition"] == 'inline; filename="shelf.png"'
    finally:
        ctx.files = local

    # The bytes vanish (a lost disk, or another server's disk): a clear 404, never a server error.
    for path in (server.data_dir / "uploads").rglob("*"):
        if path.is_file() and path.read_bytes() in (pdf, png):
            path.unlink()
    for url in (doc_url, photo_url):
        gone = httpx.get(url)
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "file_gone"
    ctx.files = RemoteLikeStore(server.data_dir / "uploads")
    try:
        gone = httpx.get(doc_url)
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "file_gone"
    finally:
        ctx.files = local
    await operator.close()
    await visitor.close()


async def test_visitor_uploads_are_rate_limited_per_visitor_and_per_address(fresh_server):
    fresh_server.overrides = {"visitor_uploads_per_minute": 2, "ip_uploads_per_minute": 4}
    server = fresh_server.start()
    admin = login(server)
    line = make_line(server, admin)
    alice = await Visitor.connect(server, line=line["id"])
    bob = await Visitor.connect(server, line=line["id"])

    def upload(visitor, cid):
        return visitor_upload(server, line["id"], visitor.token, PNG, "photo.png", "image/png", cid)

    assert upload(alice, "alice-file-1").status_code == 201
    assert upload(alice, "alice-file-2").status_code == 201
    # A third file within the minute: refused before it is stored, in a way the widget can read (CORS, code).
    refused = upload(alice, "alice-file-3")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert refused.headers["access-control-allow-origin"] == server.url
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # Another visitor has their own allowance, but every attempt counts for the address: one is left for all on it.
    assert upload(bob, "bob-file-01").status_code == 201
    assert upload(bob, "bob-file-02").status_code == 429
    made_up = visitor_upload(server, line["id"], "made-up-token", PNG, "x.png", "image/png", "made-up-01")
    assert made_up.status_code == 429  # made-up tokens cannot get around the address's limit
    stored = [p for p in (server.data_dir / "uploads").rglob("*") if p.is_file() and ".staging" not in p.parts]
    assert len(stored) == 3

    # A minute later (the injected clock) both may attach again; the refused file was never a message.
    server.clock.advance(60)
    again = upload(alice, "alice-file-3")
    assert again.status_code == 201 and again.json()["duplicate"] is False
    assert upload(bob, "bob-file-02").status_code == 201
    for visitor in (alice, bob):
        await visitor.close()
