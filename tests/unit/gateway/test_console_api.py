"""The console's way to the API (services/gateway/console/api.py): the page after a step waits for the view to
show it. No server: the API's answers are given."""

from __future__ import annotations


def test_the_page_after_a_step_waits_for_the_view_to_show_it_and_no_longer_than_its_waits(monkeypatch) -> None:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from services.gateway.console import api

    def run(coroutine):  # a thread of its own: an earlier test may leave this thread's event loop running
        with ThreadPoolExecutor(1) as thread:
            return thread.submit(asyncio.run, coroutine).result()

    def reads(versions: list[int]) -> list[int]:
        seen = []

        async def call(_request, _method, _path, **_kw):
            seen.append(versions[min(len(seen), len(versions) - 1)])
            return api.Answer(200, {"version": seen[-1]}, {})

        monkeypatch.setattr(api, "call", call)
        monkeypatch.setattr(api, "FOLLOW_WAITS", (0, 0, 0))
        return seen

    seen = reads([3, 3, 4, 5])
    assert run(api.current(None, "/x", 4)).body["version"] == 4 and seen == [3, 3, 4]
    seen = reads([3])
    assert run(api.current(None, "/x", 9)).body["version"] == 3 and len(seen) == 4  # 1 + each wait
    seen = reads([3])
    run(api.current(None, "/x", None))
    assert seen == [3]  # nothing asked: read once
