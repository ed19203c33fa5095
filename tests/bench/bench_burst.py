#!/usr/bin/python3
"""A burst of commands: how long until every result is out, and is any lost.

Method: a real mosquitto on a free loopback port with its default
configuration (max_inflight_messages 20, which is also the Receive Maximum
it gives MQTT 5 clients), the real zerobmc. The agent is stopped (SIGSTOP)
while N `refresh` commands (JSON with an id, QoS 1, each with an MQTT 5
response topic) are published, then continued (SIGCONT): every command is
in the agent's socket at once and each is answered twice (result topic and
response topic). Reported: time from SIGCONT to the last result, results
missing, results out of order, the largest gap between two results, and
state.mqtt.dropped / held afterwards. ROUNDS rounds, median and range.

Usage: tests/bench/bench_burst.py [N] [ROUNDS]    (defaults 300, 5)
ZEROBMC names the binary (default build/firmware/zerobmc); ZEROBMC_WRAPPER
runs it under an emulator, e.g. "qemu-aarch64-static -cpu cortex-a53".
"""
import json
import os
import signal
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import zbtest  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402


def one_round(n):
    env = zbtest.Env("burst", sections={"agent": {"log_level": "warn"}})
    try:
        env.wait_online()
        c = env.client
        c.subscribe("reply/burst")
        env.agent.proc.send_signal(signal.SIGSTOP)
        try:
            for i in range(n):
                props = Properties(PacketTypes.PUBLISH)
                props.ResponseTopic = "reply/burst"
                c.c.publish("zerobmc/burst/cmd/refresh",
                            json.dumps({"id": f"b{i}"}), qos=1,
                            properties=props)
            time.sleep(1.0)
        finally:
            t0 = time.monotonic()
            env.agent.proc.send_signal(signal.SIGCONT)
        end = time.time() + 60
        while time.time() < end:
            with c.lock:
                got = [m for m in c.msgs
                       if m["topic"] in ("zerobmc/burst/result",
                                         "reply/burst")]
            if len(got) >= 2 * n:
                break
            time.sleep(0.05)
        with c.lock:
            res = [m for m in c.msgs if m["topic"] == "zerobmc/burst/result"]
            rep = [m for m in c.msgs if m["topic"] == "reply/burst"]
        ids = [json.loads(m["payload"]).get("id") for m in res]
        times = [m["t"] - t0 for m in res + rep]
        ts = sorted(m["t"] for m in res)
        gap = max((b - a for a, b in zip(ts, ts[1:])), default=0.0)
        c.clear()
        env.cmd("refresh", {})
        st = json.loads(c.wait(zbtest.topic_is("zerobmc/burst/state"),
                               10)["payload"])
        return {
            "total": max(times) if times else float("nan"),
            "missing": 2 * n - len(res) - len(rep),
            "unordered": ids != [f"b{i}" for i in range(n)][:len(ids)],
            "gap": gap,
            "dropped": st["mqtt"].get("dropped", 0),
        }
    finally:
        env.close()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    out = [one_round(n) for _ in range(rounds)]
    totals = [r["total"] for r in out]
    print(f"burst of {n} refresh commands (each answered on the result "
          f"topic and a response topic), default mosquitto, {rounds} rounds")
    print(f"  SIGCONT -> last result: median {statistics.median(totals):.2f} s "
          f"(range {min(totals):.2f}-{max(totals):.2f} s)")
    print(f"  largest gap between two results: "
          f"{max(r['gap'] for r in out) * 1000:.0f} ms")
    print(f"  results missing: {sum(r['missing'] for r in out)}, "
          f"rounds out of order: {sum(r['unordered'] for r in out)}, "
          f"state.mqtt.dropped: {sum(r['dropped'] for r in out)}")


if __name__ == "__main__":
    main()
