"""Which channels a notice goes on follows the petitioner's contact details (issue 17): every notice is published
on the status page (`inbox`, not a receipt), and reaches the petitioner by e-mail if they gave one and by SMS if
their phone is a mainland mobile; a petitioner reached only by a landline (issue 16) and without e-mail gets it by
post, and nothing says it was delivered."""

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
    (Recipient("王秀兰", "wangxl@example.cn", "13800138000"), ["inbox", "email", "sms"]),
    (Recipient("王秀兰", None, "13800138000"), ["inbox", "sms"]),
    (Recipient("王秀兰", None, "+86 138 0013 8000"), ["inbox", "sms"]),
    (Recipient("王秀兰", "wangxl@example.cn", None), ["inbox", "email"]),
    (Recipient("王秀兰", "wangxl@example.cn", "0571-87001234"), ["inbox", "email"]),  # a landline: no SMS
    (Recipient("王秀兰", None, "0571-87001234"), ["inbox", POST]),  # a landline only and no e-mail: by post
    (Recipient("王秀兰", None, None), ["inbox", POST]),
    (None, ["inbox"]),  # an anonymous report: read with the query code on the status page, nothing posted
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
    assert notice.channels == ["inbox", POST]
    assert notice.recipient == {"name": "王秀兰", "email": None, "phone": None}
