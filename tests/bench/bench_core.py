#!/usr/bin/python3
"""Command latency and idle footprint of the real agent.

Method: a real mosquitto on a free loopback port, the real zerobmc with a
pseudo-terminal as its keyboard. 1,000 `key` commands (JSON with an id,
QoS 1) are published one after another; each is timed from just before
publish to the first 8-byte report read from the pty, and to its result
message. Then the agent idles, connected, for IDLE seconds: RSS from
/proc/PID/status and CPU time from /proc/PID/stat (utime + stime).

Usage: tests/bench/bench_core.py [N] [IDLE]    (defaults 1000, 60)
"""
import json
import os
import select
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import zbtest  # noqa: E402


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def schedstat_ns(pid, field):
    """A field summed over the process's threads from the scheduler's own
    nanosecond counts (/proc/PID/task/*/schedstat): 0 is the time run
    (user + system), 1 the time waited, runnable, for a CPU."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[field])
        except OSError:
            pass
    return total


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    idle = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    env = zbtest.Env("bench", sections={"agent": {"log_level": "warn"}})
    try:
        env.wait_online()
        kb = env.agent.keyboard
        c = env.client
        to_report, to_result = [], []
        for i in range(n):
            cid = f"b{i}"
            kb.buf = b""
            c.clear()
            t0 = time.perf_counter()
            c.c.publish("zerobmc/bench/cmd/key",
                        json.dumps({"id": cid, "keys": "a"}), qos=1)
            r, _, _ = select.select([kb.fd], [], [], 5)
            if not r:
                raise RuntimeError(f"no report for command {i}")
            t1 = time.perf_counter()
            c.wait(zbtest.result_for("bench", cid), 5)
            t2 = time.perf_counter()
            to_report.append((t1 - t0) * 1000)
            to_result.append((t2 - t0) * 1000)
            while kb.read_some(0):
                pass
        pid = env.agent.proc.pid
        print(f"commands: {n} sequential `key a` commands, QoS 1, loopback")
        print(f"publish -> first HID report: p50 {pct(to_report, 50):.2f} ms, "
              f"p99 {pct(to_report, 99):.2f} ms (goal p99 <= 5 ms)")
        print(f"publish -> result received:  p50 {pct(to_result, 50):.2f} ms, "
              f"p99 {pct(to_result, 99):.2f} ms")
        c0 = cpu_s(pid)
        t0 = time.time()
        time.sleep(idle)
        dt = time.time() - t0
        cpu = cpu_s(pid) - c0
        print(f"idle {dt:.0f} s connected: RSS {rss_kib(pid)} KiB "
              f"(goal <= 4096), CPU {cpu:.3f} s = {100 * cpu / dt:.4f} % "
              f"(goal < 0.1 %)")
    finally:
        env.close()


if __name__ == "__main__":
    main()
