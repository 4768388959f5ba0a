"""supervision's CaseView projection on a real SecantusDB (MongoDB wire protocol): what the petitioner sees, and
that replaying or rebuilding from the store gives the same document, with nothing applied twice."""

from __future__ import annotations

import uuid

import pytest

from services.supervision.application import SupervisionApplication
from services.supervision.bootstrap import build_application as build_supervision
from services.supervision.projections import CaseViewProjection
from services.supervision.settings import SupervisionSettings
from shared.language.readmodels import CaseCode, CaseView, case_id_by_query_code, case_view_by_query_code
from shared.runtime.projector import Projector, rebuild
from tests.integration.test_exactly_once_processing import notice_event
from tests.support import samples


@pytest.fixture
def supervision(settings_for, closing, read_models) -> SupervisionApplication:
    return closing(build_supervision(settings_for(SupervisionSettings, store="sqlite")))


def snapshot(petition_id: str) -> dict:
    document = CaseView.objects(petition_id=petition_id).first().to_mongo().to_dict()
    document.pop("updated_at")
    return document


def drive_a_case(supervision: SupervisionApplication) -> str:
    registered = samples.registered_event(1, title="小区污水外溢")
    petition_id = registered.subject
    supervision.open_case(registered, samples.particulars(registered))
    supervision.record_routing(samples.routed_event(1, petition_id))
    supervision.record_notice(notice_event(1, petition_id))
    return petition_id


def test_the_view_shows_status_organ_deadline_and_a_public_timeline(settings_for, supervision):
    petition_id = drive_a_case(supervision)
    projector = Projector(settings_for(SupervisionSettings, store="sqlite"), "supervision", supervision,
                          CaseViewProjection(supervision))
    projector.follower.run_once()
    projector.close()

    view = CaseView.objects(petition_id=petition_id).first()
    assert view.status == "awaiting_acceptance"
    assert view.status_text == "已转送有权处理机关，待受理"
    assert view.organ.name == "示例县城关镇人民政府"
    assert [(d.kind, d.status) for d in view.deadlines] == [
        ("triage", "met"), ("acceptance", "open"), ("objection", "open")]
    assert view.next_deadline.kind in ("acceptance", "objection")
    assert [t.step for t in view.timeline] == ["registered", "route", "notice_delivered"]
    assert view.timeline[1].text == "已转送示例县城关镇人民政府办理，该机关将在规定期限内告知是否受理"
    assert view.timeline[2].text == "《信访事项登记回执》已在查询页面公布"
    assert view.version == 3


def test_replaying_the_store_changes_nothing_and_a_rebuild_gives_the_same_view(settings_for, supervision):
    settings = settings_for(SupervisionSettings, store="sqlite")
    petition_id = drive_a_case(supervision)
    projector = Projector(settings, "supervision", supervision, CaseViewProjection(supervision))
    projector.follower.run_once()
    before = snapshot(petition_id)

    # A crash before the position was written: the same events are applied again.
    projector.position.reset()
    projector.follower._position = None
    projector.follower.run_once()
    assert snapshot(petition_id) == before
    projector.close()

    replayed = rebuild(settings, "supervision", supervision, CaseViewProjection(supervision))
    assert replayed == 3
    assert snapshot(petition_id) == before


def test_a_rebuild_refuses_to_run_beside_a_live_projector(settings_for, supervision):
    settings = settings_for(SupervisionSettings, store="sqlite")
    live = Projector(settings, "supervision", supervision, CaseViewProjection(supervision))
    assert live.lock.try_acquire()
    try:
        with pytest.raises(SystemExit, match="stop it before rebuilding"):
            rebuild(settings, "supervision", supervision, CaseViewProjection(supervision))
    finally:
        live.close()


def test_a_case_that_cannot_be_shown_does_not_hold_back_the_others(settings_for, supervision):
    from dataclasses import replace as altered

    broken_case = samples.registered_event(101)
    supervision.open_case(broken_case, samples.particulars(broken_case))
    supervision.record_routing(samples.routed_event(101, broken_case.subject))
    notice = notice_event(101, broken_case.subject)
    bad_time = altered(notice, data={**notice.data, "delivered_at": "next tuesday"})
    supervision.record_notice(bad_time)  # (consumers refuse such an event; this one was stored regardless)
    healthy = drive_a_case(supervision)
    projector = Projector(settings_for(SupervisionSettings, store="sqlite"), "supervision", supervision,
                          CaseViewProjection(supervision))
    projector.follower.run_once()
    projector.close()

    assert CaseView.objects(petition_id=healthy).first().version == 3
    stale = CaseView.objects(petition_id=broken_case.subject).first()
    assert stale is None or stale.version == 1


def test_a_view_that_moved_on_after_the_batch_read_it_is_not_overwritten(supervision):
    # Only possible with a second projector running despite the single-active lock: its newer view stays.
    registered = samples.registered_event(1)
    petition_id = registered.subject
    supervision.open_case(registered, samples.particulars(registered))
    projection = CaseViewProjection(supervision)
    projection.apply_batch(list(enumerate(supervision.events.get(uuid.UUID(petition_id)), 1)))
    supervision.record_routing(samples.routed_event(1, petition_id))
    advance = projection._advance

    def another_projector_writes_first(view, case_id, newer):
        CaseView._get_collection().update_one({"_id": petition_id}, {"$set": {"version": 9, "status": "other"}})
        return advance(view, case_id, newer)

    projection._advance = another_projector_writes_first  # type: ignore[method-assign]
    routed = list(supervision.events.get(uuid.UUID(petition_id), gt=1))
    projection.apply_batch([(2, event) for event in routed])

    stored = CaseView._get_collection().find_one({"_id": petition_id})
    assert (stored["version"], stored["status"]) == (9, "other")


def test_a_large_batch_is_written_in_parts_and_every_view_lands_once(supervision, monkeypatch):
    import services.supervision.projections as projections
    from shared.language.contracts import querycode

    cases = [samples.registered_event(i, query_code=querycode.issue()) for i in range(1, 31)]
    for n, registered in enumerate(cases):
        supervision.open_case(registered, samples.particulars(registered))
        supervision.record_routing(samples.routed_event(100 + n, registered.subject))
    items = [(i, e) for i, e in enumerate((e for r in cases for e in supervision.events.get(uuid.UUID(r.subject))), 1)]
    projection = CaseViewProjection(supervision)
    parts: list[int] = []
    write = projection._bulk_write
    monkeypatch.setattr(projection, "_bulk_write", lambda writes: (parts.append(len(writes)), write(writes))[1])

    projection.apply_batch(items)
    projection.apply_batch(items)  # replayed: every view already shows it, nothing is written

    assert parts == [15, 15], f"30 writes, {projections.SPLIT_FROM} or more per connection"
    views = {v.petition_id: v for v in CaseView.objects(petition_id__in=[r.subject for r in cases])}
    assert len(views) == 30
    assert all(v.version == 2 and v.organ.code == "330106001-ZF" for v in views.values())


def _project_new_events(projection: CaseViewProjection, supervision: SupervisionApplication, petition_id: str,
                        after: int) -> None:
    newer = list(supervision.events.get(uuid.UUID(petition_id), gt=after))
    projection.apply_batch([(after + n, event) for n, event in enumerate(newer, 1)])


def _opened_and_projected(supervision: SupervisionApplication) -> tuple[str, CaseViewProjection]:
    """A case just opened, and a projection that wrote (and remembers) its first view."""
    registered = samples.registered_event(1)
    supervision.open_case(registered, samples.particulars(registered))
    projection = CaseViewProjection(supervision)
    _project_new_events(projection, supervision, registered.subject, after=0)
    return registered.subject, projection


def test_a_new_case_and_its_next_events_are_projected_without_reading_a_view_back(supervision, monkeypatch):
    registered = samples.registered_event(1)
    petition_id = registered.subject
    projection = CaseViewProjection(supervision)
    reads: list[list[str]] = []
    stored = projection._stored
    monkeypatch.setattr(projection, "_stored", lambda ids: (reads.append(ids), stored(ids))[1])

    supervision.open_case(registered, samples.particulars(registered))
    _project_new_events(projection, supervision, petition_id, after=0)
    supervision.record_routing(samples.routed_event(1, petition_id))
    _project_new_events(projection, supervision, petition_id, after=1)
    supervision.record_notice(notice_event(1, petition_id))
    _project_new_events(projection, supervision, petition_id, after=2)

    assert reads == []
    remembered = snapshot(petition_id)
    assert remembered["version"] == 3
    CaseView.drop_collection()
    CaseViewProjection(supervision).apply_batch(list(enumerate(supervision.events.get(uuid.UUID(petition_id)), 1)))
    assert snapshot(petition_id) == remembered  # what it wrote from memory is what the whole history renders


def test_a_view_dropped_behind_the_projectors_back_comes_back_whole_with_the_cases_next_event(supervision):
    petition_id, projection = _opened_and_projected(supervision)

    CaseView.drop_collection()  # the projector still remembers version 1
    supervision.record_routing(samples.routed_event(1, petition_id))
    _project_new_events(projection, supervision, petition_id, after=1)

    view = CaseView.objects(petition_id=petition_id).first()
    assert view is not None, "the write onto the remembered view found no view, so the batch was projected again"
    assert view.version == 2
    assert [t.step for t in view.timeline] == ["registered", "route"]


def test_a_view_another_writer_moved_on_is_not_overwritten_from_memory(supervision):
    petition_id, projection = _opened_and_projected(supervision)
    CaseView._get_collection().update_one({"_id": petition_id}, {"$set": {"version": 9, "status": "other"}})

    supervision.record_routing(samples.routed_event(1, petition_id))
    _project_new_events(projection, supervision, petition_id, after=1)

    stored = CaseView._get_collection().find_one({"_id": petition_id})
    assert (stored["version"], stored["status"]) == (9, "other")
    assert petition_id not in projection._recent  # a broken guard: nothing of that batch is remembered


def test_a_replayed_opening_finds_its_view_there_and_leaves_it_as_it_is(supervision):
    petition_id = drive_a_case(supervision)
    CaseViewProjection(supervision).apply_batch(list(enumerate(supervision.events.get(uuid.UUID(petition_id)), 1)))
    before = snapshot(petition_id)

    fresh = CaseViewProjection(supervision)  # a restarted projector: it remembers nothing
    opening = list(supervision.events.get(uuid.UUID(petition_id)))[:1]
    fresh.apply_batch([(1, opening[0])])

    assert snapshot(petition_id) == before
    assert petition_id not in fresh._recent


def test_a_case_is_found_by_its_query_code_as_soon_as_its_view_shows(supervision, monkeypatch):
    registered = samples.registered_event(1)
    supervision.open_case(registered, samples.particulars(registered))
    projection = CaseViewProjection(supervision)
    found_at_write: list[str | None] = []
    write = projection._bulk_write
    monkeypatch.setattr(projection, "_bulk_write", lambda writes: (
        found_at_write.append(case_id_by_query_code(samples.particulars(registered)["query_code"])), write(writes))[1])

    _project_new_events(projection, supervision, registered.subject, after=0)
    _project_new_events(projection, supervision, registered.subject, after=0)  # replayed: the code once, as it was

    assert found_at_write == [registered.subject]  # the code was there before the view was written
    assert case_view_by_query_code(samples.particulars(registered)["query_code"]).version == 1
    assert CaseCode.objects.count() == 1
    assert case_view_by_query_code("0000-0000-0000-0000") is None
    assert "query_code_1" not in CaseView._get_collection().index_information()


def test_a_read_model_an_earlier_version_wrote_gets_its_codes_and_loses_the_index_on_every_write(supervision):
    petition_id, projection = _opened_and_projected(supervision)
    code = CaseView.objects(petition_id=petition_id).first().query_code
    CaseCode.drop_collection()  # as an earlier version left it: no codes, a unique index on the views' codes
    CaseView._get_collection().create_index("query_code", unique=True)

    projection.prepare()
    projection.prepare()  # a second start (or a second projector) changes nothing

    assert case_id_by_query_code(code) == petition_id
    assert "query_code_1" not in CaseView._get_collection().index_information()


def test_a_rebuild_writes_the_codes_afresh(settings_for, supervision):
    settings = settings_for(SupervisionSettings, store="sqlite")
    petition_id = drive_a_case(supervision)
    CaseCode(query_code="GONE-GONE-GONE-GONE", petition_id=str(uuid.uuid4())).save()  # a stale entry

    rebuild(settings, "supervision", supervision, CaseViewProjection(supervision))

    assert [c.petition_id for c in CaseCode.objects] == [petition_id]
