"""`make bench`: prints the platform's throughput and latency figures, each beside a baseline measured in the
same run on the same PostgreSQL and RabbitMQ. Figures vary by ±30% on a noisy 2-vCPU machine; read ratios."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench import assessment, audit, latency, registration, worklists
from tests.support.platform import delete_topology, drop_schemas, unique_name
from tests.support.servers import MailServerProcess, SecantusServer

RESULTS = Path(__file__).parent / "results"


CPU_BEFORE_NOTICES = 48.0  # ms of CPU per petition in (b), measured on 2026-12-04 before issue 17's notices


def main() -> None:
    only = set(sys.argv[1:]) or {"registration", "latency", "audit", "worklists", "assessment"}
    run = unique_name("bench")
    results: dict[str, object] = {"at": datetime.now(UTC).isoformat(timespec="seconds")}
    try:
        if "registration" in only:
            print("(a) durable registrations per second, PostgreSQL ...", flush=True)
            a = registration.run(f"{run}a_")
            results["registration"] = a
            print(f"    plain Application.save() loop     {a['plain_save_loop_per_s']:8.0f} /s")
            print(f"    intake, group commit ({a['callers']} green callers) {a['intake_group_commit_per_s']:8.0f} /s"
                  f"   ({a['mean_registrations_per_transaction']:.1f} registrations per transaction)")
            print(f"    ratio                             {a['ratio']:8.1f} x   (target: at least 3x)")
            print(f"    intake without audit sealing      {a['intake_unsealed_per_s']:8.0f} /s   -> sealing costs "
                  f"{a['sealing_cost']:.0%} of registration throughput (target: at most 10%)")
        if "latency" in only:
            print("(b) POST -> routed organ in the status view, whole platform on PostgreSQL ...", flush=True)
            server, sink = SecantusServer(), MailServerProcess()
            try:
                namespace = f"{run}b"
                b = latency.run(namespace, server.uri(namespace), sink.port, Path(tempfile.mkdtemp()))
            finally:
                server.stop()
                sink.stop()
                with contextlib.suppress(Exception):
                    delete_topology([namespace])
            results["latency"] = b
            unloaded = b["unloaded"]
            print(f"    unloaded (2/s)           p50 {unloaded['p50_ms']:6.0f} ms   p99 {unloaded['p99_ms']:6.0f} ms"
                  f"   (receipt in the inbox: p50 {unloaded['receipts']['p50_ms']:.0f} ms)")
            for m in b["loaded"]:
                print(f"    offered {m['rate_per_s']:3.0f} petitions/s  p50 {m['p50_ms']:6.0f} ms   p99 {m['p99_ms']:6.0f} ms"
                      f"   ({m['count']} of {m['offered']} routed, {m['failed']} failed)"
                      f"   ratio p99/unloaded p50 {m['p99_ms'] / unloaded['p50_ms']:.1f}x")
                r = m["receipts"]
                print(f"      receipt in the inbox      p50 {r['p50_ms']:6.0f} ms   p99 {r['p99_ms']:6.0f} ms   "
                      f"({r['count']} delivered; the notice processes stand back under load)")
                if m.get("unseen"):
                    print(f"      not seen routed in time: {m['unseen']}")
            target = b["loaded"][0]
            met = target["p99_ms"] < 1000
            print(f"    target: p99 under 1000 ms at {target['rate_per_s']:.0f}/s -> {'met' if met else 'NOT met'}")
            sustained = [m for m in b["loaded"] if m["p99_ms"] < 1000]
            if sustained:
                print(f"    highest rate tried with p99 under 1 s: {sustained[0]['rate_per_s']:.0f} petitions/s")
            cores = os.cpu_count() or 1  # the platform shares this machine's CPUs: the capacity divides them
            print(f"    CPU per petition at {target['rate_per_s']:.0f}/s, by component "
                  f"({cores} vCPUs = {cores * 1000} ms/s):")
            cpu_total = sum(target["cpu_ms_per_petition"].values())
            for name, ms in list(target["cpu_ms_per_petition"].items())[:14]:
                print(f"      {ms:6.1f} ms  {name}")
            print(f"      {cpu_total:6.1f} ms  total -> {cores} vCPUs carry about {cores * 1000 / cpu_total:.0f} "
                  "petitions/s at this cost (idle polling included: on the low side)")
            # Issue 17 asks for the figure beside the one measured before every step sent its notices.
            print(f"      (before the steps' notices, 2026-12-04: {CPU_BEFORE_NOTICES:.0f} ms per petition -> "
                  f"{cpu_total / CPU_BEFORE_NOTICES:.2f}x; now with status page, e-mail and SMS on, organs told by "
                  f"e-mail; {b.get('sms_sent', 0)} SMS sent)")
        if "audit" in only:
            print("(c) the audit log, PostgreSQL ...", flush=True)
            c = audit.run(f"{run}c", Path(tempfile.mkdtemp()))
            results["audit"] = c
            v, r = c["verification"], c["replay"]
            print(f"    verifying a full export            {v['verify_per_s']:8.0f} events/s   ({v['events']} events)")
            print(f"    plain parse-and-hash loop           {v['ceiling_per_s']:8.0f} events/s   -> {v['ratio']:.0%} "
                  f"of the ceiling (target: at least 70%)")
            print(f"    replaying a {r['events']}-event case from the stores  {r['replay_ms']:6.1f} ms   (the library's plain "
                  f"load of the case: {r['plain_load_ms']:.1f} ms; target: under 50 ms)")
        if "worklists" in only:
            print(f"(d) the read side with {worklists.CASES:,} cases, SecantusDB on disk (the embedded default) ...",
                  flush=True)
            d = worklists.run(Path(tempfile.mkdtemp()))
            results["worklists"] = d
            print(f"    seeded in {d['seed_s']:.0f} s: {d['open_cases']:,} open ({d['overdue']:,} overdue, "
                  f"{d['due_soon']:,} due within {worklists.SOON_DAYS} days), {d['counters']} counters; "
                  f"recounting them from the rows (a projector's start) {d['recount_s'] * 1000:.0f} ms")
            for name, label, baseline, target in (
                    ("inbox", f"organ inbox, first page ({d['organ']}, {d['inbox_lane_rows']:,} open)", "inbox_by_id",
                     100),
                    ("overview", "supervisor's overview (counts + overdue + due soon)", "overview_by_id", 300),
                    ("status_page", "status page by query code", "status_by_id", None)):
                m, b = d[name], d[baseline]
                verdict = "" if target is None else (f"   (target p95 < {target} ms: "
                                                     f"{'met' if m['p95_ms'] < target else 'NOT met'})")
                print(f"    {label:52s} p50 {m['p50_ms']:6.1f} ms  p95 {m['p95_ms']:6.1f} ms   plain fetch by id "
                      f"p50 {b['p50_ms']:5.1f} ms  p95 {b['p95_ms']:5.1f} ms   ratio p95 "
                      f"{m['p95_ms'] / b['p95_ms']:.1f}x{verdict}")
        if "assessment" in only:
            print(f"(e) the assessment rates with {assessment.CASES:,} cases' facts, SecantusDB on disk (the embedded "
                  "default) ...", flush=True)
            e = assessment.run(Path(tempfile.mkdtemp()))
            results["assessment"] = e
            county, organ, scan = (e[k]["median_s"] * 1000 for k in ("county", "one_organ", "scan"))
            per_case = e["per_case_query"]["median_s"] * 1000
            print(f"    seeded in {e['seed_s']:.0f} s; {e['cases_in_year']:,} cases registered in {e['year']} "
                  f"({e['organ_cases']:,} of them held by {e['organ']} at the cut-off), {e['days']:,} day documents")
            for label, ms in ((f"the county's four rates, {e['year']} (GET /api/v1/assessment/rates)", county),
                              (f"one organ's ({e['organ']}), {e['year']}", organ)):
                print(f"    {label:62s} median {ms:6.0f} ms   (target: under 2000 ms: "
                      f"{'met' if ms < 2000 else 'NOT met'})")
            print(f"    {'plain scan of the same facts as flat event rows':62s} median {scan:6.0f} ms   "
                  f"({e['scan_rows']:,} rows of the year's cases, one per dated fact, in SQLite on disk, each "
                  "decoded, not folded)")
            print(f"    ratio county / plain scan {county / scan:.1f}x;   the first version's query (one document per "
                  f"case) and fold {per_case:.0f} ms -> {per_case / county:.1f}x slower")
    finally:
        with contextlib.suppress(Exception):
            drop_schemas(run)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    print(f"figures saved to {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main()
