"""Issue 10: the wizard with Symantec VIP configured, against the stand-in over mutual TLS.

Every outcome of a code (accepted, wrong, reused, unknown, out of sync) through the VIP
authority, the binding made at step 4 and what the database keeps (the token, never a seed),
and sign-in through VIP, where our statuses decide which tokens count.
"""

from __future__ import annotations

import json

import pyotp
import pytest
from signing import REUSED_CODE, WRONG_CODE, code_step, passphrase_step, sign_in
from sqlalchemy import select
from support.csrf import csrf_token

from wizard.extensions import db
from wizard.store.models import OathCredential, Prescriber, Token

UNKNOWN = "We could not find this Credential ID with Symantec."
REFUSE_TOKENS = {
    "sqlite": [
        "CREATE TRIGGER refuse_tokens BEFORE INSERT ON tokens "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_tokens() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'disk full' USING ERRCODE = 'check_violation'; END $$",
        "CREATE TRIGGER refuse_tokens BEFORE INSERT ON tokens "
        "FOR EACH ROW EXECUTE FUNCTION refuse_tokens()",
    ],
}


def vip_user_of(store, npi: str) -> str | None:
    return store.prescriber(npi).vip_user_id


def test_should_add_a_vip_access_credential_whose_seed_stays_at_vip(
    demo, enrol, store, vip_service
):
    credential = enrol.reach("done")

    token = store.tokens(credential.credential_id)[0]
    assert (token.status, token.nickname, token.vip_bound) == ("Active", "My phone", True)
    assert store.count(OathCredential, OathCredential.credential_id == token.credential_id) == 0
    user_id = vip_user_of(store, demo["npi"])
    binding = vip_service.binding(user_id, credential.credential_id)
    assert binding is not None and binding["friendly_name"] == "My phone"
    assert demo["npi"] not in user_id, "the VIP user id is ours, never the NPI"


def test_should_tell_a_credential_vip_does_not_know_at_step_2(demo, enrol, client_request):
    enrol.choose_device()

    page = client_request.post(
        "/enroll/credential-id", {"credential_id": "SYMC00000001"}, _expected_status=422
    )

    assert UNKNOWN in page.text("#credential_id-error")


def test_should_refuse_a_wrong_code_at_vip_and_count_it(demo, enrol, client_request, store, vip):
    credential = enrol.reach("security-code")

    page = client_request.post(
        "/enroll/security-code", {"code": vip.wrong_code(credential)}, _expected_status=422
    )

    assert WRONG_CODE in page.text("#code-error")
    assert store.prescriber().code_failures == 1
    assert [e.outcome for e in store.audit("enrollment.code")] == ["wrong"]


def test_cant_use_one_code_twice_at_vip(demo, enrol, client_request, vip):
    credential = enrol.reach("name")  # the code was accepted at step 3
    client_request.get("/enroll/security-code")  # Back

    page = client_request.post("/enroll/security-code", {"code": enrol.code}, _expected_status=422)

    assert REUSED_CODE in page.text("#code-error")
    assert credential.credential_id in page.html


def test_should_resynchronise_a_symantec_key_fob_through_vip(demo, enrol, client_request, vip):
    enrol.choose_device("symantec-hard")
    fob = vip.issue(kind="symantec-hard")
    enrol.enter_credential(fob)
    hotp = pyotp.HOTP(fob.secret)
    for counter in (20, 21, 22):
        client_request.client.never_show(hotp.at(counter))

    page = client_request.post("/enroll/security-code", {"code": hotp.at(20)}, _expected_status=422)
    assert "next code" in page.html  # two codes in a row, please
    client_request.post(
        "/enroll/security-code",
        {"code": hotp.at(21), "next_code": hotp.at(22)},
        _expected_redirect="/enroll/name",
    )


def test_should_take_the_binding_back_when_the_token_cannot_be_saved(
    demo, enrol, client_request, app, store, vip_service
):
    credential = enrol.reach("name")
    with app.app_context():
        # The database refuses the insert after VIP has bound the credential.
        for statement in REFUSE_TOKENS[db.engine.dialect.name]:
            db.session.execute(db.text(statement))
        db.session.commit()

    page = client_request.post("/enroll/name", {"nickname": "My phone"}, _expected_status=422)

    assert "could not be saved" in page.html
    assert store.tokens(credential.credential_id) == []
    user_id = vip_user_of(store, demo["npi"])
    assert vip_service.binding(user_id, credential.credential_id) is None


# --- Sign-in and the token table through VIP -----------------------------------------------


def test_should_sign_in_with_a_code_checked_by_vip(client, make_account, clock, store):
    account = make_account()

    sign_in(client, account, clock())

    assert client.get("/").status_code == 200
    assert store.audit("sign-in.code")[-1].outcome == "success"


def test_cant_sign_in_twice_with_one_code_at_vip(client, make_account, clock):
    account = make_account()
    code = account.token().code(at=clock())
    sign_in(client, account, clock())
    client.post("/sign-out", data={"csrf_token": ""})

    passphrase_step(client, account.npi, account.passphrase)
    response = code_step(client, account.token().id, code)

    assert response.status_code == 422
    assert REUSED_CODE in response.get_data(as_text=True)


@pytest.mark.parametrize("status", ["Inactive", "Lost", "Deleted"])
def test_cant_sign_in_with_a_token_our_status_rules_out_while_vip_holds_its_binding(
    client, make_account, clock, store, vip_service, status
):
    account = make_account(("Active", "Active"))
    other = account.tokens[1]
    store.set_status(other.credential_id, status)  # VIP still binds it
    assert vip_service.binding(vip_user_of(store, account.npi), other.credential_id)

    passphrase_step(client, account.npi, account.passphrase)
    chosen = code_step(client, account.tokens[0].id, other.code(at=clock()))
    passphrase_step(client, account.npi, account.passphrase)
    direct = code_step(client, other.id, other.code(at=clock()))

    assert (chosen.status_code, direct.status_code) == (422, 422)
    # VIP accepted the code for the other binding; we counted it as a wrong code. A token
    # that is not Active is not even offered, so choosing it is refused by the form.
    assert store.prescriber(account.npi).sign_in_failures == 1
    assert [e.outcome for e in store.audit("sign-in.code")] == ["wrong"]


def test_should_enable_an_inactive_token_with_a_code_vip_checks(client, make_account, clock, store):
    account = make_account(("Active", "Inactive"))
    sign_in(client, account, clock())
    inactive = account.token("Inactive")
    clock.advance(30)

    response = client.post(
        f"/tokens/{inactive.id}/enable",
        data={"code": inactive.code(at=clock()), "csrf_token": csrf_token(client, "/tokens")},
    )

    assert response.status_code == 303
    assert store.tokens(inactive.credential_id)[0].status == "Active"


def test_should_remove_the_binding_when_a_token_is_deleted(
    client, make_account, clock, store, vip_service
):
    account = make_account(("Active", "Active"))
    sign_in(client, account, clock())
    gone = account.tokens[1]
    user_id = vip_user_of(store, account.npi)

    response = client.post(
        f"/tokens/{gone.id}/delete", data={"csrf_token": csrf_token(client, "/tokens")}
    )

    assert response.status_code == 303
    token = store.tokens(gone.credential_id)[0]
    assert (token.status, token.vip_bound) == ("Deleted", False)
    assert vip_service.binding(user_id, gone.credential_id) is None
    assert vip_service.binding(user_id, account.tokens[0].credential_id) is not None


def test_should_keep_the_binding_of_a_suspended_token_and_remove_it_once_the_loss_is_final(
    client, make_account, clock, store, vip_service
):
    account = make_account(("Active", "Active"))
    sign_in(client, account, clock())
    lost = account.tokens[1]
    user_id = vip_user_of(store, account.npi)

    client.post(
        f"/tokens/{lost.id}/disable",
        data={"reason": "lost", "csrf_token": csrf_token(client, "/tokens")},
    )

    assert store.tokens(lost.credential_id)[0].status == "Suspended"
    assert vip_service.binding(user_id, lost.credential_id) is not None  # it may be found

    client.post(
        f"/tokens/{lost.id}/confirm-lost",
        data={"acknowledge": "y", "csrf_token": csrf_token(client, "/tokens")},
    )

    assert store.tokens(lost.credential_id)[0].status == "Lost"
    assert vip_service.binding(user_id, lost.credential_id) is None


def test_should_rename_the_binding_at_vip(client, make_account, clock, store, vip_service):
    account = make_account(("Active", "Active"))
    sign_in(client, account, clock())
    token = account.tokens[1]

    client.post(
        f"/tokens/{token.id}/rename",
        data={"nickname": "Work iPad", "csrf_token": csrf_token(client, "/tokens")},
    )

    binding = vip_service.binding(vip_user_of(store, account.npi), token.credential_id)
    assert binding["friendly_name"] == "Work iPad"


def test_should_keep_the_binding_of_a_disabled_token(
    client, make_account, clock, store, vip_service
):
    account = make_account(("Active", "Active"))
    sign_in(client, account, clock())
    token = account.tokens[1]

    client.post(
        f"/tokens/{token.id}/disable",
        data={"reason": "temporary", "csrf_token": csrf_token(client, "/tokens")},
    )

    assert store.tokens(token.credential_id)[0].status == "Inactive"
    assert vip_service.binding(vip_user_of(store, account.npi), token.credential_id)


def test_should_give_each_prescriber_a_vip_user_id_of_their_own(make_account, app, vip_service):
    first, second = make_account(), make_account()
    with app.app_context():
        ids = db.session.scalars(
            select(Prescriber.vip_user_id).where(Prescriber.npi.in_((first.npi, second.npi)))
        ).all()
        tokens = db.session.scalars(select(Token).where(Token.vip_bound.is_(True))).all()

    assert len(set(ids)) == 2 and all(i.startswith("epcs-") for i in ids)
    assert {t.credential_id for t in tokens} >= {first.tokens[0].credential_id}


def test_should_check_an_imported_symantec_seed_here_even_with_vip(app, vip, clock, vip_service):
    fob = vip.add("AVT12345678")  # a seed we hold, as import-seeds stores one
    authorities = app.extensions["token_authority"]

    with app.app_context():
        assert not authorities.uses_vip(fob.credential_id)
        assert authorities.verify(fob.credential_id, vip.code(fob), clock()).accepted
    assert vip_service.store.bindings_of(fob.credential_id) == []


# --- The sandbox with VIP: practice credentials live in the stand-in -------------------------


def test_should_issue_practice_credentials_into_the_stand_in_and_read_their_codes(
    app, client, flask_cli, store, vip_service
):
    issued = json.loads(flask_cli(app, "sandbox", "issue").output)
    fob = json.loads(flask_cli(app, "sandbox", "issue", "--kind", "symantec-hard").output)

    printed = flask_cli(app, "sandbox", "otp", issued["credential_id"]).output.strip()
    shown = client.get(f"/sandbox/api/otp/{issued['credential_id']}").get_json()
    pressed = client.get(f"/sandbox/api/otp/{fob['credential_id']}?presses=2").get_json()

    now = pyotp.TOTP(issued["secret"]).now()
    assert printed == now and shown["code"] == now
    assert pressed["code"] == pyotp.HOTP(fob["secret"]).at(1)
    assert store.count(OathCredential) == 0, "no seed in the wizard's database"
    assert client.get("/sandbox/api/otp/SYMC00000002").status_code == 404


def test_should_show_the_practice_app_from_the_stand_in(client, vip_service):
    response = client.get("/sandbox/vip-access")
    page = client.get(response.headers["Location"])

    assert page.status_code == 200
    assert "Practice VIP Access app" in page.get_data(as_text=True)


def test_should_say_where_the_demos_codes_are_when_a_command_runs_without_vip(
    app, make_app, flask_cli
):
    """`make run` binds the demo at the stand-in; `sandbox seed` or `sandbox otp` typed in
    another shell, without its WIZARD_VIP_* settings, says how to reach them."""
    flask_cli(app, "sandbox", "seed")
    another_shell = make_app(WIZARD_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])

    seeded = flask_cli(another_shell, "sandbox", "seed")
    demo = json.loads(seeded.stdout)
    otp = flask_cli(another_shell, "sandbox", "otp", demo["tokens"][0]["credential_id"])

    assert seeded.exit_code == 0, seeded.output
    assert [t["secret"] for t in demo["tokens"]] == [None, None]
    assert "made in the VIP stand-in" in seeded.stderr
    assert "WIZARD_VIP_*" in seeded.stderr
    assert otp.exit_code == 1
    assert "made in the VIP stand-in" in otp.output
