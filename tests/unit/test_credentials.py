import pytest
from hypothesis import given
from hypothesis import strategies as st

from wizard.domain.credentials import (
    SOFT_PREFIXES,
    LookAlike,
    Normalised,
    accepted_soft_forms,
    grouped,
    normalise_onespan,
    normalise_soft,
    normalise_symantec_hard,
    recognize,
)

ALL_SOFT_PREFIXES = ["SYMC", "SYMZ", "SYDC", "VSMT", "VSST"]


@pytest.mark.parametrize(
    "typed, value",
    [
        ("SYMC26070843", "SYMC26070843"),
        ("symc26070843", "SYMC26070843"),
        ("SyMc26070843", "SYMC26070843"),
        ("SYMC 2607 0843", "SYMC26070843"),
        ("SYMC-2607-0843", "SYMC26070843"),
        ("SYMC_2607.0843", "SYMC26070843"),
        ("  SYMC2607 0843\n", "SYMC26070843"),
        ("S Y M C 2 6 0 7 0 8 4 3", "SYMC26070843"),
    ],
)
def test_should_normalise_soft_credential_id_to_12_characters(typed, value):
    assert normalise_soft(typed) == Normalised(value, None, False)


@pytest.mark.parametrize("prefix", ALL_SOFT_PREFIXES)
def test_should_accept_each_vip_access_prefix(prefix):
    assert normalise_soft(f"{prefix}12345678").value == f"{prefix}12345678"


@pytest.mark.parametrize(
    "typed, value",
    [
        ("SYMC26O7O843", "SYMC26070843"),
        ("symc 26o7 o843", "SYMC26070843"),
        ("SYMCI2345678", "SYMC12345678"),
        ("SYMCl2345678", "SYMC12345678"),
        ("SYMCL2345678", "SYMC12345678"),
        ("VSMTOOOOIIII", "VSMT00001111"),
    ],
)
def test_should_correct_lookalike_letters_in_the_digits_and_say_so(typed, value):
    assert normalise_soft(typed) == Normalised(value, None, True)


def test_should_not_flag_lookalikes_when_none_were_typed():
    assert normalise_soft("SYMC10101010").corrected_lookalikes is False


def test_should_leave_lookalike_letters_in_the_prefix_alone():
    result = normalise_soft("lois 1234 5678", prefixes=("LOIS",))

    assert result == Normalised("LOIS12345678", None, False)


@pytest.mark.parametrize("typed", ["", "   ", " - ", None])
def test_should_ask_for_the_credential_id_when_empty(typed):
    assert normalise_soft(typed) == Normalised(
        None, "Enter the Credential ID shown in the VIP Access app"
    )


@pytest.mark.parametrize("typed", ["ABCD12345678", "12345678", "SYM12345678", "XSYMC12345678"])
def test_cant_accept_unknown_prefix_and_names_accepted_forms(typed):
    result = normalise_soft(typed)

    assert result.value is None
    assert result.error == (
        "A Credential ID starts with 4 letters (SYMC, SYMZ, SYDC, VSMT or VSST) then 8 digits, "
        "for example SYMC12345678"
    )


@pytest.mark.parametrize(
    "typed, length",
    [
        ("SYMC1234567", 11),
        ("SYMC 1234 567", 11),
        ("SYMC123456789", 13),
        ("SYMC", 4),
        ("SYMC1234567X", 12),
        ("SYMC12345A78", 12),
    ],
)
def test_cant_accept_wrong_length_or_letters_in_the_digits(typed, length):
    result = normalise_soft(typed)

    assert result.value is None
    assert result.error == (
        "A Credential ID is 12 characters: 4 letters (SYMC, SYMZ, SYDC, VSMT or VSST) "
        f"then 8 digits, for example SYMC12345678 (you entered {length})"
    )


@pytest.mark.parametrize("typed", ["SYMC１２３４５６７８", "SYMC²²²²²²²²", "SYMC١٢٣٤٥٦٧٨"])
def test_cant_accept_non_ascii_digits_in_soft_credential_id(typed):
    assert normalise_soft(typed).value is None


def test_should_accept_configured_prefixes_only():
    assert normalise_soft("abcd12345678", prefixes=("ABCD", "EFGH")).value == "ABCD12345678"
    assert normalise_soft("SYMC12345678", prefixes=("ABCD", "EFGH")).error == (
        "A Credential ID starts with 4 letters (ABCD or EFGH) then 8 digits, "
        "for example ABCD12345678"
    )


@pytest.mark.parametrize(
    "prefixes, forms",
    [
        (
            SOFT_PREFIXES,
            "4 letters (SYMC, SYMZ, SYDC, VSMT or VSST) then 8 digits, for example SYMC12345678",
        ),
        (("ABCD", "EFGH"), "4 letters (ABCD or EFGH) then 8 digits, for example ABCD12345678"),
        (("ABCD",), "4 letters (ABCD) then 8 digits, for example ABCD12345678"),
    ],
)
def test_should_describe_accepted_soft_forms(prefixes, forms):
    assert accepted_soft_forms(prefixes) == forms


@given(
    prefix=st.sampled_from(ALL_SOFT_PREFIXES),
    digits=st.text(alphabet="0123456789", min_size=8, max_size=8),
)
def test_should_read_back_the_grouped_form_as_the_same_credential_id(prefix, digits):
    credential_id = prefix + digits

    assert normalise_soft(grouped(credential_id).lower()).value == credential_id


@pytest.mark.parametrize(
    "typed, value, corrected",
    [
        ("1234567890", "1234567890", False),
        ("123-456-7890", "1234567890", False),
        ("12 3456 7890", "1234567890", False),
        ("I23456789O", "1234567890", True),
        ("l23456789o", "1234567890", True),
    ],
)
def test_should_normalise_onespan_serial(typed, value, corrected):
    assert normalise_onespan(typed) == Normalised(value, None, corrected)


@pytest.mark.parametrize(
    "typed", ["123456789", "12345678901", "12345abcde", "GO71234567", "１２３４５６７８９０"]
)
def test_cant_accept_onespan_serial_that_is_not_10_digits(typed):
    assert normalise_onespan(typed) == Normalised(
        None, "A OneSpan Digipass serial number is 10 digits, for example 1234567890"
    )


@pytest.mark.parametrize("typed", ["", "  ", None])
def test_should_ask_for_onespan_serial_when_empty(typed):
    assert normalise_onespan(typed) == Normalised(
        None, "Enter the serial number printed on the back of the token"
    )


@pytest.mark.parametrize(
    "typed, value, corrected",
    [
        ("AVT123456", "AVT123456", False),
        ("avt-1234-5678", "AVT12345678", False),
        ("FT123456789012", "FT123456789012", False),
        ("ft 123 456", "FT123456", False),
        ("AVT12345O", "AVT123450", True),
        ("FTI23456", "FT123456", True),
    ],
)
def test_should_normalise_symantec_hard_token_serial(typed, value, corrected):
    assert normalise_symantec_hard(typed) == Normalised(value, None, corrected)


@pytest.mark.parametrize(
    "typed",
    [
        "FT12345",
        "AVT1234567890123",
        "XYZ123456",
        "123456789",
        "AVTABC123",
        "SYMC12345678",
        "AVT",
        "AVT１２３４５６",
    ],
)
def test_cant_accept_symantec_hard_serial_of_wrong_shape(typed):
    assert normalise_symantec_hard(typed) == Normalised(
        None,
        "A Symantec token serial number starts with AVT or FT, then 6 to 12 digits, "
        "for example AVT12345678",
    )


@pytest.mark.parametrize("typed", ["", " ", None])
def test_should_ask_for_symantec_hard_serial_when_empty(typed):
    assert normalise_symantec_hard(typed) == Normalised(
        None, "Enter the serial number printed on the token"
    )


@pytest.mark.parametrize(
    "credential_id, shown",
    [
        ("SYMC26070843", "SYMC 2607 0843"),
        ("VSST00001111", "VSST 0000 1111"),
        ("1234567890", "1234567890"),
        ("AVT12345678", "AVT12345678"),
        ("SYMC1234567", "SYMC1234567"),
        ("", ""),
    ],
)
def test_should_group_soft_credential_id_as_the_app_shows_it(credential_id, shown):
    assert grouped(credential_id) == shown


def test_should_prefer_the_longest_matching_prefix():
    result = normalise_soft("SYMC12345678", prefixes=("SYM", "SYMC"))

    assert result == Normalised("SYMC12345678", None, False)


@pytest.mark.parametrize(
    "typed, kind",
    [
        ("SYMC12345678", LookAlike.VIP_APP),
        ("sydc 1234 5678", LookAlike.VIP_APP),
        ("VSST-1234-5678", LookAlike.VIP_APP),
        ("FT12345678", LookAlike.SYMANTEC_KEY_FOB),
        ("AVT123456789", LookAlike.SYMANTEC_KEY_FOB),
        ("avt 1234 5678", LookAlike.SYMANTEC_KEY_FOB),
        ("3315511111", LookAlike.ONESPAN_KEY_FOB),
        ("12-3456789-0", LookAlike.ONESPAN_KEY_FOB),
        ("UBHE12345678", LookAlike.YUBIKEY),
        ("VSMB12345678", LookAlike.VIP_HARDWARE),
        ("123456", LookAlike.SECURITY_CODE),
        ("123 456", LookAlike.SECURITY_CODE),
        ("1234567893", LookAlike.NPI),
        ("1245-319-599", LookAlike.NPI),
        ("AB1234563", LookAlike.DEA_NUMBER),
        ("bj6125341", LookAlike.DEA_NUMBER),
    ],
)
def test_should_recognize_what_a_typed_serial_looks_like(typed, kind):
    assert recognize(typed) is kind


@pytest.mark.parametrize(
    "typed", ["", None, "hello", "12345", "1234567", "AB1234564", "SYMC1234", "XYZW12345678"]
)
def test_should_recognize_nothing_in_text_of_no_known_shape(typed):
    assert recognize(typed) is None


def test_should_read_an_ft_serial_that_passes_the_dea_check_as_a_key_fob():
    assert normalise_symantec_hard("FT1234563").value == "FT1234563"
    assert recognize("FT1234563") is LookAlike.SYMANTEC_KEY_FOB


@given(st.text(max_size=40))
def test_should_recognize_only_what_a_path_accepts_as_its_own_kind(typed):
    """A value a path accepts is recognized as that path's kind (a 10-digit NPI aside)."""
    if normalise_soft(typed).value:
        assert recognize(typed) is LookAlike.VIP_APP
    elif normalise_symantec_hard(typed).value:
        assert recognize(typed) is LookAlike.SYMANTEC_KEY_FOB
