"""The backup-token recommendation at the end of a wizard run: where it stands, and what each
of the prescriber's answers does.

    (token saved, no second Active token) -> SHOWN
    SHOWN --not now--> CONFIRM_DECLINE --skip--> DECLINED      (the decision is stored)
    SHOWN, CONFIRM_DECLINE --add--> ACCEPTED                   (a new run, for the backup)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from wizard.domain.tokens import needs_backup


class Backup(StrEnum):
    """Where the backup-token recommendation stands in this run."""

    NONE = ""  # not shown (a backup already exists) or not reached yet
    SHOWN = "shown"
    CONFIRM_DECLINE = "confirm-decline"  # "Not now" once: ask again with the consequence
    DECLINED = "declined"
    ACCEPTED = "accepted"


class Choice(StrEnum):
    """The buttons of the recommendation."""

    ADD = "add"
    NOT_NOW = "not-now"
    DECLINE = "decline"


OPEN = (Backup.SHOWN, Backup.CONFIRM_DECLINE)


def recommend(active_tokens: int) -> Backup:
    """Where the recommendation starts once a token is saved, with active_tokens Active."""
    return Backup.SHOWN if needs_backup(active_tokens) else Backup.NONE


def is_open(state: str) -> bool:
    """The recommendation is on the page, waiting for an answer."""
    return state in OPEN


@dataclass(frozen=True)
class Answer:
    state: Backup
    new_run: bool = False  # start the wizard again, for the backup token
    declined: bool = False  # store the prescriber's decision not to add one


def answer(state: str, choice: str) -> Answer:
    """What a press of choice does in state. Adding another token is always possible (it is
    an acceptance only while the recommendation is open); declining takes two presses; any
    other answer changes nothing."""
    try:
        current = Backup(state)
    except ValueError:
        current = Backup.NONE
    if choice == Choice.ADD:
        return Answer(Backup.ACCEPTED if is_open(current) else current, new_run=True)
    if choice == Choice.NOT_NOW and current is Backup.SHOWN:
        return Answer(Backup.CONFIRM_DECLINE)
    if choice == Choice.DECLINE and current is Backup.CONFIRM_DECLINE:
        return Answer(Backup.DECLINED, declined=True)
    return Answer(current)
