"""Lifecycle commands refuse, at the door, what their published step could not carry."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.language.contracts.errors import validation_problem
from shared.language.contracts.lifecycle import COMMANDS


def test_an_earlier_petition_is_named_by_its_id_not_in_words() -> None:
    decline = COMMANDS["decline_again"]

    with pytest.raises(ValidationError) as refused:
        decline.model_validate({"reason_code": "same_facts", "earlier_petition_id": "张三 2019 旧案"})

    [problem] = validation_problem(refused.value.errors())["errors"]
    assert problem["field"] == "earlier_petition_id" and problem["label"] == "此前信访事项编号"
    assert "格式不正确" in problem["message"]
    accepted = decline.model_validate({"reason_code": "same_facts",
                                       "earlier_petition_id": "1c637d78-3d97-5488-91e5-aabe96b0557f"})
    assert accepted.model_dump(mode="json")["earlier_petition_id"] == "1c637d78-3d97-5488-91e5-aabe96b0557f"
