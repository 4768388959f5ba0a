"""intake's composition roots: how each of its processes is put together."""

from __future__ import annotations

from services.intake.application import IntakeApplication
from services.intake.repeats import SameMatterTest
from services.intake.settings import IntakeSettings


def build_application(settings: IntakeSettings | None = None) -> IntakeApplication:
    settings = settings or IntakeSettings()
    return IntakeApplication(settings, max_batch=settings.group_commit_max_batch,
                             person_key_secret=settings.person_key_secret.encode(),
                             same_matter=SameMatterTest(settings.repeat_similarity))
