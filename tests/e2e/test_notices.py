"""Issue 17's "done when", through the whole platform as real processes: a letter from a petitioner with a landline
only goes by post — the clerk prints each notice (PDF), records its posting and, later, its receipt — and the
review window counts from that receipt (presumed seven days after posting until the receipt is recorded), with
its basis shown beside the deadline; the organs the case is put before are told by e-mail; and the notices the
steps send are on the status page, each once."""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from shared.language.chinatime import chinese_day, local_date
from tests.e2e.officers import act, signed_in
from tests.support import samples
from tests.support.waiting import wait_for

TOWN_MAILBOX = "330106001.zf@example.gov.cn"  # shared/language/data/organs.yaml


def status(gateway, code: str) -> dict:
    answer = gateway.get(f"/api/v1/status/{code}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def notices(gateway, pid: str) -> dict[str, dict]:
    answer = gateway.get(f"/api/v1/petitions/{pid}/notices", headers=signed_in(gateway, "clerk"))
    assert answer.status_code == 200, answer.text
    return {n["kind"]: n for n in answer.json()["notices"]}


def channel(notice: dict, name: str) -> dict:
    return {d["channel"]: d for d in notice["deliveries"]}[name]


def review_window(gateway, code: str) -> dict:
    return {d["kind"]: d for d in status(gateway, code)["deadlines"]}["review_request"]


def test_a_letter_goes_by_post_and_the_review_window_counts_from_its_recorded_receipt(platform, gateway, smtp_sink,
                                                                                      tmp_path: Path):
    arrived = local_date(datetime.now(UTC)) - timedelta(days=3)
    letter = samples.petition(channel="letter", received_at=arrived.isoformat(), place_code="330106001",
                              topic="urban_management")
    letter["petitioner"].update(phone=None, landline="0571-87654321", email=None)
    clerk = signed_in(gateway, "clerk")
    receipt = gateway.post("/api/v1/petitions", json=letter, headers=clerk)
    assert receipt.status_code == 201, receipt.text
    pid, code = receipt.json()["id"], receipt.json()["query_code"]

    # The receipt awaits the post; the organ the rules chose is told by e-mail, without the petitioner's details.
    listed = wait_for(lambda: (n := notices(gateway, pid)).get("registration_receipt") and
                      n.get("organ_case_notice") and n, what="the receipt and the organ's notice recorded")
    assert [d["channel"] for d in listed["registration_receipt"]["deliveries"]] == ["inbox", "post"]
    assert channel(listed["registration_receipt"], "post")["outcome"] == "pending"
    awaiting = gateway.get("/api/v1/notices", params={"state": "awaiting_post", "limit": 100}, headers=clerk).json()
    assert listed["registration_receipt"]["notice_id"] in [n["notice_id"] for n in awaiting["notices"]]
    def to_town() -> list:
        with smtp_sink.lock:
            return [m for m, to in zip(smtp_sink.messages, smtp_sink.recipients, strict=True)
                    if TOWN_MAILBOX in to and pid in m.get_payload(decode=True).decode("utf-8")]

    told = wait_for(to_town, what="the town's e-mail")[0].get_payload(decode=True).decode("utf-8")
    assert pid in told and code not in told and letter["petitioner"]["name"] not in told

    # The clerk prints the receipt and posts it.
    printed = gateway.get(listed["registration_receipt"]["pdf"], headers=clerk)
    assert printed.status_code == 200 and printed.headers["content-type"] == "application/pdf"
    (tmp_path / "receipt.pdf").write_bytes(printed.content)
    text = subprocess.run(["pdftotext", str(tmp_path / "receipt.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert code in text
    today = local_date(datetime.now(UTC))
    posted = gateway.post(f"/api/v1/notices/{listed['registration_receipt']['notice_id']}/posting", headers=clerk,
                          json={"posted_on": today.isoformat(), "registered_mail_number": "XA 1234 5678 9CN"})
    assert posted.status_code == 200, posted.text
    assert channel(posted.json(), "post")["outcome"] == "posted"

    # The organ accepts and replies, giving the basis of its opinion.
    act(gateway, "chengguan", pid, "acceptance", {"procedure": "ordinary"})
    act(gateway, "chengguan", pid, "reply", {"outcome": "support", "opinion": "已责成物业于月底前疏通污水管道。",
                                             "opinion_basis": "《城镇排水与污水处理条例》第三十二条"})
    opinion = wait_for(lambda: notices(gateway, pid).get("opinion"), what="the opinion recorded")
    provisional = review_window(gateway, code)
    assert "暂计" in provisional["basis"]

    # The opinion by post: posted today (not before it was issued), received (presumed) seven days later ...
    posted_on = today
    answer = gateway.post(f"/api/v1/notices/{opinion['notice_id']}/posting", headers=clerk,
                          json={"posted_on": posted_on.isoformat(), "registered_mail_number": "XA987654321CN"})
    assert answer.status_code == 200, answer.text
    presumed = wait_for(lambda: "推定" in (w := review_window(gateway, code))["basis"] and w,
                        what="the window counted from the presumed receipt")
    assert chinese_day(posted_on + timedelta(days=7)) in presumed["basis"]

    # ... until the clerk records the day on the return receipt: the window counts from it, its basis says so.
    received_on = today
    recorded = gateway.post(f"/api/v1/notices/{opinion['notice_id']}/receipt", headers=clerk,
                            json={"received_on": received_on.isoformat()})
    assert recorded.status_code == 200, recorded.text
    counted = wait_for(lambda: "推定" not in (w := review_window(gateway, code))["basis"] and w,
                       what="the window counted from the recorded receipt")
    assert chinese_day(received_on) in counted["basis"] and "第三十五条" in counted["basis"]
    assert date.fromisoformat(presumed["due"]) > date.fromisoformat(counted["due"])  # the recorded day replaced it

    # The 处理意见书 on the status page: the opinion, its basis, the review right naming the county government.
    shown = status(gateway, code)
    [opinion_text] = [n["body"] for n in shown["notices"] if n["kind"] == "opinion"]
    assert "《城镇排水与污水处理条例》第三十二条" in opinion_text and "向示例县人民政府请求复查" in opinion_text
    kinds = [n["kind"] for n in shown["notices"]]
    assert len(kinds) == len(set(kinds))  # each once

    # Refusals in Chinese: a receipt before its posting, a posting again with another number.
    early = gateway.post(f"/api/v1/notices/{listed['registration_receipt']['notice_id']}/receipt", headers=clerk,
                         json={"received_on": (today - timedelta(days=1)).isoformat()})
    assert early.status_code == 422 and "邮寄" in early.json()["message"]
    again = gateway.post(f"/api/v1/notices/{opinion['notice_id']}/posting", headers=clerk,
                         json={"posted_on": posted_on.isoformat(), "registered_mail_number": "XA000000000CN"})
    assert again.status_code == 409 and "已登记邮寄" in again.json()["message"]


def test_a_petitioner_with_a_mobile_gets_each_notice_by_sms_once_and_the_window_counts_from_its_delivery(
        platform, gateway, sms_provider):
    petition = samples.petition(place_code="330106001", topic="urban_management")
    petition["petitioner"]["email"] = None  # the mobile only: the window can count from the SMS alone
    answer = gateway.post("/api/v1/petitions", json=petition)
    assert answer.status_code == 201, answer.text
    pid, code, mobile = answer.json()["id"], answer.json()["query_code"], petition["petitioner"]["phone"]
    wait_for(lambda: status(gateway, code)["organ"], what="routing")

    act(gateway, "chengguan", pid, "acceptance", {"procedure": "ordinary"})
    act(gateway, "chengguan", pid, "reply", {"outcome": "explain", "opinion": "已作解释说明。"})

    # The receipt, the transfer, the acceptance, the opinion and the invitation to rate: each once by SMS (the
    # provider saw one message per idempotency key), the long ones shortened to their title and the status page.
    texts = wait_for(lambda: len(m := sms_provider.received(to=mobile)) >= 5 and [x["text"] for x in m],
                     what="five SMS to the petitioner")
    assert any("信访事项处理意见书" in t for t in texts) and all(t.startswith("【") for t in texts)
    assert len({m["idempotency_key"] for m in sms_provider.received(to=mobile)}) == len(texts)
    listed = wait_for(lambda: (n := notices(gateway, pid)).get("opinion") and
                      channel(n["opinion"], "sms")["outcome"] == "delivered" and n, what="the SMS recorded")
    assert channel(listed["opinion"], "sms")["detail"].startswith("已发送")
    assert mobile not in channel(listed["opinion"], "sms")["detail"]  # masked

    counted = wait_for(lambda: "短信送达" in (w := review_window(gateway, code))["basis"] and w,
                       what="the review window counted from the SMS")
    assert "第三十五条" in counted["basis"]
