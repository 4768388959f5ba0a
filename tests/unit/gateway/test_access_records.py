"""Which personal fields an answer shows, as recorded for auditors (services/gateway/access_records.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.gateway.access_records import history_fields, personal_fields
from services.gateway.schemas import OfficerNotice, OfficerPetitionView

NOW = datetime(2026, 10, 1, tzinfo=UTC)


def view(**fields) -> OfficerPetitionView:
    base = {"id": "p", "query_code": None, "status": "handling", "status_text": "办理中", "channel": "online",
            "category": "appeal", "request": "请求", "facts_and_reasons": "事实", "place_code": "330106001",
            "people_count": 1}
    return OfficerPetitionView(**{**base, **fields})


def test_every_shown_personal_field_is_named_and_nothing_else():
    shown = view(query_code="ABCD-EFGH-JKMN-PQRS",
                 petitioner={"name": "王秀兰", "id_number": "330106", "phone": "138", "address": "路", "email": None,
                             "agent": {"name": "乙", "phone": "139", "id_number": None, "relation": "儿子"}},
                 representatives=[{"name": "甲", "id_number": None, "phone": None}],
                 accused={"name": "丙", "organisation": None, "position": "经理"},
                 notices=[OfficerNotice(kind="k", title="t", body="王秀兰：查询码", delivered_at=NOW)])
    assert personal_fields(shown) == [
        "query_code", "petitioner.name", "petitioner.id_number", "petitioner.phone", "petitioner.address",
        "petitioner.agent", "petitioner.agent.name", "petitioner.agent.phone", "petitioner.agent.relation",
        "representatives.name", "accused.name", "accused.position", "notices.body"]


def test_a_view_without_identity_shows_no_personal_field():
    withheld = view(identity_withheld=True, withheld=["query_code", "petitioner"],
                    notices=[OfficerNotice(kind="k", title="t", body=None, delivered_at=NOW)])
    assert personal_fields(withheld) == []


def test_the_history_names_what_its_events_hold():
    events = [{"event": "Petition.Registered", "query_code": "ABCD"}, {"event": "Case.Opened", "query_code": None},
              {"event": "Case.Accepted", "organ": {"code": "x"}}]
    assert history_fields(events) == ["history.query_code"]
    assert history_fields(events[1:]) == []
