"""Origins are compared whole: a look-alike host never passes."""

from __future__ import annotations

import pytest

from widget_server.domain.origins import normalize_origin, origin_allowed

ALLOWED = ["https://site.example"]


@pytest.mark.parametrize(
    "origin",
    ["https://site.example", "https://SITE.example", "https://site.example:443", "https://site.example/"],
)
def test_the_sites_own_origin_passes(origin):
    assert origin_allowed(origin, ALLOWED)


@pytest.mark.parametrize(
    "origin",
    [
        "https://site.example.evil.com",
        "https://evil-site.example",
        "https://evilsite.example",
        "http://site.example",
        "https://site.example:8443",
        "https://user@site.example",
        "null",
        "",
        None,
        "javascript:alert(1)",
        "https://site.example:99999",
    ],
)
def test_look_alikes_and_garbage_do_not(origin):
    assert not origin_allowed(origin, ALLOWED)


def test_normalising_keeps_non_default_ports_and_ipv6():
    assert normalize_origin("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert normalize_origin("http://[::1]:80") == "http://[::1]"
