"""Issue 10, configuration: which authority checks which credential; a partial VIP
configuration refused in one line naming what is missing, never showing a key."""

from __future__ import annotations

import pytest
from test_configuration import production as plain_production
from test_configuration import refusal

from wizard.authority.router import Authorities
from wizard.authority.vip import VipAuthority


def production(vip_certs, **overrides):
    """test_configuration's production settings, VIP's four added."""
    vip = {
        "WIZARD_VIP_URL": "https://userservices-auth.vip.symantec.com/vipuserservices",
        "WIZARD_VIP_CERT": str(vip_certs / "client.pem"),
        "WIZARD_VIP_KEY": str(vip_certs / "client-key.pem"),
        "WIZARD_VIP_CA": str(vip_certs / "ca.pem"),
    }
    return plain_production(**{**vip, **overrides})


@pytest.mark.parametrize(
    "missing", ["WIZARD_VIP_URL", "WIZARD_VIP_CERT", "WIZARD_VIP_KEY", "WIZARD_VIP_CA"]
)
def test_cant_start_production_with_part_of_the_vip_settings(app_factory, vip_certs, missing):
    message = refusal(app_factory, production(vip_certs, **{missing: None}))

    assert message.startswith(missing)


def test_cant_reach_vip_over_plain_http(app_factory, vip_certs):
    message = refusal(app_factory, production(vip_certs, WIZARD_VIP_URL="http://vip.example"))

    assert "https://" in message


def test_should_name_a_missing_key_file_without_reading_it(app_factory, vip_certs, tmp_path):
    missing = tmp_path / "nowhere-key.pem"

    message = refusal(app_factory, production(vip_certs, WIZARD_VIP_KEY=str(missing)))

    assert message == f"WIZARD_VIP_KEY names no readable file: {missing}"


@pytest.mark.parametrize("timeout", ["soon", "0", "-1", "300"])
def test_cant_wait_for_vip_too_long_or_not_at_all(app_factory, vip_certs, timeout):
    message = refusal(app_factory, production(vip_certs, WIZARD_VIP_TIMEOUT=timeout))

    assert message.startswith("WIZARD_VIP_TIMEOUT")


def test_should_send_symantec_credentials_to_vip_and_keep_the_rest_here(app_factory, vip_certs):
    app = app_factory({"ARGON2_CHEAP": True}, production(vip_certs, WIZARD_VIP_TIMEOUT="2.5"))

    with app.app_context():
        from wizard.cli import create_schema

        create_schema()
        authorities = app.extensions["token_authority"]
        assert isinstance(authorities.vip, VipAuthority)
        assert authorities.vip.transport.settings.timeout == 2.5
        routed = {
            credential_id: authorities.uses_vip(credential_id)
            for credential_id in (
                "SYMC12345678",
                "SYMZ12345678",
                "SYDC12345678",
                "VSMT12345678",
                "VSST12345678",
                "AVT12345678",
                "FT12345678",
                "1234567890",  # OneSpan
            )
        }

    assert routed == {**{c: True for c in list(routed)[:-1]}, "1234567890": False}


def test_should_check_every_code_here_without_vip_settings(app):
    authorities = app.extensions["token_authority"]

    assert isinstance(authorities, Authorities)
    assert authorities.vip is None
    with app.app_context():
        assert not authorities.uses_vip("SYMC12345678")
