"""A petitioner reached only by a landline has no account on the platform's apps (issue 16): the receipt is not
delivered to an inbox they cannot open. It goes by e-mail if they gave one; otherwise the notice records that it
awaits the post, and nothing says it was delivered."""

from __future__ import annotations

from typing import Any

import pytest

from services.notification.application import POST, REGISTRATION_RECEIPT, channels_for
from services.notification.bootstrap import build_application
from services.notification.domainmodel import Notice
from services.notification.settings import NotificationSettings
from services.notification.translate import Recipient, RegisteredPetition
from tests.support import samples


@pytest.mark.parametrize(("recipient", "channels"), [
    (Recipient("王秀兰", "wangxl@example.cn", "13800138000"), ["inbox", "email"]),
    (Recipient("王秀兰", None, "13800138000"), ["inbox"]),
    (Recipient("王秀兰", "wangxl@example.cn", None), ["email"]),  # a landline only: no inbox to deliver to
    (Recipient("王秀兰", None, None), [POST]),  # a landline only and no e-mail: by post
    (None, ["inbox"]),  # an anonymous report: read with the query code
])
def test_a_notice_goes_only_where_the_petitioner_can_receive_it(recipient, channels) -> None:
    assert channels_for(recipient) == channels


@pytest.fixture
def notification(tmp_path) -> Any:
    app = build_application(NotificationSettings(XINFANG_ENV="test", EVENT_STORE="sqlite", DATA_DIR=str(tmp_path)))
    yield app
    app.close()


def test_the_receipt_of_a_landline_only_petitioner_awaits_the_post(notification: Any) -> None:
    event = samples.registered_event(1, channel="letter", petitioner={"name": "王秀兰", "phone": None, "email": None})
    petition = RegisteredPetition.of(event, samples.particulars(event, "notice"))

    notification.request_registration_receipt(event, petition)

    notice: Notice = notification.repository.get(Notice.create_id(petition.petition_id, REGISTRATION_RECEIPT))
    assert notice.channels == [POST]
    assert notice.recipient == {"name": "王秀兰", "email": None, "phone": None}
