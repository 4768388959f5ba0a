"""A case driven through its whole lifecycle, bundled with its proofs, verifies offline with only the logs' and
witnesses' published keys; a changed, removed or foreign event in the bundle is named."""

from __future__ import annotations

import base64
import copy
import json
from datetime import timedelta

import psycopg
import pytest

from services.intake.application import IntakeApplication
from services.intake.settings import IntakeSettings
from services.notification.bootstrap import build_application as build_notification
from services.notification.settings import NotificationSettings
from services.routing.bootstrap import build_application as build_routing
from services.routing.settings import RoutingSettings
from services.supervision.bootstrap import build_application as build_supervision
from services.supervision.settings import SupervisionSettings
from shared.audit.bundle import case_bundle
from shared.audit.checkpoint import generate_key
from shared.audit.cli import SERVICES, ledger_of
from shared.audit.ledger import origin
from shared.audit.verifier import main as verifier_main, verify_bundle
from shared.eventstore import postgres_conninfo
from shared.settings import PlatformSettings
from tests.support.flow import register_and_route
from tests.support.clock import MovableClock

TOWN = {"role": "organ_officer", "user": "officer", "organ": "330106001-ZF"}
COUNTY = {"role": "organ_officer", "user": "county", "organ": "330106-ZF"}
CITY = {"role": "organ_officer", "user": "city", "organ": "3301-ZF"}
CLERK = {"role": "clerk", "user": "clerk", "organ": "330106-XFJ"}
PETITIONER = {"role": "petitioner"}




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

    keys = {}
    platform = settings[PlatformSettings]
    with psycopg.connect(postgres_conninfo(platform), autocommit=True) as conn:
        for service in SERVICES:
            key_file = tmp_path / f"{service}.key"
            log_origin = origin("330106", service)
            keys[log_origin] = generate_key(key_file)
            ledger_of(platform, service, conn).checkpoint(log_origin, key_file)
        bundle = case_bundle({service: ledger_of(platform, service, conn) for service in SERVICES}, "330106",
                             petition_id)
    return bundle, keys


def test_a_whole_lifecycle_bundle_verifies_offline_with_the_published_keys(bundled, tmp_path):
    bundle, keys = bundled
    services = {log["service"]: len(log["entries"]) for log in bundle["logs"]}

    assert services == {"intake": 1, "routing": 1, "supervision": 10, "notification": 1}
    verdict = verify_bundle(bundle, keys)
    assert verdict.ok and verdict.checked == 13, str(verdict)
    path = tmp_path / "case.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    arguments = [str(path), "--bundle", *(f"--key={o}={k.hex()}" for o, k in keys.items())]
    assert verifier_main(arguments) == 0


def test_a_changed_event_in_the_bundle_is_named(bundled):
    bundle, keys = bundled
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
    bundle, keys = bundled
    shortened = copy.deepcopy(bundle)
    supervision = next(log for log in shortened["logs"] if log["service"] == "supervision")
    del supervision["entries"][5]  # e.g. the review decision, quietly dropped

    verdict = verify_bundle(shortened, keys)

    assert not verdict.ok and "breaks the aggregate's chain" in str(verdict)


def test_a_bundle_needs_every_logs_own_key(bundled):
    bundle, keys = bundled
    wrong = {**keys, origin("330106", "supervision"): keys[origin("330106", "intake")]}

    assert "supervision: checkpoint" in str(verify_bundle(bundle, wrong))
    assert "no public key given" in str(verify_bundle(bundle, {}))
