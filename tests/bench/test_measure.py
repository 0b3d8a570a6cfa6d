"""The benchmark's measuring helpers: what they read from /proc and how they count.

The benchmark asserts performance; these tests assert only that its arithmetic is what
its report says (percentiles, CPU accounting, targets), so the harness cannot rot
silently."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

from bench import profile, report, vcluster
from bench.measure import (
    CLOCK_TICKS_PER_S,
    cpu_seconds,
    cpu_used_s,
    disk_bytes,
    latency_summary_ms,
    parse_stat,
    percentile,
    process_tree,
    rss_bytes,
)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # unsorted on purpose
    assert percentile(values, 0.50) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
    assert percentile([7.0], 0.99) == 7.0
    assert math.isnan(percentile([], 0.5))


def test_p99_shows_a_slow_tail_the_median_hides() -> None:
    latencies_s = [0.010] * 98 + [2.0, 2.0]
    summary = latency_summary_ms(latencies_s)
    assert summary == {"count": 100, "p50_ms": 10.0, "p99_ms": 2000.0, "max_ms": 2000.0}
    assert latency_summary_ms([]) == {"count": 0}


def test_stat_line_with_spaces_and_parentheses_in_the_command_name() -> None:
    # proc(5): pid (comm) state ppid ... utime(14) stime(15) ...; comm may hold ") ".
    fields = ["S", "41", *["0"] * 9, str(3 * CLOCK_TICKS_PER_S), str(CLOCK_TICKS_PER_S)]
    line = "1234 (python -m (x) y) " + " ".join([*fields, *["0"] * 30])
    stat = parse_stat(line)
    assert (stat.pid, stat.ppid) == (1234, 41)
    assert stat.cpu_s == 4.0


def test_cpu_used_counts_new_processes_whole_and_old_ones_by_difference() -> None:
    before = {10: 5.0, 11: 1.0}
    after = {10: 7.5, 12: 0.25}  # 11 ended, 12 started in between
    assert cpu_used_s(before, after) == 2.75


def test_cpu_seconds_of_this_process_grow_with_work() -> None:
    me = os.getpid()
    before = cpu_seconds([me])
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    used = cpu_used_s(before, cpu_seconds([me]))
    assert used >= 0.2  # /proc counts in clock ticks (10 ms); the loop burned 0.3 s
    assert me in process_tree([me])
    assert rss_bytes(me) > 1_000_000


def test_a_gone_process_reads_as_nothing() -> None:
    assert rss_bytes(2**22 + 17) == 0  # above the kernel's pid_max default
    assert cpu_seconds([2**22 + 17]) == {}


def test_disk_bytes_counts_allocated_blocks(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 10_000)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"y" * 5_000)
    assert disk_bytes(tmp_path) >= 15_000


def test_votechain_answers_are_classified_by_what_the_citizen_got() -> None:
    committed = b'{"status": "committed", "receipt": {"accepted": true, "code": "ok"}}'
    refused = b'{"status": "committed", "receipt": {"accepted": false, "code": "duplicate"}}'
    assert vcluster.classify(200, committed) == vcluster.COMMITTED
    assert vcluster.classify(200, refused) == "refused:duplicate"
    assert vcluster.classify(202, b'{"status": "pending", "height": null}') == "pending"
    assert vcluster.classify(503, b'{"error": "busy", "message": "full"}') == "busy"
    assert vcluster.classify(502, b"<html>bad gateway</html>") == "http_502"


def result_with(
    per_s: float, cpu_ms: float, etcd_per_s: float, at_1000: dict[str, object]
) -> dict[str, object]:
    open_run = {
        "offered_per_s": 1000.0,
        "acknowledged_per_s": at_1000["acknowledged_per_s"],
        "latency_acknowledged": {"p99_ms": at_1000["p99_ms"]},
        "view_changes": at_1000["view_changes"],
        "outcomes": {"committed": 9950, "busy": 50},
    }
    return {
        "etcd": {"per_s": etcd_per_s},
        "votechain": {
            "closed_loop": {"per_s": per_s, "cpu_ms_per_write": cpu_ms},
            "open_loop": [open_run],
        },
    }


def statuses(targets: list[report.Target]) -> dict[str, str]:
    return {t.name: t.status for t in targets}


def test_targets_pass_and_miss_on_their_thresholds() -> None:
    good = result_with(
        1300, 0.9, 2400, {"acknowledged_per_s": 995, "p99_ms": 250, "view_changes": 0}
    )
    got = statuses(report.check_targets(good))
    assert got["committed ballots/s vs etcd (closed loop)"] == report.PASS
    assert got["cluster CPU per committed ballot"] == report.PASS
    assert got["offered 1,000/s: acknowledged"] == report.PASS
    assert got["offered 1,000/s: p99 commit latency (from scheduled send)"] == report.PASS
    assert got["offered 1,000/s: view changes"] == report.PASS
    assert got["offered 2x the maximum"] == report.NOT_RUN  # no overload run in this result

    bad = result_with(
        300, 3.5, 2400, {"acknowledged_per_s": 50, "p99_ms": 20000, "view_changes": 5}
    )
    got = statuses(report.check_targets(bad))
    assert got["committed ballots/s vs etcd (closed loop)"] == report.MISS
    assert got["cluster CPU per committed ballot"] == report.MISS
    assert got["offered 1,000/s: acknowledged"] == report.MISS
    assert got["offered 1,000/s: p99 commit latency (from scheduled send)"] == report.MISS
    assert got["offered 1,000/s: view changes"] == report.MISS


def test_without_etcd_the_ratio_is_not_run_rather_than_missed() -> None:
    result = result_with(300, 3.5, 0, {"acknowledged_per_s": 50, "p99_ms": 1, "view_changes": 0})
    result["etcd"] = {"skipped": "etcd not found"}
    got = statuses(report.check_targets(result))
    assert got["committed ballots/s vs etcd (closed loop)"] == report.NOT_RUN


def test_a_profile_summary_ranks_functions_by_self_and_total_samples() -> None:
    raw = (
        "main (node.py:1);handle (rpc.py:9);encode (enc.py:3) 60\n"
        "main (node.py:1);handle (rpc.py:9) 30\n"
        "main (node.py:1);verify (keys.py:7) 10\n"
        "garbage line without a count\n"
    )
    summary = profile.summarise(raw, top=2)
    assert summary["samples"] == 100
    assert summary["self_pct"] == [[60.0, "encode (enc.py:3)"], [30.0, "handle (rpc.py:9)"]]
    assert summary["total_pct"][0] == [100.0, "main (node.py:1)"]
    assert "60.0%  encode" in profile.summary_text("n1", summary)


def test_the_readme_table_puts_votechain_beside_etcd_with_their_ratio() -> None:
    result = result_with(
        1200, 0.9, 2400, {"acknowledged_per_s": 995, "p99_ms": 250, "view_changes": 0}
    )
    result["etcd"] = {"per_s": 2400, "cpu_ms_per_write": 0.3}
    table = report.summary_table(result)
    assert "| committed per second (closed loop, 128 in flight) | 1,200 | 2,400 | 0.50 |" in table
    assert "| cluster CPU per committed write | 0.90 ms | 0.30 ms | 3.0x |" in table
    assert (
        "| offered 1,000/s (open loop) | 995/s acknowledged, p50 - ms, p99 250 ms, busy 50" in table
    )
