"""The publisher's bookkeeping of broker confirms: tags acknowledged singly, several at a time, or refused."""

from __future__ import annotations

from shared.runtime.messaging.publisher import Confirms


def sent(count: int) -> Confirms:
    confirms = Confirms()
    for _ in range(count):
        confirms.sent()
    return confirms


def test_tags_count_from_one_and_each_single_ack_settles_only_its_own_tag() -> None:
    confirms = sent(3)

    confirms.on_ack(2, False)

    assert confirms.outstanding == {1, 3}


def test_a_multiple_ack_settles_every_tag_up_to_it_in_any_order() -> None:
    confirms = sent(4)
    confirms.on_ack(4, False)

    confirms.on_ack(2, True)

    assert confirms.outstanding == {3}


def test_a_nack_settles_its_tags_as_refused() -> None:
    confirms = sent(3)

    confirms.on_nack(2, True)

    assert confirms.outstanding == {3}
    assert sorted(confirms.nacked) == [1, 2]


def test_tags_keep_counting_across_batches_on_one_channel() -> None:
    confirms = sent(2)
    confirms.on_ack(2, True)

    confirms.sent()

    assert confirms.outstanding == {3}
