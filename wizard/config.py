"""Settings from the environment (prefix WIZARD_), checked before the app starts."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from wizard.store.crypto import SeedCipher

TRUE = {"1", "true", "yes", "on"}


class ConfigError(SystemExit):
    """Stops start-up with one line that names the variable to fix."""


def _flag(env: dict, name: str, default: bool = False) -> bool:
    raw = env.get(name)
    return default if raw is None else raw.strip().lower() in TRUE


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be greater than zero")
    return value


def _dev_key(instance: Path, filename: str, make) -> str:
    """A development key made once and kept in instance/ so restarts reuse it."""
    path = instance / filename
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def from_environment(instance_path: str, env: dict | None = None) -> dict:
    """Flask settings from WIZARD_* variables. Raises ConfigError on an unsafe production setup."""
    env = dict(os.environ if env is None else env)
    instance = Path(instance_path)
    production = env.get("WIZARD_ENV", "development").strip().lower() == "production"
    sandbox = _flag(env, "WIZARD_SANDBOX")
    if production and sandbox:
        raise ConfigError("WIZARD_SANDBOX must be off when WIZARD_ENV=production")

    def key(name: str, filename: str, make) -> str:
        value = env.get(name, "").strip()
        if value:
            return value
        if production:
            raise ConfigError(f"{name} must be set when WIZARD_ENV=production")
        return _dev_key(instance, filename, make)

    seed_key = key("WIZARD_SEED_KEY", "seed_key", SeedCipher.new_key_text)
    try:
        SeedCipher.from_text(seed_key)
    except ValueError:
        raise ConfigError(
            "WIZARD_SEED_KEY must be 32 bytes in URL-safe base64, as printed by "
            "python -c 'import base64,os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'"
        ) from None
    idle = _int(env, "WIZARD_SESSION_IDLE_MINUTES", 15)
    base_url = env.get("WIZARD_BASE_URL", "").strip().rstrip("/")
    if base_url and not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"WIZARD_BASE_URL must start with http:// or https://, not {base_url!r}")
    if not base_url and not production:
        # The development server's address, as `flask run` reads it.
        host = env.get("FLASK_RUN_HOST") or "127.0.0.1"
        base_url = f"http://{host}:{env.get('FLASK_RUN_PORT') or 5000}"
    database_url = env.get("WIZARD_DATABASE_URL") or f"sqlite:///{instance / 'wizard.sqlite3'}"
    return {
        "WIZARD_ENV": "production" if production else "development",
        "SANDBOX": sandbox,
        "BASE_URL": base_url,  # for links printed by the command line; "" in production unset
        "SECRET_KEY": key("WIZARD_SECRET_KEY", "secret_key", lambda: secrets.token_hex(32)),
        "SEED_KEY": seed_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SESSION_IDLE_MINUTES": idle,
        "SESSION_REDIS_URL": env.get("WIZARD_SESSION_REDIS_URL", ""),
        "SESSION_COOKIE_SECURE": production,
        "CODE_MAX_FAILURES": _int(env, "WIZARD_CODE_MAX_FAILURES", 5),
        "CODE_LOCK_MINUTES": _int(env, "WIZARD_CODE_LOCK_MINUTES", 15),
        "SIGN_IN_MAX_FAILURES": _int(env, "WIZARD_SIGN_IN_MAX_FAILURES", 5),
        "SIGN_IN_LOCK_MINUTES": _int(env, "WIZARD_SIGN_IN_LOCK_MINUTES", 15),
        "MAX_TOKENS": _int(env, "WIZARD_MAX_TOKENS", 5),
        "RATELIMIT_STORAGE_URI": env.get("WIZARD_RATELIMIT_STORAGE_URL", "memory://"),
        "SIGN_IN_RATE_LIMIT": env.get("WIZARD_SIGN_IN_RATE_LIMIT", "30 per minute;300 per hour"),
        "RETURN_ORIGINS": tuple(
            o.strip().rstrip("/")
            for o in env.get("WIZARD_RETURN_ORIGINS", "").split(",")
            if o.strip()
        ),
        "HELP_DESK_TEXT": env.get(
            "WIZARD_HELP_DESK_TEXT",
            "Call your organization's EPCS help desk. They will start identity proofing again.",
        ),
        # Storage outlives the idle timeout so the next request can say why the user was signed out.
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=idle) + timedelta(hours=12),
    }
