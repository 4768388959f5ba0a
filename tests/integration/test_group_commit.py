"""intake's group commit on a real PostgreSQL: concurrent registrations share transactions, and every one of
them is durable, distinct and readable when its caller returns."""

from __future__ import annotations

import threading

from prometheus_client import REGISTRY

from services.intake.application import IntakeApplication
from services.intake.settings import IntakeSettings
from shared.language.contracts.registration import RegisterPetition
from tests.support import samples


def batches_so_far() -> float:
    return REGISTRY.get_sample_value("xinfang_group_commit_batch_size_count", {"store": "intake"}) or 0.0


def test_concurrent_registrations_are_batched_and_all_durable(settings_for, closing):
    app = closing(IntakeApplication(settings_for(IntakeSettings)))
    callers = 40
    barrier = threading.Barrier(callers)
    receipts: list[dict] = []
    errors: list[BaseException] = []
    batches_before = batches_so_far()

    def register() -> None:
        command = RegisterPetition.model_validate(samples.petition())
        barrier.wait()
        try:
            receipts.append(app.register_petition(command))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=register) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len({r["id"] for r in receipts}) == callers
    assert len({r["query_code"] for r in receipts}) == callers
    transactions = batches_so_far() - batches_before
    assert transactions < callers, "concurrent registrations should share transactions"

    # Durable: a separate application (another connection pool) reads every one back.
    reader = closing(IntakeApplication(settings_for(IntakeSettings)))
    for receipt in receipts:
        assert reader.get_petition(receipt["id"])["query_code"] == receipt["query_code"]
        assert reader.find_by_query_code(receipt["query_code"].lower())["id"] == receipt["id"]
