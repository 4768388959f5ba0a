"""Finding petitions by who petitioned, and the names a work list shows: intake keeps the people, so it answers both,
over its private RPC, to the gateway only (docs/architecture.md §"Work lists", docs/security.md).

**The search index.** Each registered petition is filed under keys of the people it names as petitioners — the
petitioner, the representatives of a group, the joint signers of a letter (not an agent, not the accused): `id:`
the ID number, `name:` the name as people read it (full width, punctuation and case do not matter), `phone:` the
digits of a mobile or fixed-line number. Each key is stored as a keyed hash (HMAC-SHA256 under
INTAKE_PERSON_KEY_SECRET, in a domain of its own: no petitioner-file id equals it), beside the petition id and the
registration time, in the collection `petition_search_keys` of the read models' database: whoever reads it cannot
tell whose petitions they are, nor test a guess, without intake's key. The index is a projection of intake's store
(`SearchIndexProjection`, a worker of the intake-relay process with its own position), so it is rebuilt with
`python -m services.intake.search --rebuild`. A query code needs no index: it is the petition's id.

**Names for a page.** A work list shows each row's petitioner; the gateway decides which rows' officer may see
the name (docs/security.md, "What each role sees") and asks once per page. Everyone else reads a masked name
(the first character and two stars, whatever the name's length: "张**"), an anonymous report "匿名". An auditor is
never answered a full name, whatever the gateway asks.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from mongoengine.connection import get_db
from pymongo import ASCENDING, DESCENDING

from services.intake.domainmodel import Petition
from services.intake.repeats import _plain
from shared.language.contracts import querycode
from shared.language.contracts.actor import Role
from shared.language.contracts.search import phone_digits
from shared.language.readmodels import READ_MODELS_ALIAS, connect_read_models, insert_new

COLLECTION = "petition_search_keys"
KINDS = ("query_code", "name", "phone", "id_number")
SEARCHING_ROLES = frozenset({Role.CLERK, Role.SUPERVISOR, Role.ADMIN})  # the bureau (docs/security.md)
OFFICER_ROLES = frozenset({Role.CLERK, Role.ORGAN_OFFICER, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN})
MAX_RESULTS = 50  # the most recent matches (a common name has many)
MAX_NAMES = 100  # rows of one page
ANONYMOUS = "匿名"


# --- keys ----------------------------------------------------------------------------------------------------------
def key_of(kind: str, value: str) -> str | None:
    """The index key of a searched value, or None when the value cannot be one (`kind` other than a query code)."""
    if kind == "id_number":
        number = value.strip().upper()
        return f"id:{number}" if number else None
    if kind == "name":
        plain = _plain(value)
        return f"name:{plain}" if plain else None
    if kind == "phone":
        digits = phone_digits(value)
        return f"phone:{digits}" if digits else None
    raise ValueError(f"unknown kind of key {kind!r}")


def petition_keys(event: Any) -> list[str]:
    """Every key a registered petition is filed under (its petitioners only)."""
    people = [p for p in (event.petitioner, *event.representatives, *event.joint_signers) if p]
    keys: list[str] = []
    for person in people:
        if person.get("id_number"):
            keys.append(f"id:{person['id_number'].upper()}")
        if person.get("name"):
            keys.append(f"name:{_plain(person['name'])}")
        for number in (person.get("phone"), person.get("landline")):
            if number and (digits := phone_digits(number)):
                keys.append(f"phone:{digits}")
    return list(dict.fromkeys(keys))


def digest(secret: bytes, key: str) -> str:
    return hmac.new(secret, f"search\n{key}".encode(), hashlib.sha256).hexdigest()


def collection() -> Any:
    return get_db(READ_MODELS_ALIAS)[COLLECTION]


_connecting = threading.Lock()
_connected_to: list[str] = []


def connected(mongodb_uri: str) -> None:
    """Connect this process to the read models' database once (intake's service reaches it only to search)."""
    with _connecting:
        if _connected_to != [mongodb_uri]:
            connect_read_models(mongodb_uri)
            _connected_to[:] = [mongodb_uri]


def ensure_indexes() -> None:
    collection().create_index([("key", ASCENDING), ("at", DESCENDING)], name="key_at")


# --- the projection --------------------------------------------------------------------------------------------------
class SearchIndexProjection:
    """intake's store → `petition_search_keys` (insert-only, keyed by key and petition: a replay changes nothing)."""

    name = COLLECTION
    gather_seconds = 1.0  # a search finds a petition registered a second ago, under load; at once otherwise
    topics = (get_topic(Petition.Registered),)  # what it reads of the store (the files and keys are skipped)

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._ready = False

    def prepare(self) -> None:
        ensure_indexes()
        self._ready = True

    def drop(self) -> None:
        collection().drop()
        self.prepare()

    def apply_batch(self, items: Sequence[tuple[int, Any]]) -> None:
        documents = []
        for _sequence, event in items:
            if not isinstance(event, Petition.Registered):
                continue
            petition_id = str(event.originator_id)
            for key in petition_keys(event):
                hashed = digest(self._secret, key)
                documents.append({"_id": f"{hashed}|{petition_id}", "key": hashed, "petition_id": petition_id,
                                  "at": event.timestamp})
        if documents and not self._ready:
            self.prepare()
        insert_new(collection(), documents)


# --- reading petitions in one query ----------------------------------------------------------------------------------
def registrations(app: Any, petition_ids: Iterable[str]) -> dict[str, Any]:
    """The `Petition.Registered` events of these petitions (by id; unknown ids are left out), in one query: a page
    of names must not cost a store round trip per row."""
    ids: list[UUID] = []
    for text in dict.fromkeys(petition_ids):
        try:
            ids.append(UUID(str(text)))
        except ValueError:
            continue
    if not ids:
        return {}
    recorder, topic = app.recorder, get_topic(Petition.Registered)
    columns = "originator_id, originator_version, topic, state"
    with recorder.datastore.transaction(commit=False) as cursor:
        if app.settings.event_store == "postgres":
            cursor.execute(psycopg.sql.SQL(
                "SELECT " + columns + " FROM {}.{} WHERE originator_id = ANY(%s) AND originator_version = 1 "
                "AND topic = %s").format(psycopg.sql.Identifier(recorder.datastore.schema),
                                         psycopg.sql.Identifier(recorder.events_table_name)), (ids, topic))
        else:
            marks = ",".join("?" * len(ids))
            cursor.execute(f"SELECT {columns} FROM {recorder.events_table_name} WHERE originator_id IN ({marks}) "
                           "AND originator_version = 1 AND topic = ?", [*(i.hex for i in ids), topic])
        rows = cursor.fetchall()
    found = {}
    for row in rows:
        event = app.mapper.to_domain_event(StoredEvent(
            originator_id=UUID(str(row["originator_id"])), originator_version=row["originator_version"],
            topic=row["topic"], state=bytes(row["state"])))
        found[str(event.originator_id)] = event
    return found


# --- answers -----------------------------------------------------------------------------------------------------------
def masked(name: str) -> str:
    """The first character and two stars, whatever the length: the surname, never how long the name is."""
    return f"{name[:1]}**"


def names(app: Any, petition_ids: Sequence[str], identified: Iterable[str], actor: dict[str, Any]) -> dict[str, Any]:
    """{petition id: {"name", "identified", "anonymous"}} for a work list's page: the full name for the petitions in
    `identified` (the gateway's decision; never for an auditor), masked otherwise, "匿名" for an anonymous report."""
    role = actor.get("role")
    if role not in OFFICER_ROLES:
        return {}
    full = set() if role == Role.AUDITOR else set(map(str, identified))
    answer = {}
    for petition_id, event in registrations(app, list(petition_ids)[:MAX_NAMES]).items():
        person = event.petitioner
        if event.anonymous or not person:
            answer[petition_id] = {"name": ANONYMOUS, "identified": False, "anonymous": True}
        elif petition_id in full:
            answer[petition_id] = {"name": person["name"], "identified": True, "anonymous": False}
        else:
            answer[petition_id] = {"name": masked(person["name"]), "identified": False, "anonymous": False}
    return answer


def _found(event: Any) -> dict[str, Any]:
    person = event.petitioner if not event.anonymous else None
    return {"petition_id": str(event.originator_id), "query_code": event.query_code, "title": event.title,
            "registered_at": event.timestamp.isoformat(), "category": event.category, "channel": event.channel,
            "topic": event.topic, "place_code": event.place_code, "flags": list(event.flags),
            "repeat_of": event.repeat_of, "anonymous": person is None,
            "name": person["name"] if person else ANONYMOUS}


def search(app: Any, secret: bytes, kind: str, value: str, actor: dict[str, Any]) -> dict[str, Any]:
    """{"ok": true, "found": [...newest first...], "truncated"} or {"ok": false, "error"}: the bureau's search
    (clerk, supervisor, admin) by query code, petitioner name, phone or ID number."""
    if actor.get("role") not in SEARCHING_ROLES:
        return {"ok": False, "error": "forbidden"}
    if kind not in KINDS:
        return {"ok": False, "error": "invalid_kind"}
    if kind == "query_code":
        code = querycode.normalize(value)
        if code is None:
            return {"ok": False, "error": "invalid_value"}
        found = registrations(app, [str(Petition.create_id(code))])
        return {"ok": True, "found": [_found(e) for e in found.values()], "truncated": False}
    key = key_of(kind, value)
    if key is None:
        return {"ok": False, "error": "invalid_value"}
    entries = list(collection().find({"key": digest(secret, key)}, {"petition_id": 1, "_id": 0})
                   .sort("at", DESCENDING).limit(MAX_RESULTS + 1))
    ids = [e["petition_id"] for e in entries[:MAX_RESULTS]]
    events = registrations(app, ids)
    return {"ok": True, "found": [_found(events[i]) for i in ids if i in events],
            "truncated": len(entries) > MAX_RESULTS}


def rebuild_main() -> None:
    """`python -m services.intake.search --rebuild`: drop the search index and file every stored petition again
    (stop the intake-relay processes first: the rebuild refuses to run beside the worker that keeps it)."""
    from services.intake.bootstrap import build_application  # noqa: PLC0415 - a command of its own
    from services.intake.settings import IntakeSettings  # noqa: PLC0415
    from shared.runtime.projector import rebuild  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m services.intake.search")
    parser.add_argument("--rebuild", action="store_true", required=True, help="drop and refill the search index")
    parser.parse_args()
    settings = IntakeSettings().for_follower()
    connect_read_models(settings.mongodb_uri)
    application = build_application(settings)
    try:
        count = rebuild(settings, "intake", application, SearchIndexProjection(settings.person_key_secret.encode()))
        print(f"rebuilt {COLLECTION} from {count} stored events at {datetime.now(UTC).isoformat()}")
    finally:
        application.close()


if __name__ == "__main__":
    rebuild_main()
