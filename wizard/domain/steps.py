"""The enrollment wizard's steps and which one may be shown.

Progress is a small record kept in the server-side session; the functions
here decide, from that record alone, how far the prescriber may go.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from wizard.domain.backup import Backup

CODE_FRESH_FOR = timedelta(minutes=10)


class Step(StrEnum):
    GET_APP = "get-app"
    CREDENTIAL_ID = "credential-id"
    SECURITY_CODE = "security-code"
    NAME = "name"
    DONE = "done"


TITLES: dict[Step, str] = {
    Step.GET_APP: "Get the app or key fob",
    Step.CREDENTIAL_ID: "Find your Credential ID",
    Step.SECURITY_CODE: "Enter the security code",
    Step.NAME: "Name and save",
    Step.DONE: "Done",
}
ORDER: tuple[Step, ...] = tuple(Step)
# A key fob has a serial number printed on it, not a Credential ID.
KEY_FOB_TITLES: dict[Step, str] = {**TITLES, Step.CREDENTIAL_ID: "Find the serial number"}


def titles(key_fob: bool = False) -> dict[Step, str]:
    """The step list's titles, which every heading and announcement of a step uses."""
    return KEY_FOB_TITLES if key_fob else TITLES


@dataclass
class Progress:
    """One wizard run. Never holds the one-time pin."""

    platform: str = ""
    device_confirmed: bool = False
    device_shown: str = ""  # chosen with "Show me how", not yet confirmed: step 1 shows it again
    credential_id: str = ""
    verified_at: float | None = None  # UTC epoch seconds when the code was accepted
    nickname: str = ""
    token_id: int | None = None  # set once saved
    backup: str = Backup.NONE
    furthest: str = Step.GET_APP
    is_backup_run: bool = False  # started from "Add a backup token"
    previous_platform: str = ""  # the first token's device, to suggest another
    resync: bool = False  # an event-based key fob ran ahead: ask for two codes

    @classmethod
    def from_dict(cls, data: dict | None) -> Progress:
        known = cls.__dataclass_fields__  # read at every request: no tuple of fields built
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def to_dict(self) -> dict:
        return asdict(self)

    def for_backup(self) -> Progress:
        """A new run, for the backup token this run recommended."""
        return Progress(is_backup_run=True, previous_platform=self.platform)


def number(step: Step) -> int:
    return ORDER.index(step) + 1


def place(step: Step) -> str:
    """ "3 of 5": the step's place in the step list."""
    return f"{number(step)} of {len(ORDER)}"


def caption(step: Step) -> str:
    """ "Step 3 of 5", above the step's heading and in its announcement."""
    return f"Step {place(step)}"


def allowed(progress: Progress, now: datetime) -> Step:
    """The furthest step this progress may show."""
    if progress.token_id is not None:
        return Step.DONE
    if not (progress.platform and progress.device_confirmed):
        return Step.GET_APP
    if not progress.credential_id:
        return Step.CREDENTIAL_ID
    if not code_is_fresh(progress, now):
        return Step.SECURITY_CODE
    return Step.NAME


def may_show(progress: Progress, step: Step, now: datetime) -> bool:
    """Earlier steps stay open for changes until the token is saved; after that only Done."""
    reach = allowed(progress, now)
    if reach is Step.DONE:
        return step is Step.DONE
    return ORDER.index(step) <= ORDER.index(reach)


def code_is_fresh(progress: Progress, now: datetime) -> bool:
    if progress.verified_at is None:
        return False
    age = now.timestamp() - progress.verified_at
    return 0 <= age <= CODE_FRESH_FOR.total_seconds()


def advance(progress: Progress, step: Step) -> None:
    """Record that step has been reached."""
    if ORDER.index(step) > ORDER.index(Step(progress.furthest)):
        progress.furthest = step
