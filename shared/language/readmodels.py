"""The read side's schema: MongoDB documents (mongoengine) that services project and the gateway reads.

Each collection is written by exactly one service: `case_views` and `case_codes` by supervision's projector (a
projection: it can be dropped and rebuilt from supervision's store at any time), `case_rows` (the work lists) and
`case_counts` (their counts) by its work-list projection, `assessment_cases` (the assessment rates' facts) by its
assessment projection, rebuildable the same way; `inbox_messages` by
notification's dispatcher (a delivery channel, not a projection: the Delivery events in notification's store
record what reached it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mongoengine as me
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

READ_MODELS_ALIAS = "default"
DUPLICATE_KEY = 11000


def insert_new(collection: Collection, documents: Sequence[dict[str, Any]]) -> None:
    """Insert `documents` in one request; one whose `_id` is there already (written before: a replay) is left as
    it was, and the others are inserted all the same."""
    if not documents:
        return
    try:
        collection.insert_many(documents, ordered=False)
    except BulkWriteError as error:
        if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
            raise


def connect_read_models(uri: str) -> None:
    """Connect mongoengine (idempotent per process). The database is the one named in the URI."""
    me.disconnect(alias=READ_MODELS_ALIAS)
    me.connect(host=uri, alias=READ_MODELS_ALIAS, tz_aware=True, uuidRepresentation="standard",
               serverSelectionTimeoutMS=5000)


class Organ(me.EmbeddedDocument):
    code = me.StringField(required=True)
    name = me.StringField(required=True)


class Deadline(me.EmbeddedDocument):
    kind = me.StringField(required=True)  # e.g. "acceptance"
    label = me.StringField(required=True)  # Chinese, for people
    due = me.StringField(required=True)  # YYYY-MM-DD (Asia/Shanghai)
    basis = me.StringField(required=True)  # the statute it comes from
    # Counted before the State Council's holiday notice for its year: holidays by rule, no adjusted working days
    provisional = me.BooleanField(default=False)
    status = me.StringField(default="open")  # open | met | late | stopped (open after its day: overdue)
    start = me.StringField(null=True)  # the trigger date; counting starts the day after
    late_days = me.IntField()  # closed late: by how many calendar days (absent otherwise)
    breached_on = me.StringField()  # YYYY-MM-DD: overdue from that day, as the watch recorded (absent otherwise)


class TimelineEntry(me.EmbeddedDocument):
    at = me.DateTimeField(required=True)
    step = me.StringField(required=True)  # machine name, e.g. "registered"
    text = me.StringField(required=True)  # Chinese, for the petitioner


class CaseFileEntry(me.EmbeddedDocument):
    """One step of the case file (案卷) as it was recorded: who took it, when, under which basis, and what it said
    (its details: the opinion, reasons, explanation, approver, hearing dates ...). Free text that may name people:
    the gateway decides per role what of it an officer sees (services/gateway/views.py)."""

    at = me.DateTimeField(required=True)
    step = me.StringField(required=True)  # the action, e.g. "extend"
    text = me.StringField(required=True)  # the step's Chinese name, e.g. 延长办理期限
    status = me.StringField(required=True)  # the case's status after it
    actor = me.DictField()  # role, user, organ (an officer's account, never the petitioner's identity)
    basis = me.StringField(null=True)
    said = me.DictField()  # the step's details as recorded


class Opinion(me.EmbeddedDocument):
    """An opinion addressed to the petitioner: the 处理意见, 复查意见 or 复核意见, with its text."""

    level = me.StringField(required=True)  # reply | review | re_review
    label = me.StringField(required=True)  # 处理意见 | 复查意见 | 复核意见
    organ = me.EmbeddedDocumentField(Organ, null=True)  # the organ that issued it
    outcome = me.StringField(required=True)
    outcome_text = me.StringField(required=True)
    opinion = me.StringField(required=True)
    on = me.StringField(null=True)  # YYYY-MM-DD (Asia/Shanghai)
    at = me.DateTimeField(required=True)


class CaseView(me.Document):
    """One petition as supervision sees it: status, organ, deadlines and the public timeline."""

    petition_id = me.StringField(primary_key=True)
    query_code = me.StringField(required=True)  # looked up through `CaseCode`
    version = me.IntField(required=True)  # the Case aggregate version this view reflects
    status = me.StringField(required=True)
    status_text = me.StringField(required=True)
    title = me.StringField()
    category = me.StringField()
    channel = me.StringField()
    place_code = me.StringField()
    registered_at = me.DateTimeField()
    organ = me.EmbeddedDocumentField(Organ, null=True)
    routing_basis = me.StringField(null=True)
    rules_version = me.StringField(null=True)
    disposition = me.StringField(null=True)  # transfer | assign | political_legal | discipline | ...
    procedure = me.StringField(null=True)  # ordinary | simplified, once accepted
    flags = me.ListField(me.StringField())  # group | joint_signature | major_urgent | anonymous (supervisors' lists)
    repeat_of = me.StringField(null=True)  # the earlier petition this one repeats (同人+同事)
    involved_organs = me.ListField(me.StringField())  # every organ that handled or reviewed it (officer access)
    deadlines = me.EmbeddedDocumentListField(Deadline)  # every deadline the case has had, by kind
    next_deadline = me.EmbeddedDocumentField(Deadline, null=True)  # the earliest open one
    timeline = me.EmbeddedDocumentListField(TimelineEntry)
    # When the letter arrived or the visit or call took place (ISO: a date, or a date and time), if the counter said
    received_at = me.StringField(null=True)
    opinions = me.EmbeddedDocumentListField(Opinion)  # the opinions issued, in order (the petitioner reads them)
    case_file = me.EmbeddedDocumentListField(CaseFileEntry)  # every lifecycle step as recorded (officers)
    updated_at = me.DateTimeField()

    # No secondary index: each one costs every write of a view (SecantusDB: a replace ~2.2 ms of its CPU with an
    # index on query_code, ~1.1 without), and a view is written three times or more; the query code is looked up
    # in `case_codes`, written once per case.
    meta = {"collection": "case_views", "indexes": []}


class CaseCode(me.Document):
    """Which case a query code (查询码) belongs to: the petitioner's way in. Written before the case's first view,
    so a view that is there can always be found by its code."""

    query_code = me.StringField(primary_key=True)
    petition_id = me.StringField(required=True)

    meta = {"collection": "case_codes", "indexes": []}


def case_id_by_query_code(code: str) -> str | None:
    entry = CaseCode._get_collection().find_one({"_id": code}, {"petition_id": 1})
    return entry["petition_id"] if entry else None


def case_view_by_query_code(code: str) -> CaseView | None:
    petition_id = case_id_by_query_code(code)
    return CaseView.objects(petition_id=petition_id).first() if petition_id else None


# --- work lists (supervision's work-list projection, services/supervision/worklists.py; docs/api.md §"Work lists") ---
class RowDeadline(me.EmbeddedDocument):
    kind = me.StringField(required=True)
    label = me.StringField(required=True)
    due = me.StringField(required=True)  # YYYY-MM-DD (Asia/Shanghai)
    provisional = me.BooleanField(default=False)


class RowOrder(me.EmbeddedDocument):
    """A case's latest supervision order (督办单; services/supervision/case/supervising.py)."""

    order_level = me.StringField(required=True)  # urge | letter | interview | circular | listed
    trigger = me.StringField(required=True)
    holder = me.EmbeddedDocumentField(Organ, required=True)  # the organ it is addressed to
    issued_on = me.StringField(required=True)  # YYYY-MM-DD
    due = me.StringField(null=True)  # the day to answer by (None once closed)
    state = me.StringField(required=True)  # open | answered | closed
    answered_on = me.StringField(null=True)


class RowOwnership(me.EmbeddedDocument):
    """Leader ownership (领导包案) of a case, or only its proposal: the backlog ledger's line (积案台账)."""

    leader = me.StringField(null=True)  # None: proposed only
    leader_title = me.StringField(null=True)
    since = me.StringField(null=True)
    due = me.StringField(null=True)
    resolved_on = me.StringField(null=True)
    proposed = me.ListField(me.StringField())  # the triggers the platform proposed it for


class CaseRow(me.Document):
    """One case as a work list shows it: small (no timeline, no deadlines' history), filed under the lanes it is
    listed in (shared/language/contracts/worklists.py) and sortable by one string key per order, so that a page is
    one index range. No personal data: the petitioner's name is intake's, asked for the page's rows only."""

    petition_id = me.StringField(primary_key=True)
    version = me.IntField(required=True)  # the Case version this row reflects (rows are written when they change)
    query_code = me.StringField(required=True)  # shown to the roles that see query codes only
    title = me.StringField()
    category = me.StringField()
    channel = me.StringField()
    topic = me.StringField(null=True)
    place_code = me.StringField()
    town = me.StringField(null=True)  # the 9-digit town code the place lies in
    registered_at = me.DateTimeField()
    status = me.StringField(required=True)
    status_text = me.StringField(required=True)
    group = me.StringField(required=True)  # its StatusGroup
    organ = me.EmbeddedDocumentField(Organ, null=True)  # the organ it is routed to
    organs = me.ListField(me.StringField())  # whose work it is now: the lead and joining organs, the reviewing one
    reviewer = me.StringField(null=True)  # the organ reviewing (复查) or re-reviewing (复核) it now
    deadline = me.EmbeddedDocumentField(RowDeadline, null=True)  # the earliest open duty deadline
    flags = me.ListField(me.StringField())  # group | joint_signature | major_urgent | anonymous | repeat
    lanes = me.ListField(me.StringField())  # "<scope>|<group>": where it is listed
    by_due = me.StringField(required=True)  # "<due or 9999-12-31>|<id>": the order by next deadline
    by_registered = me.StringField(required=True)  # "<registered_at, UTC, fixed width>|<id>"
    order = me.EmbeddedDocumentField(RowOrder, null=True)  # filed under lane supervision|<state> while not closed
    ownership = me.EmbeddedDocumentField(RowOwnership, null=True)  # filed under backlog|owned, |resolved, |proposed
    updated_at = me.DateTimeField()

    # Every list is one lane and a range of one sort key: (lanes, by_due) and (lanes, by_registered) serve each of
    # them, its page a walk of the index (MongoDB: limit pushed down; docs/architecture.md §"Work lists").
    meta = {"collection": "case_rows", "indexes": [
        {"fields": ["lanes", "by_due"], "name": "lanes_by_due"},
        {"fields": ["lanes", "by_registered"], "name": "lanes_by_registered"},
    ]}


class CaseCount(me.Document):
    """How many of the county's open cases are under one key (shared/language/contracts/worklists.py count_keys):
    kept by the work-list projection beside the rows it writes, recounted from the rows when it starts."""

    key = me.StringField(primary_key=True)  # "status|<organ or ->|<status>" or "due|<YYYY-MM-DD>"
    count = me.IntField(required=True)

    meta = {"collection": "case_counts", "indexes": []}


class InboxMessage(me.Document):
    """A notice as the petitioner's status page lists it (read with the query code): every notice to the petitioner
    is published there (the `inbox` channel), which is not a receipt."""

    notice_id = me.StringField(primary_key=True)
    petition_id = me.StringField(required=True)
    query_code = me.StringField(required=True)
    kind = me.StringField(required=True)
    title = me.StringField(required=True)
    body = me.StringField(required=True)
    delivered_at = me.DateTimeField(required=True)

    meta = {"collection": "inbox_messages", "indexes": ["query_code"]}  # the status view's lookup


class NoticeRecord(me.Document):
    """A notice and how it went on each of its channels, for the bureau's clerks and supervisors: the case page's
    list of notices (print, record posting and receipt), the failed deliveries to re-send, the letters to post.
    Kept by notification's notice-record projection from its store (rebuildable); no address, no body (the text is
    the status page's: InboxMessage, by the same notice id)."""

    notice_id = me.StringField(primary_key=True)
    petition_id = me.StringField(required=True)
    kind = me.StringField(required=True)
    title = me.StringField(required=True)
    step = me.StringField()  # the action of the step that sent it; None: the registration receipt
    requested_at = me.DateTimeField(required=True)
    channels = me.ListField(me.StringField())  # as requested: inbox, email, sms, post
    # channel -> {"outcome": pending | delivered | refused | failed | posted | received, "at": ISO time of the
    # last outcome, "detail": masked, "attempts": int, and for post: "posted_on", "registered_mail_number",
    # "received_on", "recorded_by" (the clerk's account)}
    deliveries = me.DictField()
    failed = me.ListField(me.StringField())  # channels that did not reach: failed (re-send) or refused (post it)
    awaiting_post = me.BooleanField(default=False)  # a post notice not yet recorded as posted
    version = me.IntField(default=0)  # the notification store's position it reflects (a replay writes nothing)

    meta = {"collection": "notice_records", "indexes": ["petition_id", "failed", "awaiting_post"]}


# --- assessment (supervision's assessment projection, services/supervision/assessment.py; docs/assessment.md) ---
class AssessmentCase(me.Document):
    """One case's dated facts for the assessment rates (及时受理率, 按期答复率, 参评率, 满意率): counts only, no personal
    data and no free text. Each entry of `holders`, `acceptance`, `handling` and `ratings` carries `on`, the day in
    China it happened, so a period is counted as of its last day by leaving out what came later
    (services/gateway/assessment.py)."""

    petition_id = me.StringField(primary_key=True)
    version = me.IntField(required=True)  # the Case version these facts reflect (written when they change)
    registered_on = me.StringField(required=True)  # YYYY-MM-DD (Asia/Shanghai): the period a case belongs to
    registered_at = me.DateTimeField()
    town = me.StringField(null=True)  # the 9-digit town code the place lies in
    channel = me.StringField()
    category = me.StringField()
    repeat_of = me.StringField(null=True)  # a repeat (重复信访) is not a first-time item
    flags = me.ListField(me.StringField())
    organs = me.ListField(me.StringField())  # every organ that held it (the query's filter)
    holders = me.ListField(me.DictField())  # [{on, organ}]: who held it from which day (None: the bureau)
    acceptance = me.ListField(me.DictField())  # [{on, clock, due} | {on, decided, procedure?} | {on, stopped}]
    handling = me.ListField(me.DictField())  # up to the first opinion: [{on, clock, due} | {on, replied} | {on, stopped}]
    ratings = me.ListField(me.DictField())  # [{on, level, rating, taken_by, channel}] of the first opinion
    updated_at = me.DateTimeField()

    # A report reads one period's cases, the county's or an organ's (organs: multikey).
    meta = {"collection": "assessment_cases", "indexes": [
        {"fields": ["registered_on"], "name": "registered_on"},
        {"fields": ["organs", "registered_on"], "name": "organs_registered_on"},
    ]}


class ProjectionPosition(me.Document):
    """How far a projector has read its store; dropped with the read model, so a rebuild starts from zero."""

    name = me.StringField(primary_key=True)
    position = me.IntField(required=True, default=0)

    meta = {"collection": "projection_positions"}


class MongoPosition:
    """A projector's position stored beside its read model (a `PositionStore` for `shared.runtime.follower`)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def get(self) -> int:
        found = ProjectionPosition.objects(name=self._name).first()
        return found.position if found else 0

    def set(self, position: int) -> None:
        ProjectionPosition.objects(name=self._name).update_one(set__position=position, upsert=True)

    def reset(self) -> None:
        ProjectionPosition.objects(name=self._name).delete()

    def close(self) -> None:
        pass


class AssessmentDay(me.Document):
    """The assessment facts of the cases registered on one day (China), packed: `cases` maps each case's id to its
    entry — `version`, `town`, `organs` and `facts`, a compact JSON text of its AssessmentCase document's
    `repeat_of`, `holders`, `acceptance`, `handling` and `ratings`. Written beside those documents by the same
    projection, each entry guarded by its version (services/supervision/assessment.py); a report reads its period as
    one document per day (services/gateway/assessment.py). One document `filled` marks that every case's entry is
    there."""

    day = me.StringField(primary_key=True)  # YYYY-MM-DD (Asia/Shanghai), or "filled"
    cases = me.DictField()

    meta = {"collection": "assessment_days", "indexes": []}  # read by id only


# --- early warning (supervision's warning projection, services/supervision/warnings.py; docs/domain.md) -----------
# The kinds of warning, with their Chinese names (the detector raises them, the gateway lists them).
WARNING_KINDS = {
    "topic_spike": "同类事项集中信访",  # one topic: WARNING_SPIKE_THRESHOLD or more in a window
    "place_spike": "同一地区集中信访",  # one town: as many in a window
    "group": "规模性集体访",  # WARNING_GROUP_SIZE people or more
    "sensitive": "敏感事项信访",  # a topic of WARNING_SENSITIVE_TOPICS
    "repeat": "重复信访",  # a matter petitioned WARNING_REPEAT_OCCURRENCES times or more
}


class WarningRecord(me.Document):
    """One early warning (预警) as the bureau lists it: codes, counts, dates and petition ids only — no personal data,
    no free text. Written once per warning by supervision's warning projection (rebuildable from its store)."""

    warning_id = me.StringField(primary_key=True)
    kind = me.StringField(required=True)  # WARNING_KINDS
    key = me.StringField(required=True)  # topic code, town code, or petition id (a repeat: the matter's first)
    topic = me.StringField(null=True)
    town = me.StringField(null=True)  # 9-digit town code
    window_start = me.StringField(null=True)  # ISO instant (China) of a spike's window; the end excluded
    window_end = me.StringField(null=True)
    count = me.IntField(required=True)
    threshold = me.IntField(null=True)
    petitions = me.ListField(me.StringField())
    raised_at = me.DateTimeField(required=True)
    raised_on = me.StringField(required=True)  # YYYY-MM-DD (Asia/Shanghai): the lists' period

    meta = {"collection": "warnings", "indexes": [{"fields": ["raised_on"], "name": "raised_on"}]}


# --- typical-problem circulars (supervision's circular projection, services/supervision/circulars.py) -------------
class CircularRecord(me.Document):
    """One circular (通报) as issued: the document itself — its number, kind, title, the problems and demands (the
    bureau's own text, not a petitioner's), the day to report the rectification by, the organs it is addressed to and
    the cases it cites (by id). Written once per circular by supervision's circular projection (rebuildable from its
    store); the gateway lists them newest first, to an organ officer those addressed to their organ only."""

    circular_id = me.StringField(primary_key=True)
    number = me.StringField(required=True)  # 督通〔YYYY〕xxxxxx号 (shared/language/contracts/circulars.py)
    kind = me.StringField(required=True)  # CIRCULAR_KINDS
    title = me.StringField(required=True)
    problems = me.StringField(required=True)
    demands = me.StringField(required=True)
    report_due = me.StringField(null=True)  # YYYY-MM-DD; None: no written report asked by a day
    organs = me.ListField(me.EmbeddedDocumentField(Organ))
    organ_codes = me.ListField(me.StringField())  # the organs' codes, for an organ officer's filter
    petitions = me.ListField(me.StringField())
    issued_by = me.DictField()  # the supervisor's (or admin's) actor: role, user, organ
    issued_at = me.DateTimeField(required=True)
    issued_on = me.StringField(required=True)  # YYYY-MM-DD (Asia/Shanghai)

    meta = {"collection": "circulars", "indexes": [{"fields": ["-issued_at"], "name": "issued_at"},
                                                   {"fields": ["organ_codes", "-issued_at"], "name": "organ_issued_at"}]}
