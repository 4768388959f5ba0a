"""intake's search keys and masked names (services/intake/search.py): which keys a petition is filed under, how a
searched value becomes the same key, and that the keys are keyed hashes."""

from __future__ import annotations

from types import SimpleNamespace

from services.intake.repeats import file_id
from services.intake.search import digest, key_of, masked, petition_keys


def registered(**people: object) -> SimpleNamespace:
    return SimpleNamespace(petitioner=people.get("petitioner"), representatives=people.get("representatives", []),
                           joint_signers=people.get("joint_signers", []))


def test_a_petition_is_filed_under_its_petitioners_id_number_name_and_phones_not_its_agent() -> None:
    keys = petition_keys(registered(
        petitioner={"name": "王 秀兰", "id_number": "11010519491231002x", "phone": None, "landline": "0571-87654321",
                    "agent": {"name": "代理人", "phone": "13900139000"}},
        representatives=[{"name": "李四", "phone": "13800138000"}]))
    assert keys == ["id:11010519491231002X", "name:王秀兰", "phone:057187654321", "name:李四", "phone:13800138000"]
    assert petition_keys(registered()) == []  # an anonymous report names no petitioner


def test_a_searched_value_becomes_the_key_it_was_filed_under() -> None:
    assert key_of("name", "王秀兰") == "name:王秀兰" == key_of("name", "王　秀兰。")
    assert key_of("phone", "+86 13800138000") == "phone:13800138000"
    assert key_of("id_number", "11010519491231002x") == "id:11010519491231002X"
    assert key_of("phone", "123") is None


def test_keys_are_keyed_hashes_in_a_domain_of_their_own() -> None:
    secret = b"k" * 32
    assert digest(secret, "id:X") != digest(b"j" * 32, "id:X")
    assert digest(secret, "id:X") != file_id("id:X", secret).hex  # not a petitioner file's id


def test_a_masked_name_shows_the_surname_never_the_length() -> None:
    assert masked("王秀兰") == masked("王五") == "王**"
