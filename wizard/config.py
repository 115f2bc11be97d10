"""Settings from the environment (prefix WIZARD_), checked before the app starts."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from wizard.domain.mail import parse_mail_url
from wizard.store.crypto import SeedCipher

TRUE = {"1", "true", "yes", "on"}
ENVIRONMENTS = ("development", "production")
MIN_SECRET_KEY_BYTES = 32
NIST_FAILURE_CAP = 100  # SP 800-63B: at most 100 consecutive failed attempts per account


class ConfigError(SystemExit):
    """Stops start-up with one line that names the variable to fix."""


def _flag(env: dict, name: str, default: bool = False) -> bool:
    raw = env.get(name)
    return default if raw is None else raw.strip().lower() in TRUE


def _int(env: dict, name: str, default: int, minimum: int = 1, maximum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(
            f"{name} must be greater than zero"
            if minimum == 1
            else f"{name} must be {minimum} or more"
        )
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be {maximum} or less")
    return value


def _environment(env: dict) -> str:
    """WIZARD_ENV, one of ENVIRONMENTS: a typo must not quietly start a development server."""
    raw = env.get("WIZARD_ENV", "development").strip().lower() or "development"
    if raw not in ENVIRONMENTS:
        raise ConfigError(f"WIZARD_ENV must be development or production, not {raw!r}")
    return raw


def _production_checks(env: dict) -> None:
    """What production refuses besides sandbox mode and missing keys, one line each."""
    if _flag(env, "FLASK_DEBUG"):
        raise ConfigError(
            "FLASK_DEBUG must be off when WIZARD_ENV=production (the debugger runs any code)"
        )
    secret = env.get("WIZARD_SECRET_KEY", "").strip()
    if secret and len(secret.encode()) < MIN_SECRET_KEY_BYTES:
        raise ConfigError(
            f"WIZARD_SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes when WIZARD_ENV="
            "production: python -c 'import secrets; print(secrets.token_hex(32))' makes one"
        )


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


VIP_FILES = ("WIZARD_VIP_CERT", "WIZARD_VIP_KEY", "WIZARD_VIP_CA")


def _vip(env: dict) -> dict:
    """Symantec VIP User Services: all of URL, certificate, key and CA, or none of them."""
    given = {name: env.get(name, "").strip() for name in ("WIZARD_VIP_URL", *VIP_FILES)}
    if not any(given.values()):
        return {"VIP_URL": ""}
    for name, value in given.items():
        if not value:
            raise ConfigError(f"{name} must be set when any WIZARD_VIP_* variable is set")
    if not given["WIZARD_VIP_URL"].startswith("https://"):
        raise ConfigError("WIZARD_VIP_URL must start with https://")
    for name in VIP_FILES:
        if not Path(given[name]).is_file():
            # The path only: a key file's contents never go anywhere near a message.
            raise ConfigError(f"{name} names no readable file: {given[name]}")
    timeout = env.get("WIZARD_VIP_TIMEOUT", "").strip() or "4"
    try:
        seconds = float(timeout)
    except ValueError:
        raise ConfigError(
            f"WIZARD_VIP_TIMEOUT must be a number of seconds, not {timeout!r}"
        ) from None
    if not 0 < seconds <= 30:
        raise ConfigError("WIZARD_VIP_TIMEOUT must be more than 0 and at most 30 seconds")
    return {
        "VIP_URL": given["WIZARD_VIP_URL"],
        "VIP_CERT": given["WIZARD_VIP_CERT"],
        "VIP_KEY": given["WIZARD_VIP_KEY"],
        "VIP_CA": given["WIZARD_VIP_CA"],
        "VIP_TIMEOUT": seconds,
    }


def _mail_url(env: dict) -> str:
    mail_url = env.get("WIZARD_MAIL_URL", "").strip()
    if mail_url:
        try:
            parse_mail_url(mail_url)
        except ValueError as error:
            # Never echo the URL: it may hold the mail server's password.
            raise ConfigError(f"WIZARD_MAIL_URL is not usable: {error}") from None
    return mail_url


def _base_url(env: dict, production: bool) -> str:
    """Where prescribers and agents reach the wizard, for links in mail and on the command
    line: WIZARD_BASE_URL, else in development the address `flask run` serves."""
    base_url = env.get("WIZARD_BASE_URL", "").strip().rstrip("/")
    if base_url and not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"WIZARD_BASE_URL must start with http:// or https://, not {base_url!r}")
    if not base_url and not production:
        host = env.get("FLASK_RUN_HOST") or "127.0.0.1"
        base_url = f"http://{host}:{env.get('FLASK_RUN_PORT') or 5000}"
    return base_url


def from_environment(instance_path: str, env: dict | None = None) -> dict:
    """Flask settings from WIZARD_* variables. Raises ConfigError on an unsafe production setup."""
    env = dict(os.environ if env is None else env)
    instance = Path(instance_path)
    production = _environment(env) == "production"
    sandbox = _flag(env, "WIZARD_SANDBOX")
    if production and sandbox:
        raise ConfigError("WIZARD_SANDBOX must be off when WIZARD_ENV=production")
    if production:
        _production_checks(env)

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
    mail_url = _mail_url(env)
    idle = _int(env, "WIZARD_SESSION_IDLE_MINUTES", 15)
    base_url = _base_url(env, production)
    database_url = env.get("WIZARD_DATABASE_URL") or f"sqlite:///{instance / 'wizard.sqlite3'}"
    return {
        "WIZARD_ENV": "production" if production else "development",
        "SANDBOX": sandbox,
        "BASE_URL": base_url,  # for links in mail and on the command line; "" if unknown
        "SECRET_KEY": key("WIZARD_SECRET_KEY", "secret_key", lambda: secrets.token_hex(32)),
        "SEED_KEY": seed_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SESSION_IDLE_MINUTES": idle,
        "SESSION_REDIS_URL": env.get("WIZARD_SESSION_REDIS_URL", ""),
        "SESSION_COOKIE_SECURE": production,
        "CODE_MAX_FAILURES": _int(env, "WIZARD_CODE_MAX_FAILURES", 5),
        "CODE_LOCK_MINUTES": _int(env, "WIZARD_CODE_LOCK_MINUTES", 15),
        # Sign-in pauses count per account name and client address; the hard limit per account.
        "SIGN_IN_MAX_FAILURES": _int(env, "WIZARD_SIGN_IN_MAX_FAILURES", 5),
        "SIGN_IN_LOCK_MINUTES": _int(env, "WIZARD_SIGN_IN_LOCK_MINUTES", 15),
        "SIGN_IN_LONGEST_LOCK_MINUTES": _int(env, "WIZARD_SIGN_IN_LONGEST_LOCK_MINUTES", 24 * 60),
        "SIGN_IN_HARD_LIMIT": _int(
            env, "WIZARD_SIGN_IN_HARD_LIMIT", NIST_FAILURE_CAP, maximum=NIST_FAILURE_CAP
        ),
        "MAX_TOKENS": _int(env, "WIZARD_MAX_TOKENS", 5),
        "RATELIMIT_STORAGE_URI": env.get("WIZARD_RATELIMIT_STORAGE_URL", "memory://"),
        "SIGN_IN_RATE_LIMIT": env.get("WIZARD_SIGN_IN_RATE_LIMIT", "30 per minute;300 per hour"),
        "CODE_RATE_LIMIT": env.get("WIZARD_CODE_RATE_LIMIT", "30 per minute;300 per hour"),
        "CREDENTIAL_ID_RATE_LIMIT": env.get(
            "WIZARD_CREDENTIAL_ID_RATE_LIMIT", "30 per minute;300 per hour"
        ),
        "CREDENTIAL_ID_ACCOUNT_RATE_LIMIT": env.get(
            "WIZARD_CREDENTIAL_ID_ACCOUNT_RATE_LIMIT", "10 per minute;50 per hour"
        ),
        "HELPDESK_LOOKUP_RATE_LIMIT": env.get(
            "WIZARD_HELPDESK_LOOKUP_RATE_LIMIT", "20 per minute;200 per hour"
        ),
        # Proxies in front of the app that set X-Forwarded-For and -Proto (0: none, trust none).
        "TRUSTED_PROXIES": _int(env, "WIZARD_TRUSTED_PROXIES", 0, minimum=0),
        # Our forms are a few short fields: anything bigger is refused with 413 before parsing.
        "MAX_CONTENT_LENGTH": _int(env, "WIZARD_MAX_REQUEST_KB", 32) * 1024,
        "RETURN_ORIGINS": tuple(
            o.strip().rstrip("/")
            for o in env.get("WIZARD_RETURN_ORIGINS", "").split(",")
            if o.strip()
        ),
        "HELP_DESK_TEXT": env.get(
            "WIZARD_HELP_DESK_TEXT",
            "Call your organization's EPCS help desk. They will start identity proofing again.",
        ),
        "MAIL_URL": mail_url,
        "MAIL_FROM": env.get("WIZARD_MAIL_FROM", "").strip()
        or "EPCS Token Enrollment <no-reply@localhost>",
        "MAIL_CA_FILE": env.get("WIZARD_MAIL_CA_FILE", "").strip(),
        **_vip(env),
        # Storage outlives the idle timeout so the next request can say why the user was signed out.
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=idle) + timedelta(hours=12),
    }
