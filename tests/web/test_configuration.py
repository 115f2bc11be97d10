"""Issue 2, configuration: production refuses unsafe settings; development makes its keys once."""

import base64
import os
import stat

import pytest

from wizard.config import ConfigError, from_environment


def production(**overrides):
    environ = {
        "WIZARD_ENV": "production",
        "WIZARD_SANDBOX": "0",
        "WIZARD_SECRET_KEY": "a-production-secret-key-of-its-own",
        "WIZARD_SEED_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "WIZARD_DATABASE_URL": "sqlite://",
    }
    environ.update(overrides)
    return {k: v for k, v in environ.items() if v is not None}


def refusal(app_factory, environ) -> str:
    with pytest.raises(ConfigError) as refused:
        app_factory(environ=environ)
    message = str(refused.value)
    assert "\n" not in message, "the refusal is one line"
    return message


@pytest.mark.parametrize("sandbox", ["1", "true", "on", "yes"])
def test_cant_start_production_with_sandbox_on(app_factory, sandbox):
    message = refusal(app_factory, production(WIZARD_SANDBOX=sandbox))
    assert "WIZARD_SANDBOX" in message


@pytest.mark.parametrize(
    "missing, value",
    [
        ("WIZARD_SECRET_KEY", None),
        ("WIZARD_SECRET_KEY", ""),
        ("WIZARD_SECRET_KEY", "   "),
        ("WIZARD_SEED_KEY", None),
        ("WIZARD_SEED_KEY", ""),
    ],
)
def test_cant_start_production_without_its_own_keys(app_factory, missing, value):
    message = refusal(app_factory, production(**{missing: value}))
    assert missing in message


@pytest.mark.parametrize(
    "seed_key",
    [
        "not a key",
        base64.urlsafe_b64encode(bytes(range(16))).decode(),  # 16 bytes, not 32
        "!!!!",
    ],
)
def test_cant_start_with_a_seed_key_that_is_not_32_bytes_of_base64(app_factory, seed_key):
    message = refusal(app_factory, production(WIZARD_SEED_KEY=seed_key))
    assert "WIZARD_SEED_KEY" in message


def test_cant_start_with_a_session_idle_time_that_is_not_a_number(app_factory):
    message = refusal(app_factory, production(WIZARD_SESSION_IDLE_MINUTES="fifteen"))
    assert "WIZARD_SESSION_IDLE_MINUTES" in message


def test_should_start_production_with_its_own_keys_and_sandbox_off(app_factory):
    app = app_factory(environ=production())
    assert app.config["WIZARD_ENV"] == "production"
    assert app.config["SANDBOX"] is False
    assert app.config["SECRET_KEY"] == "a-production-secret-key-of-its-own"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_should_default_to_development_with_sandbox_off_and_15_idle_minutes(tmp_path):
    settings = from_environment(str(tmp_path / "instance"), {})
    assert settings["WIZARD_ENV"] == "development"
    assert settings["SANDBOX"] is False
    assert settings["SESSION_IDLE_MINUTES"] == 15
    assert settings["SESSION_COOKIE_SECURE"] is False
    assert (
        settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'instance'}/wizard.sqlite3"
    )


def test_should_read_the_code_lock_settings(tmp_path):
    settings = from_environment(
        str(tmp_path),
        {"WIZARD_CODE_MAX_FAILURES": "3", "WIZARD_CODE_LOCK_MINUTES": "30", "WIZARD_SEED_KEY": ""},
    )
    assert settings["CODE_MAX_FAILURES"] == 3
    assert settings["CODE_LOCK_MINUTES"] == 30
    defaults = from_environment(str(tmp_path), {})
    assert (defaults["CODE_MAX_FAILURES"], defaults["CODE_LOCK_MINUTES"]) == (5, 15)


def test_should_generate_development_keys_once_into_the_instance_folder(tmp_path):
    instance = tmp_path / "instance"

    first = from_environment(str(instance), {"WIZARD_SANDBOX": "1"})
    second = from_environment(str(instance), {"WIZARD_SANDBOX": "1"})

    assert first["SECRET_KEY"] and first["SEED_KEY"]
    assert second["SECRET_KEY"] == first["SECRET_KEY"]
    assert second["SEED_KEY"] == first["SEED_KEY"]
    files = sorted(p.name for p in instance.iterdir())
    assert files == ["secret_key", "seed_key"]
    assert (instance / "secret_key").read_text().strip() == first["SECRET_KEY"]
    assert (instance / "seed_key").read_text().strip() == first["SEED_KEY"]
    assert len(base64.urlsafe_b64decode(first["SEED_KEY"])) == 32
    for name in files:
        mode = stat.S_IMODE((instance / name).stat().st_mode)
        assert mode & 0o077 == 0, f"instance/{name} is readable by others ({oct(mode)})"


def test_should_generate_a_different_development_key_for_a_new_instance(tmp_path):
    first = from_environment(str(tmp_path / "one"), {})
    second = from_environment(str(tmp_path / "two"), {})
    assert first["SECRET_KEY"] != second["SECRET_KEY"]
    assert first["SEED_KEY"] != second["SEED_KEY"]


def test_should_prefer_keys_from_the_environment_and_write_nothing(tmp_path):
    instance = tmp_path / "instance"
    seed_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    settings = from_environment(
        str(instance), {"WIZARD_SECRET_KEY": "from-the-env", "WIZARD_SEED_KEY": seed_key}
    )
    assert settings["SECRET_KEY"] == "from-the-env"
    assert settings["SEED_KEY"] == seed_key
    assert not instance.exists()


# --- Production hygiene (issue 11) -------------------------------------------------------------


@pytest.mark.parametrize("debug", ["1", "true", "on"])
def test_cant_start_production_with_flask_debug_on(app_factory, debug):
    message = refusal(app_factory, production(FLASK_DEBUG=debug))
    assert message.startswith("FLASK_DEBUG")


def test_should_start_production_with_flask_debug_off(app_factory):
    assert app_factory(environ=production(FLASK_DEBUG="0")).config["WIZARD_ENV"] == "production"


def test_cant_start_production_with_a_secret_key_shorter_than_32_bytes(app_factory):
    message = refusal(app_factory, production(WIZARD_SECRET_KEY="k" * 31))
    assert message.startswith("WIZARD_SECRET_KEY must be at least 32 bytes")
    assert app_factory(environ=production(WIZARD_SECRET_KEY="k" * 32)).config["SECRET_KEY"]


@pytest.mark.parametrize("name", ["prod", "staging", "test", "developement", "live"])
def test_cant_start_with_a_wizard_env_other_than_development_or_production(app_factory, name):
    message = refusal(app_factory, production(WIZARD_ENV=name))
    assert message.startswith("WIZARD_ENV must be development or production")


@pytest.mark.parametrize("name", ["Production", " production ", "DEVELOPMENT"])
def test_should_read_wizard_env_whatever_its_case_and_spaces(app_factory, name):
    app = app_factory(environ=production(WIZARD_ENV=name))
    assert app.config["WIZARD_ENV"] == name.strip().lower()


@pytest.mark.parametrize("hops", ["-1", "two"])
def test_cant_start_with_trusted_proxies_that_are_not_a_count_of_hops(app_factory, hops):
    assert refusal(app_factory, production(WIZARD_TRUSTED_PROXIES=hops)).startswith(
        "WIZARD_TRUSTED_PROXIES"
    )


# --- Links printed by the command line (issue 14) -------------------------------------------


def helpdesk_link(app_factory, environ: dict) -> str:
    app = app_factory(environ=environ)
    with app.app_context():
        from wizard.cli import create_schema

        create_schema()
        result = app.test_cli_runner().invoke(args=["helpdesk", "add", "casey.links"])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()[-1]


@pytest.mark.parametrize(
    "extra, start",
    [
        ({"WIZARD_BASE_URL": "https://epcs.example.org/"}, "https://epcs.example.org/helpdesk/"),
        ({"FLASK_RUN_PORT": "5501"}, "http://127.0.0.1:5501/helpdesk/"),
        (
            {"FLASK_RUN_HOST": "localhost", "FLASK_RUN_PORT": "8000"},
            "http://localhost:8000/helpdesk/",
        ),
        ({}, "http://127.0.0.1:5000/helpdesk/setup/"),
    ],
)
def test_helpdesk_add_builds_its_link_on_the_base_url(app_factory, tmp_path, extra, start):
    environ = {
        "WIZARD_SECRET_KEY": "k" * 32,
        "WIZARD_SEED_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "WIZARD_DATABASE_URL": f"sqlite:///{tmp_path / 'links.sqlite3'}",
        **extra,
    }
    assert helpdesk_link(app_factory, environ).startswith(start)


def test_production_prints_no_made_up_address(app_factory, tmp_path):
    environ = production(WIZARD_DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    app = app_factory(environ=environ)
    with app.app_context():
        from wizard.cli import create_schema

        create_schema()
        result = app.test_cli_runner().invoke(args=["helpdesk", "add", "casey.prod"])
    assert result.exit_code != 0
    assert "Set WIZARD_BASE_URL" in result.output
    assert "127.0.0.1" not in result.output
    with_base = production(
        WIZARD_DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        WIZARD_BASE_URL="https://epcs.example.org",
    )
    assert helpdesk_link(app_factory, with_base).startswith("https://epcs.example.org/helpdesk/")


def test_cant_start_with_a_base_url_that_is_not_http(app_factory):
    message = refusal(app_factory, production(WIZARD_BASE_URL="epcs.example.org"))
    assert "WIZARD_BASE_URL" in message


def test_cant_start_on_a_sqlite_too_old_for_update_returning(app_factory, monkeypatch):
    """A SQLite before 3.35 has no UPDATE ... RETURNING: the wizard says so at start, rather
    than failing the first code check with a server error."""
    import wizard

    monkeypatch.setattr(wizard.sqlite3, "sqlite_version_info", (3, 34, 1))
    monkeypatch.setattr(wizard.sqlite3, "sqlite_version", "3.34.1")
    message = refusal(app_factory, production())
    assert "WIZARD_DATABASE_URL" in message and "3.34.1" in message and "3.35" in message
