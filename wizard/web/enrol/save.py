"""Steps 4 and 5 of the wizard: name and save the token; done, and the backup
recommendation."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, request, session, url_for

from wizard.authority import AuthorityUnavailable
from wizard.domain import backup, steps
from wizard.domain.backup import Backup
from wizard.domain.steps import Progress, Step
from wizard.domain.tokens import ISSUER, suggest_nickname
from wizard.services import accounts, enrollment, tokens
from wizard.services.enrollment import NewToken, SaveError
from wizard.web.codes import outage_status
from wizard.web.enrol import bp
from wizard.web.enrol.forms import NameForm
from wizard.web.enrol.routes import go_to, guarded, platform_of, render_step, store_progress
from wizard.web.forms import EmptyForm, add_error
from wizard.web.session import current_prescriber, now
from wizard.web.support import note_error, record_backup_accepted

SAVE_UNAVAILABLE = (
    "We could not reach Symantec VIP to register your token, so nothing was saved. "
    "Wait a minute, then select Save again."
)


def _summary(progress: Progress, nickname: str) -> list[tuple[str, str, str | None]]:
    """(label, value, change link) rows of the check-your-answers list."""
    platform = platform_of(progress)
    return [
        ("Token", platform.label, url_for("enrol.get_app")),
        (
            "Serial number" if platform.hard else "Credential ID",
            progress.credential_id,
            url_for("enrol.credential_id"),
        ),
        ("Token name", nickname, "#nickname"),
        ("Manufacturer", platform.manufacturer, None),
        ("Issuer", ISSUER, None),
        ("Type", platform.token_type.value, None),
        ("Model", platform.model, None),
    ]


def _name_page(progress: Progress, form: NameForm, status: int = 200):
    if status == 422:
        note_error("nickname")
    return render_step(
        Step.NAME, progress, status, form=form, summary=_summary(progress, form.nickname.data or "")
    )


@bp.get("/name")
@guarded(Step.NAME)
def name(progress: Progress):
    nickname = progress.nickname or suggest_nickname(
        progress.platform, enrollment.live_nicknames(current_prescriber())
    )
    return _name_page(progress, NameForm(formdata=None, nickname=nickname))


@bp.post("/name")
@guarded(Step.NAME)
def save_name(progress: Progress):
    form = NameForm()
    # A taken name is found by register_token, after it has recognized a second save of the
    # same token (another tab, a double click) as the first one.
    if not form.validate_on_submit():
        return _name_page(progress, form, 422)
    progress.nickname = form.nickname.data
    try:
        platform = platform_of(progress)
        new = NewToken(
            progress.credential_id,
            progress.nickname,
            platform.manufacturer,
            platform.token_type,
            platform.model,
        )
        token = enrollment.register_token(current_prescriber(), new, now())
    except SaveError as error:
        add_error(form.nickname, str(error))
        return _name_page(progress, form, 422)
    except AuthorityUnavailable as error:
        add_error(form.nickname, SAVE_UNAVAILABLE)
        note_error("vip-unavailable")
        return _name_page(progress, form, outage_status(error.reason))
    progress.token_id = token.id
    progress.backup = enrollment.recommend_backup(current_prescriber())
    steps.advance(progress, Step.DONE)
    store_progress(progress)
    return go_to(Step.DONE)


# Step 5: done, and the backup recommendation --------------------------------


@bp.get("/done")
@guarded(Step.DONE)
def done(progress: Progress):
    return_to = session.get("return_to")
    return render_step(
        Step.DONE,
        progress,
        return_to=return_to,
        return_host=urlsplit(return_to).netloc if return_to else None,
        token=tokens.own_token(current_prescriber(), progress.token_id),
        form=EmptyForm(formdata=None),
        active=accounts.active_count(current_prescriber()),
        backup_open=backup.is_open(progress.backup),
    )


@bp.post("/backup", endpoint="backup")
@guarded(Step.DONE)
def answer_backup(progress: Progress):
    if not EmptyForm().validate_on_submit():
        abort(400)
    choice = request.form.get("choice", "")
    answer = enrollment.answer_backup(current_prescriber(), progress.backup, choice, now())
    if answer.state is Backup.ACCEPTED:
        record_backup_accepted()
    if answer.new_run:
        store_progress(progress.for_backup())
        return go_to(Step.GET_APP)
    progress.backup = answer.state
    store_progress(progress)
    return go_to(Step.DONE)
