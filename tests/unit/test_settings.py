"""Settings come from the environment; a bad one stops the start with the variable's name."""

from __future__ import annotations

import pytest

from widget_server.config import load_settings


def test_a_bad_setting_names_the_variable(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "mysql://nope")
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    assert stopped.value.code == 2
    assert "DATABASE_URL" in capsys.readouterr().err


def test_a_bad_number_names_the_variable(monkeypatch, capsys):
    monkeypatch.setenv("MAX_FRAME_BYTES", "lots")
    with pytest.raises(SystemExit):
        load_settings()
    assert "MAX_FRAME_BYTES" in capsys.readouterr().err


def test_defaults_run_on_sqlite_in_the_data_dir_with_a_persistent_generated_secret(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.db_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'openline.db'}"
    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.redis_url is None
    first = settings.secret
    assert load_settings().secret == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_public_url_follows_the_port_unless_set(monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    assert load_settings().public_url == "http://127.0.0.1:8123"
    monkeypatch.setenv("PUBLIC_URL", "https://chat.shop.example/")
    assert load_settings().public_origin == "https://chat.shop.example"


def test_secrets_do_not_show_in_the_settings_repr(monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", "hunter2-smtp")
    monkeypatch.setenv("SECRET_KEY", "very-secret-key")
    text = repr(load_settings())
    assert "hunter2-smtp" not in text and "very-secret-key" not in text


def test_redis_url_chooses_the_redis_bus_with_the_installations_channel_prefix(monkeypatch, capsys):
    from widget_server.realtime.bus import MemoryBus
    from widget_server.realtime.bus_choice import make_bus
    from widget_server.realtime.redis_bus import RedisBus

    assert isinstance(make_bus(load_settings().redis_url), MemoryBus)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("REDIS_PREFIX", "shop-a")
    settings = load_settings()
    bus = make_bus(settings.redis_url, settings.redis_prefix)
    assert isinstance(bus, RedisBus) and bus.url == "redis://127.0.0.1:6379/0"
    monkeypatch.setenv("REDIS_PREFIX", "two words")
    with pytest.raises(SystemExit):
        load_settings()
    assert "REDIS_PREFIX" in capsys.readouterr().err


def test_the_test_clock_file_moves_time_for_every_reader_at_once(tmp_path):
    from widget_server.clock import FileClock

    writer, reader = FileClock(tmp_path / "clock"), FileClock(tmp_path / "clock")
    start = reader.now()
    writer.advance(29.5)
    writer.advance(0.5)
    assert (reader.now() - start).total_seconds() == 30
    assert reader.monotonic() == writer.monotonic()


def test_collector_thresholds_are_three_numbers_or_empty_for_pythons_own(monkeypatch, capsys):
    from widget_server.gc_policy import DEFAULT_THRESHOLDS, parse_thresholds

    assert parse_thresholds(load_settings().gc_thresholds) == DEFAULT_THRESHOLDS
    assert parse_thresholds(" 5000, 10 ,10") == (5000, 10, 10)
    assert parse_thresholds("") is None
    monkeypatch.setenv("GC_THRESHOLDS", "20000,20")
    with pytest.raises(SystemExit):
        load_settings()
    assert "GC_THRESHOLDS" in capsys.readouterr().err
    with pytest.raises(ValueError, match="at least 1"):
        parse_thresholds("0,10,10")
