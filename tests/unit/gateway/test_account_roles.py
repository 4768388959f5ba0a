"""One Role type for everyone who acts; only officers' roles may sign in."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.gateway.security import UserRecord, hash_password
from shared.language.contracts.actor import OFFICER_ROLES, Actor, Role


@pytest.mark.parametrize("role", list(OFFICER_ROLES))
def test_an_officer_account_takes_an_officer_role(role: Role) -> None:
    assert UserRecord(username="u", role=role, password_hash=hash_password("secret-password")).role == role


@pytest.mark.parametrize("role", ["system", "petitioner", "province"])
def test_no_account_signs_in_as_the_platform_a_petitioner_or_the_province(role: str) -> None:
    with pytest.raises(ValidationError, match="an account's role is one of"):
        UserRecord(username="u", role=role, password_hash=hash_password("secret-password"))


def test_an_actor_records_its_role_as_the_plain_value_stored_in_events() -> None:
    assert Actor(role=Role.CLERK, user="clerk").model_dump() == {"role": "clerk", "user": "clerk", "organ": None}
