"""What the stand-in answers to each VIP User Services operation, over its own database.

Statuses are VIP's documented ones (wizard/authority/vip/status.py, docs/VIP.md). Codes are
checked with the wizard's own OTP rules (TOTP window, HOTP look-ahead, each step once).
The practice operations are a sandbox extension, not VIP's: they register a practice
credential and tell its current code, for the practice app page.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from wizard.authority.vip import status as vip
from wizard.domain.otp import (
    Algorithm,
    OathSecret,
    Outcome,
    code_at,
    judge,
    out_of_sync,
    resync,
    seconds_left,
    time_step,
)

CREDENTIAL_TYPE = "STANDARD_OTP"
LOCK_AFTER = 10  # failed codes in a row before VIP locks a credential (its default)
ALREADY_REGISTERED = "E002"  # practice extension: that Credential ID is taken

MESSAGES = {
    vip.SUCCESS: "Success",
    vip.USER_EXISTS: "User already exists.",
    vip.USER_UNKNOWN: "User does not exist.",
    vip.CREDENTIAL_UNKNOWN: "Credential ID is not valid.",
    vip.NO_BINDING: "No binding exists between user and credential.",
    vip.NO_ENABLED_CREDENTIAL: "User does not have an enabled credential for the given "
    "credential type.",
    vip.AUTHENTICATION_FAILED: "Authentication failed.",
    "600B": "Schema validation failed.",
    vip.CREDENTIAL_STATE: "Operation not allowed in current state of credential.",
    vip.OTP_OUT_OF_SYNC: "OTP out of sync.",
    ALREADY_REGISTERED: "Practice credential already registered.",
}

SERVICES = {
    "AuthenticationService": ("AuthenticateUser", "AuthenticateCredentials"),
    "ManagementService": ("CreateUser", "AddCredential", "RemoveCredential", "UpdateCredential"),
    "QueryService": ("GetUserInfo", "GetCredentialInfo"),
    "PracticeService": ("RegisterPracticeCredential", "GetPracticeCredential"),
}

REQUIRED = {
    "AuthenticateUser": ("userId", "otp"),
    "AuthenticateCredentials": ("credentialId", "otp"),
    "CreateUser": ("userId",),
    "AddCredential": ("userId", "credentialId", "credentialType"),
    "RemoveCredential": ("userId", "credentialId", "credentialType"),
    "UpdateCredential": ("userId", "credentialId", "credentialType", "friendlyName"),
    "GetUserInfo": ("userId",),
    "GetCredentialInfo": ("credentialId", "credentialType"),
    "RegisterPracticeCredential": ("credentialId", "secret", "algorithm"),
    "GetPracticeCredential": ("credentialId",),
}

# Field shapes from the vipuserservices schema; anything else is refused with 600B.
SHAPES = {
    "userId": re.compile(r".{1,128}", re.S),
    "credentialId": re.compile(r"[0-9A-Za-z,#.*]{4,100}"),
    "credentialType": re.compile(CREDENTIAL_TYPE),
    "friendlyName": re.compile(r".{1,125}", re.S),
    "otp": re.compile(r"[0-9A-Za-z]{6,10}"),
    "otp2": re.compile(r"[0-9A-Za-z]{6,10}"),
    "secret": re.compile(r"[A-Z2-7]{16,128}"),
    "algorithm": re.compile(r"totp|hotp"),
    "presses": re.compile(r"[0-9]{1,4}"),
}


@dataclass
class Reply:
    status: str
    children: list = field(default_factory=list)  # (name, text or list of children)
    detail: str = ""
    detail_message: str = ""

    @property
    def message(self) -> str:
        return MESSAGES.get(self.status, "")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _stamp(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


class StandIn:
    def __init__(self, store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    def answer(self, operation: str, fields: dict[str, str]) -> Reply:
        if "credentialId" in fields:
            fields = {**fields, "credentialId": fields["credentialId"].upper()}
        for name in REQUIRED[operation]:
            if not fields.get(name):
                return Reply("600B")
        for name, value in fields.items():
            shape = SHAPES.get(name)
            if shape is not None and not shape.fullmatch(value):
                return Reply("600B")
        handler = getattr(self, "_" + re.sub(r"(?<!^)([A-Z])", r"_\1", operation).lower())
        with self.store.transaction() as db:
            return handler(db, fields, self.clock())

    # --- Management ------------------------------------------------------------------------

    def _create_user(self, db, f, now) -> Reply:
        if _user(db, f["userId"]):
            return Reply(vip.USER_EXISTS)
        db.execute("INSERT INTO users VALUES (?, ?)", (f["userId"], _stamp(now)))
        return Reply(vip.SUCCESS)

    def _add_credential(self, db, f, now) -> Reply:
        if not _user(db, f["userId"]):
            return Reply(vip.USER_UNKNOWN)
        row = _credential(db, f["credentialId"])
        if row is None:
            return Reply(vip.CREDENTIAL_UNKNOWN)
        if f.get("otp"):
            checked = self._settle(db, [row], f["otp"], f.get("otp2"), now)
            if checked.status != vip.SUCCESS:
                return checked
        db.execute(
            "INSERT INTO bindings (user_id, credential_id, friendly_name, bound_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (user_id, credential_id) "
            "DO UPDATE SET friendly_name = excluded.friendly_name",
            (f["userId"], row["credential_id"], f.get("friendlyName", ""), _stamp(now)),
        )
        return Reply(vip.SUCCESS)

    def _remove_credential(self, db, f, now) -> Reply:
        found = _binding_check(db, f)
        if found is not None:
            return found
        db.execute(
            "DELETE FROM bindings WHERE user_id = ? AND credential_id = ?",
            (f["userId"], f["credentialId"]),
        )
        return Reply(vip.SUCCESS)

    def _update_credential(self, db, f, now) -> Reply:
        found = _binding_check(db, f)
        if found is not None:
            return found
        db.execute(
            "UPDATE bindings SET friendly_name = ? WHERE user_id = ? AND credential_id = ?",
            (f["friendlyName"], f["userId"], f["credentialId"]),
        )
        return Reply(vip.SUCCESS)

    # --- Query -----------------------------------------------------------------------------

    def _get_user_info(self, db, f, now) -> Reply:
        user = _user(db, f["userId"])
        if user is None:
            return Reply(vip.USER_UNKNOWN)
        rows = db.execute(
            "SELECT b.*, c.failures FROM bindings b JOIN credentials c USING (credential_id) "
            "WHERE b.user_id = ? ORDER BY b.bound_at",
            (f["userId"],),
        ).fetchall()
        details = [
            (
                "credentialBindingDetail",
                [
                    ("credentialId", r["credential_id"]),
                    ("credentialType", CREDENTIAL_TYPE),
                    ("credentialStatus", _credential_status(r)),
                    ("bindingDetail", _binding_detail(r)),
                ],
            )
            for r in rows
        ]
        return Reply(
            vip.SUCCESS,
            [
                ("userId", user["user_id"]),
                ("userCreationTime", user["created_at"]),
                ("userStatus", "ACTIVE"),
                ("numBindings", str(len(rows))),
                *details,
            ],
        )

    def _get_credential_info(self, db, f, now) -> Reply:
        row = _credential(db, f["credentialId"])
        if row is None:
            return Reply(vip.CREDENTIAL_UNKNOWN)
        rows = db.execute(
            "SELECT * FROM bindings WHERE credential_id = ? ORDER BY bound_at",
            (row["credential_id"],),
        ).fetchall()
        users = [
            (
                "userBindingDetail",
                [("userId", r["user_id"]), ("userStatus", "ACTIVE")]
                + [("bindingDetail", _binding_detail(r))],
            )
            for r in rows
        ]
        return Reply(
            vip.SUCCESS,
            [
                ("credentialId", row["credential_id"]),
                ("credentialType", CREDENTIAL_TYPE),
                ("credentialStatus", _credential_status(row)),
                ("numBindings", str(len(rows))),
                *users,
            ],
        )

    # --- Authentication --------------------------------------------------------------------

    def _authenticate_user(self, db, f, now) -> Reply:
        if not _user(db, f["userId"]):
            return Reply(vip.USER_UNKNOWN)
        rows = db.execute(
            "SELECT c.* FROM credentials c JOIN bindings b USING (credential_id) "
            "WHERE b.user_id = ? ORDER BY b.bound_at",
            (f["userId"],),
        ).fetchall()
        if not rows:
            return Reply(vip.NO_ENABLED_CREDENTIAL)
        reply = self._settle(db, rows, f["otp"], f.get("otp2"), now)
        if reply.status == vip.SUCCESS:
            db.execute(
                "UPDATE bindings SET last_authn_at = ? WHERE user_id = ? AND credential_id = ?",
                (_stamp(now), f["userId"], reply.children[0][1]),
            )
            reply.children.append(("authnId", secrets.token_hex(8).upper()))
        return reply

    def _authenticate_credentials(self, db, f, now) -> Reply:
        row = _credential(db, f["credentialId"])
        if row is None:
            return Reply(vip.CREDENTIAL_UNKNOWN)
        return self._settle(db, [row], f["otp"], f.get("otp2"), now)

    def _settle(self, db, rows, otp: str, otp2: str | None, now: datetime) -> Reply:
        """Check a code against each credential: consume it on the one it matches, or count a
        failure on every one (VIP does both)."""
        judged = [(row, *_judge(row, otp, otp2, now)) for row in rows]
        for row, outcome, step in judged:
            if outcome is Outcome.ACCEPTED:
                db.execute(
                    "UPDATE credentials SET last_step = ?, failures = 0 WHERE credential_id = ?",
                    (step, row["credential_id"]),
                )
                return Reply(
                    vip.SUCCESS,
                    [("credentialId", row["credential_id"]), ("credentialType", CREDENTIAL_TYPE)],
                )
        live = [(row, outcome) for row, outcome, _ in judged if outcome is not None]
        if not live:
            return Reply(vip.CREDENTIAL_STATE)
        for row, _ in live:
            db.execute(
                "UPDATE credentials SET failures = failures + 1 WHERE credential_id = ?",
                (row["credential_id"],),
            )
        outcomes = {outcome for _, outcome in live}
        if Outcome.OUT_OF_SYNC in outcomes:
            return Reply(vip.OTP_OUT_OF_SYNC)
        if Outcome.REUSED in outcomes:
            return Reply(
                vip.AUTHENTICATION_FAILED, [], vip.REPLAY_DETAIL, "Security code already used"
            )
        return Reply(
            vip.AUTHENTICATION_FAILED, [], vip.INVALID_OTP_DETAIL, "Failed with an invalid OTP"
        )

    # --- Practice (sandbox extension) ------------------------------------------------------

    def _register_practice_credential(self, db, f, now) -> Reply:
        if _credential(db, f["credentialId"]) is not None:
            return Reply(ALREADY_REGISTERED)
        db.execute(
            "INSERT INTO credentials (credential_id, secret, algorithm, created_at) "
            "VALUES (?, ?, ?, ?)",
            (f["credentialId"], f["secret"], f["algorithm"], _stamp(now)),
        )
        return Reply(vip.SUCCESS)

    def _get_practice_credential(self, db, f, now) -> Reply:
        row = _credential(db, f["credentialId"])
        if row is None:
            return Reply(vip.CREDENTIAL_UNKNOWN)
        oath = OathSecret(row["secret"], Algorithm(row["algorithm"]))
        if oath.algorithm is Algorithm.HOTP:
            last = -1 if row["last_step"] is None else row["last_step"]
            code, valid = code_at(oath, last + max(int(f.get("presses") or 1), 1)), 0
        else:
            code, valid = code_at(oath, time_step(now)), seconds_left(now)
        return Reply(
            vip.SUCCESS,
            [
                ("code", code),
                ("validForSeconds", str(valid)),
                ("secret", row["secret"]),
                ("algorithm", row["algorithm"]),
                ("lastStep", "" if row["last_step"] is None else str(row["last_step"])),
            ],
        )


def _user(db: sqlite3.Connection, user_id: str):
    return db.execute("SELECT * FROM users WHERE user_id = ?", (user_id,)).fetchone()


def _credential(db: sqlite3.Connection, credential_id: str):
    return db.execute(
        "SELECT * FROM credentials WHERE credential_id = ?", (credential_id,)
    ).fetchone()


def _binding_check(db, f) -> Reply | None:
    if not _user(db, f["userId"]):
        return Reply(vip.USER_UNKNOWN)
    found = db.execute(
        "SELECT 1 FROM bindings WHERE user_id = ? AND credential_id = ?",
        (f["userId"], f["credentialId"]),
    ).fetchone()
    return None if found else Reply(vip.NO_BINDING)


def _credential_status(row) -> str:
    return "LOCKED" if row["failures"] >= LOCK_AFTER else "ENABLED"


def _binding_detail(row) -> list:
    detail = [
        ("bindStatus", "ENABLED"),
        ("friendlyName", row["friendly_name"] or row["credential_id"]),
        ("lastBindTime", row["bound_at"]),
    ]
    if row["last_authn_at"]:
        detail.append(("lastAuthnTime", row["last_authn_at"]))
    return detail


def _judge(row, otp: str, otp2: str | None, now: datetime) -> tuple[Outcome | None, int | None]:
    """(outcome, matched step); outcome None for a locked credential, which checks nothing."""
    if row["failures"] >= LOCK_AFTER:
        return None, None
    oath = OathSecret(row["secret"], Algorithm(row["algorithm"]))
    if otp2:
        verdict = resync(oath, otp, otp2, row["last_step"])
    else:
        verdict = judge(oath, otp, now, row["last_step"])
        if verdict.outcome is Outcome.WRONG and out_of_sync(oath, otp, row["last_step"]):
            return Outcome.OUT_OF_SYNC, None
    return verdict.outcome, verdict.step
