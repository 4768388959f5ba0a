"""A case driven through its whole lifecycle, bundled with its proofs, verifies offline with only the logs' and
witnesses' published keys; a changed, removed or foreign event in the bundle is named."""

from __future__ import annotations

import base64
import copy
import io
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from services.audit.bundle import BundleProvesNothing, case_bundle, personal_fields
from services.audit.cli import SERVICES, ledger_of
from services.audit.ledger import origin
from services.audit.replay import case_aggregates
from services.intake.application import IntakeApplication
from services.intake.settings import IntakeSettings
from services.notification.application import case_aggregates as notification_aggregates
from services.notification.bootstrap import build_application as build_notification
from services.notification.settings import NotificationSettings
from services.routing.bootstrap import build_application as build_routing
from services.routing.settings import RoutingSettings
from services.supervision.bootstrap import build_application as build_supervision
from services.supervision.settings import SupervisionSettings
from shared.audit import heads
from shared.audit.checkpoint import generate_key, load_private_key
from shared.audit.entries import Entry
from shared.audit.merkle import leaf_hash
from shared.audit.verifier import main as verifier_main
from shared.audit.verifier import verify_bundle, verify_export
from shared.runtime.eventstore import postgres_conninfo
from shared.runtime.settings import PlatformSettings
from tests.support.clock import MovableClock
from tests.support.flow import register_and_route

TOWN = {"role": "organ_officer", "user": "officer", "organ": "330106001-ZF"}
COUNTY = {"role": "organ_officer", "user": "county", "organ": "330106-ZF"}
CITY = {"role": "organ_officer", "user": "city", "organ": "3301-ZF"}
CLERK = {"role": "clerk", "user": "clerk", "organ": "330106-XFJ"}
PETITIONER = {"role": "petitioner"}




@dataclass
class Operator:
    """What the platform's operator holds beside the bundle: the logs' signing keys, and the supervision log's
    full export (what an auditor can ask for to check a bundle's signed case heads)."""

    signing_keys: dict[str, Any]
    supervision_export: list[str]


@pytest.fixture
def bundled(settings_for, closing, tmp_path):
    settings = {cls: settings_for(cls, store="postgres") for cls in
                (IntakeSettings, RoutingSettings, SupervisionSettings, NotificationSettings, PlatformSettings)}
    intake = closing(IntakeApplication(settings[IntakeSettings]))
    routing = closing(build_routing(settings[RoutingSettings]))
    supervision = closing(build_supervision(settings[SupervisionSettings],
                                            clock=MovableClock(tick=timedelta(minutes=1))))
    notification = closing(build_notification(settings[NotificationSettings]))
    petition_id, _registered, _routed = register_and_route(intake, routing, supervision, notification)
    pid = str(petition_id)
    for actor, action, payload in [
        (TOWN, "accept", {"procedure": "ordinary"}),
        (TOWN, "reply", {"outcome": "not_support", "opinion": "不予支持"}),
        (PETITIONER, "request_review", {"reasons": "不服"}),
        (CLERK, "open_review", {"organ_code": "330106-ZF"}),
        (COUNTY, "decide_review", {"outcome": "uphold", "opinion": "维持"}),
        (PETITIONER, "request_review", {"reasons": "仍不服"}),
        (CLERK, "open_re_review", {"organ_code": "3301-ZF"}),
        (CITY, "decide_re_review", {"outcome": "uphold", "opinion": "终结"}),
    ]:
        supervision.perform(pid, action, payload, actor)
    assert supervision.get_case(pid)["status"] == "final"

    keys, signing = {}, {}
    platform = settings[PlatformSettings]
    aggregates = case_aggregates(petition_id, notification_aggregates(petition_id))
    with psycopg.connect(postgres_conninfo(platform), autocommit=True) as conn:
        ledgers = {service: ledger_of(platform, service, conn) for service in SERVICES}
        with pytest.raises(BundleProvesNothing) as nothing:  # no checkpoint yet: a bundle would prove nothing
            case_bundle(ledgers, "330106", petition_id, aggregates, {})
        assert nothing.value.recorded == 13
        for service in SERVICES:
            key_file = tmp_path / f"{service}.key"
            log_origin = origin("330106", service)
            keys[log_origin] = generate_key(key_file)
            signing[service] = load_private_key(key_file)
            ledger_of(platform, service, conn).checkpoint(log_origin, key_file)
        bundle = case_bundle(ledgers, "330106", petition_id, aggregates, signing)
        out = io.StringIO()
        ledger_of(platform, "supervision", conn).export(origin("330106", "supervision"), out)
    return bundle, keys, Operator(signing, out.getvalue().splitlines())


def test_a_whole_lifecycle_bundle_verifies_offline_with_the_published_keys(bundled, tmp_path):
    bundle, keys, _operator = bundled
    services = {log["service"]: len(log["entries"]) for log in bundle["logs"]}

    assert services == {"intake": 1, "routing": 1, "supervision": 10, "notification": 1}
    verdict = verify_bundle(bundle, keys)
    assert verdict.ok and verdict.checked == 13, str(verdict)
    path = tmp_path / "case.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    arguments = [str(path), "--bundle", *(f"--key={o}={k.hex()}" for o, k in keys.items())]
    assert verifier_main(arguments) == 0


def test_a_bundle_names_the_personal_data_its_stored_events_carry(bundled):
    bundle, _keys, _operator = bundled

    shown = personal_fields(bundle)

    assert {"intake.petitioner", "intake.query_code", "notification.recipient", "notification.body",
            "supervision.query_code"} <= set(shown)
    assert all(field.split(".")[0] in SERVICES for field in shown)


def test_a_changed_event_in_the_bundle_is_named(bundled):
    bundle, keys, _operator = bundled
    changed = copy.deepcopy(bundle)
    supervision = next(log for log in changed["logs"] if log["service"] == "supervision")
    item = supervision["entries"][4]
    state = bytearray(base64.b64decode(item["state"]))
    state[3] ^= 1
    item["state"] = base64.b64encode(bytes(state)).decode()

    verdict = verify_bundle(changed, keys)

    assert not verdict.ok and "supervision" in str(verdict) and "bytes were changed" in str(verdict)
    assert f"leaf {item['leaf_index']}" in str(verdict)


def test_an_event_left_out_of_the_bundle_breaks_the_chain(bundled):
    bundle, keys, _operator = bundled
    shortened = copy.deepcopy(bundle)
    supervision = next(log for log in shortened["logs"] if log["service"] == "supervision")
    del supervision["entries"][5]  # e.g. the review decision, quietly dropped

    verdict = verify_bundle(shortened, keys)

    assert not verdict.ok and "breaks the aggregate's chain" in str(verdict)


def test_a_bundle_names_the_keys_it_was_signed_with(bundled):
    bundle, keys, _operator = bundled

    assert {log["origin"]: bytes.fromhex(log["public_key"]) for log in bundle["logs"]} == keys


def test_a_bundle_needs_every_logs_own_key(bundled):
    bundle, keys, _operator = bundled
    wrong = {**keys, origin("330106", "supervision"): keys[origin("330106", "intake")]}

    assert "supervision: the bundle says it was signed with the key" in str(verify_bundle(bundle, wrong))
    unnamed = copy.deepcopy(bundle)
    for log in unnamed["logs"]:
        log.pop("public_key", None)
    assert "supervision: checkpoint" in str(verify_bundle(unnamed, wrong))
    assert "no public key given" in str(verify_bundle(bundle, {}))


def test_the_last_event_left_out_of_the_bundle_is_named_by_the_signed_case_heads(bundled):
    bundle, keys, _operator = bundled
    shortened = copy.deepcopy(bundle)
    supervision = next(log for log in shortened["logs"] if log["service"] == "supervision")
    del supervision["entries"][-1]  # the final re-review decision: the chain alone cannot show it is missing

    verdict = verify_bundle(shortened, keys)

    assert not verdict.ok
    assert "up to version 9" in str(verdict) and "version 10 is its last (an event was left out)" in str(verdict)


def test_case_heads_changed_or_taken_from_another_case_are_refused(bundled):
    bundle, keys, _operator = bundled
    changed, missing = copy.deepcopy(bundle), copy.deepcopy(bundle)
    supervision = next(log for log in changed["logs"] if log["service"] == "supervision")
    supervision["heads"] = supervision["heads"].replace(" 10 ", " 9 ", 1)  # as if version 9 were the last
    next(log for log in missing["logs"] if log["service"] == "routing")["heads"] = None

    assert "signature on the case heads does not verify" in str(verify_bundle(changed, keys))
    assert "routing: case heads: not a signed note" in str(verify_bundle(missing, keys))
    intake = next(log for log in bundle["logs"] if log["service"] == "intake")
    other = copy.deepcopy(bundle)
    next(log for log in other["logs"] if log["service"] == "routing")["heads"] = intake["heads"]
    assert "routing: case heads: no signature by the key of" in str(verify_bundle(other, keys))


def test_case_heads_signed_to_hide_the_last_event_are_refuted_by_the_full_export(bundled):
    # A dishonest operator drops the last event and signs case heads that match: the bundle alone verifies, but the
    # signed heads are evidence that the log's full export refutes.
    bundle, keys, operator = bundled
    shortened = copy.deepcopy(bundle)
    supervision = next(log for log in shortened["logs"] if log["service"] == "supervision")
    dropped = supervision["entries"].pop()
    honest = heads.verify(supervision["heads"], supervision["origin"], keys[supervision["origin"]])
    previous = base64.b64decode(supervision["entries"][-1]["entry"])
    case = UUID(shortened["petition_id"])
    lie = heads.CaseHeads(honest.origin, honest.size, honest.petition_id,
                          {case: (Entry.decode(previous).originator_version, leaf_hash(previous))})
    supervision["heads"] = heads.sign(lie, operator.signing_keys["supervision"])

    assert verify_bundle(shortened, keys).ok
    key = keys[supervision["origin"]]
    assert verify_export(operator.supervision_export, key, supervision["origin"]).ok
    verdict = verify_export(operator.supervision_export, key, supervision["origin"], case_heads=[supervision["heads"]])
    assert not verdict.ok and "signed by the log's key are false" in str(verdict)
    dropped_version = Entry.decode(base64.b64decode(dropped["entry"])).originator_version
    assert f"the log holds version {dropped_version}" in str(verdict)
