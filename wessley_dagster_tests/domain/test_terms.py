import pytest

from wessley_dagster.domain.terms import TERMS, find_terms, normalize_value


def test_dictionary_size_and_unique_aliases():
    assert len(TERMS) >= 96
    canonicals = [t.canonical for t in TERMS]
    assert len(canonicals) == len(set(canonicals))


@pytest.mark.parametrize("text", ["10k", "10K", "10 kΩ", "10kohm", "10000 ohm", "10000ohms", "10 k"])
def test_ten_kilo_ohm_spellings_agree(text):
    if text == "10 k":  # a prefix after a space with no unit is a grid label, not a value
        assert normalize_value(text) is None
    else:
        assert normalize_value(text) == "10 kΩ"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("4k7", "4.7 kΩ"),
        ("100nF", "100 nF"),
        ("4.7uF", "4.7 µF"),
        ("0.1 µF", "100 nF"),
        ("12V", "12 V"),
        ("1M", "1 MΩ"),
        ("15A", "15 A"),
        ("220R", "220 Ω"),
        ("5m", None),
        ("42", None),
    ],
)
def test_values_normalise(text, value):
    assert normalize_value(text) == value


def test_synonyms_map_to_canonical_terms():
    terms = find_terms("R12 to GND; CANH and CAN_L at the OBD2 DLC; VBAT_SW via K3 relay")
    for expected in ["ground", "can high", "can low", "obd", "switched battery", "relay"]:
        assert expected in terms
    assert find_terms("ground") == ["ground"]


def test_longest_alias_wins():
    assert find_terms("fuel pump relay") == ["fuel pump", "relay"]
