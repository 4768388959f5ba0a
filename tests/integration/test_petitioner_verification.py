"""intake checks the petitioner's second factor (the ID number's last six characters) for the gateway: only intake
holds ID numbers. Against a real event store."""

from __future__ import annotations

import pytest

from services.intake.application import IntakeApplication
from services.intake.settings import IntakeSettings
from shared.language.contracts.registration import RegisterPetition
from tests.support import samples


@pytest.fixture
def intake(settings_for, closing) -> IntakeApplication:
    return closing(IntakeApplication(settings_for(IntakeSettings)))


def register(intake: IntakeApplication, body: dict) -> dict:
    return intake.register_petition(RegisterPetition.model_validate(body))


def test_the_petitioners_own_tail_is_verified_and_no_other(intake):
    body = samples.petition()
    body["petitioner"]["agent"] = {"name": "李四", "id_number": samples.id_number(), "phone": samples.mobile()}
    receipt = register(intake, body)
    tail = body["petitioner"]["id_number"][-6:]

    assert intake.verify_petitioner(receipt["query_code"], tail) == {
        "petition_id": receipt["id"], "verified": True, "anonymous": False}
    assert intake.verify_petitioner(receipt["query_code"].lower(), tail.lower())["verified"] is True
    assert intake.verify_petitioner(receipt["query_code"], "000000" if tail != "000000" else "111111")["verified"] \
        is False
    # An agent (代理人) gives the petitioner's digits, not the agent's own.
    assert intake.verify_petitioner(receipt["query_code"], body["petitioner"]["agent"]["id_number"][-6:])[
        "verified"] is False


def test_an_unknown_code_is_none_and_an_anonymous_report_is_never_verified(intake):
    report = samples.petition(category="report", anonymous=True, topic=None, accused={"name": "孙某某"})
    del report["petitioner"]
    receipt = register(intake, report)

    assert intake.verify_petitioner("ZZZZ-ZZZZ-ZZZZ-ZZZZ", "123456") is None
    assert intake.verify_petitioner("not a code", "123456") is None
    assert intake.verify_petitioner(receipt["query_code"], "123456") == {
        "petition_id": receipt["id"], "verified": False, "anonymous": True}
