"""Who saw whose personal data: one record per officer view of a petition that showed any (PIPL; 信访工作条例
Art. 46 item 5). Records are inserted, never updated or deleted by the platform, in the gateway's own collection
`personal_data_views` of the read models' database; auditors list them (GET /api/v1/audit/personal-data-views).

A view is recorded before it is answered: if the record cannot be written, the personal data is not shown (the
PyMongoError becomes a 503, services/gateway/errors.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import mongoengine as me

from services.gateway.schemas import OfficerPetitionView
from services.gateway.security import Principal

PERSON_FIELDS = ("name", "id_number", "phone", "landline", "address", "email", "agent", "relation")
ACCUSED_FIELDS = ("name", "organisation", "position")
# In the case file, what the petitioner wrote after registering, by step: shown with their identity only, and
# recorded when shown (as `case_file.<field>`). What officers wrote at each step is the matter they handle: shown to
# every officer who may see the record, like the request and the facts (docs/security.md, "What each role sees").
PETITIONERS_WORDS = {"request_review": ("reasons",), "request_re_review": ("reasons",), "evaluate": ("comment",)}
# What links a step to the person's other petitions: with their identity only, like `repeat_of` (not recorded).
IDENTITY_LINKS = ("earlier_petition_id", "repeat_check")


class PersonalDataView(me.Document):
    """An officer saw these personal fields of this petition (written by the gateway only)."""

    record_id = me.StringField(primary_key=True)
    at = me.DateTimeField(required=True)
    username = me.StringField(required=True)
    role = me.StringField(required=True)
    organ = me.StringField(null=True)
    petition_id = me.StringField(required=True)
    fields_shown = me.ListField(me.StringField(), required=True)
    client = me.StringField(required=True)
    correlation_id = me.StringField(required=True)

    # Auditors ask by petition, by officer, or by time; each index costs every insert a little (one per view).
    meta = {"collection": "personal_data_views", "indexes": [("petition_id", "-at"), ("username", "-at"), "-at"]}


def _present(prefix: str, people: list[dict[str, Any]], names: tuple[str, ...]) -> list[str]:
    return [f"{prefix}.{name}" for name in names if any(person.get(name) for person in people)]


def personal_fields(view: OfficerPetitionView) -> list[str]:
    """The personal fields `view` shows, by dotted name ("petitioner.id_number", "accused.name", ...)."""
    shown = ["query_code"] if view.query_code else []
    shown += _present("petitioner", [view.petitioner] if view.petitioner else [], PERSON_FIELDS)
    if view.petitioner and view.petitioner.get("agent"):
        shown += _present("petitioner.agent", [view.petitioner["agent"]], PERSON_FIELDS)
    shown += _present("representatives", view.representatives, PERSON_FIELDS)
    shown += _present("joint_signers", view.joint_signers, PERSON_FIELDS)
    shown += _present("accused", [view.accused] if view.accused else [], ACCUSED_FIELDS)
    if any(notice.body for notice in view.notices):  # the petitioner's copy: their name and query code
        shown.append("notices.body")
    if view.note:  # the counter's note may describe the petitioner
        shown.append("note")
    words = {key for step in view.case_file for key in PETITIONERS_WORDS.get(step.step, ()) if step.said.get(key)}
    shown += [f"case_file.{key}" for key in sorted(words)]
    return shown


# Fields of a replayed event that show a person. The replay (services/audit/replay.py SHOWN) shows only the query
# code of them today; the others are listed so that a replay that starts showing one is recorded as a view too.
HISTORY_FIELDS = ("query_code", "petitioner", "accused", "representatives", "joint_signers", "recipient", "body")


def history_fields(events: list[dict[str, Any]]) -> list[str]:
    """The personal fields a petition's audit history shows, as "history.<field>"."""
    return [f"history.{name}" for name in HISTORY_FIELDS if any(event.get(name) for event in events)]


def record(principal: Principal, petition_id: str, fields: list[str], client: str, correlation_id: str) -> None:
    """Insert the record of one view (raises PyMongoError when it cannot be written: the view is then refused)."""
    entry = PersonalDataView(
        record_id=str(uuid.uuid4()), at=datetime.now(UTC), username=principal.username,
        role=principal.role.value, organ=principal.organ_code, petition_id=petition_id, fields_shown=fields,
        client=client, correlation_id=correlation_id)
    entry.validate()
    PersonalDataView._get_collection().insert_one(entry.to_mongo().to_dict())


def listing(*, petition_id: str | None, username: str | None, since: datetime | None, until: datetime | None,
            offset: int, limit: int) -> tuple[list[dict[str, Any]], int | None]:
    """Records matching every given filter, newest first, from `offset`; and the next page's offset (or None)."""
    query: dict[str, Any] = {}
    if petition_id is not None:
        query["petition_id"] = petition_id
    if username is not None:
        query["username"] = username
    if since is not None or until is not None:
        query["at"] = {**({"$gte": since} if since else {}), **({"$lt": until} if until else {})}
    found = list(PersonalDataView._get_collection().find(query).sort([("at", -1), ("_id", -1)])
                 .skip(offset).limit(limit + 1))  # one more: is there a next page?
    entries = [{"id": d["_id"], "at": d["at"], "username": d["username"], "role": d["role"], "organ": d.get("organ"),
                "petition_id": d["petition_id"], "fields": d["fields_shown"], "client": d["client"],
                "correlation_id": d["correlation_id"]} for d in found[:limit]]
    return entries, offset + limit if len(found) > limit else None


# --- work lists and the bureau's search (services/gateway/worklists.py) ----------------------------------------------
def record_rows(principal: Principal, shown: dict[str, list[str]], client: str, correlation_id: str) -> None:
    """One record per row of a list or a search that showed personal data ({petition id: fields shown}, e.g.
    ["list.query_code", "list.petitioner.name"]), inserted in one request before the page is answered."""
    at = datetime.now(UTC)
    entries = []
    for petition_id, fields in shown.items():
        if not fields:
            continue
        entry = PersonalDataView(
            record_id=str(uuid.uuid4()), at=at, username=principal.username, role=principal.role.value,
            organ=principal.organ_code, petition_id=petition_id, fields_shown=fields, client=client,
            correlation_id=correlation_id)
        entry.validate()
        entries.append(entry.to_mongo().to_dict())
    if entries:
        PersonalDataView._get_collection().insert_many(entries, ordered=True)


class PersonalDataSearch(me.Document):
    """An officer searched for a person's petitions (written by the gateway only): by which kind of key, a keyed
    hash of the value searched (never the value: the same value searched twice has the same hash, which only the
    gateway's key can compute), and which petitions were shown. Every search is recorded, one that found nothing
    too: that a person has not petitioned is personal data as well."""

    record_id = me.StringField(primary_key=True)
    at = me.DateTimeField(required=True)
    username = me.StringField(required=True)
    role = me.StringField(required=True)
    organ = me.StringField(null=True)
    searched_by = me.StringField(required=True)  # query_code | name | phone | id_number
    value_hash = me.StringField(required=True)
    petition_ids = me.ListField(me.StringField())
    client = me.StringField(required=True)
    correlation_id = me.StringField(required=True)

    meta = {"collection": "personal_data_searches", "indexes": [("username", "-at"), "-at"]}


def record_search(principal: Principal, searched_by: str, value_hash: str, petition_ids: list[str], client: str,
                  correlation_id: str) -> str:
    """Insert the record of one search; returns its id (raises PyMongoError when it cannot be written: the search
    is then not answered)."""
    entry = PersonalDataSearch(
        record_id=str(uuid.uuid4()), at=datetime.now(UTC), username=principal.username, role=principal.role.value,
        organ=principal.organ_code, searched_by=searched_by, value_hash=value_hash, petition_ids=petition_ids,
        client=client, correlation_id=correlation_id)
    entry.validate()
    PersonalDataSearch._get_collection().insert_one(entry.to_mongo().to_dict())
    return entry.record_id


def search_listing(*, username: str | None, since: datetime | None, until: datetime | None, offset: int,
                   limit: int) -> tuple[list[dict[str, Any]], int | None]:
    """Search records matching every given filter, newest first, from `offset`; and the next page's offset."""
    query: dict[str, Any] = {}
    if username is not None:
        query["username"] = username
    if since is not None or until is not None:
        query["at"] = {**({"$gte": since} if since else {}), **({"$lt": until} if until else {})}
    found = list(PersonalDataSearch._get_collection().find(query).sort([("at", -1), ("_id", -1)])
                 .skip(offset).limit(limit + 1))
    entries = [{"id": d["_id"], "at": d["at"], "username": d["username"], "role": d["role"],
                "organ": d.get("organ"), "searched_by": d["searched_by"], "value_hash": d["value_hash"],
                "petition_ids": d.get("petition_ids", []), "client": d["client"],
                "correlation_id": d["correlation_id"]} for d in found[:limit]]
    return entries, offset + limit if len(found) > limit else None
