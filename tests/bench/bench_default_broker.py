#!/usr/bin/python3
"""Command latency against a default mosquitto (set_tcp_nodelay off).

Method: as bench_core.py (a real mosquitto on a free loopback port, the
real zerobmc, a pty as its keyboard; N sequential `key a` commands, JSON
with an id, QoS 1, each timed from just before publish to the first
8-byte report read from the pty and to its result), but the broker runs
with `set_tcp_nodelay false`, mosquitto's default, as most users run it,
and the commands are published from the bench's main thread (see
publisher()). For the commands over 5 ms it prints how long the agent's
threads, the broker and the bench waited for a CPU meanwhile.
Also prints the agent's RSS, connected and idle, after IDLE seconds.

The bench's own client would add a delay of its own to "publish ->
result": the broker sends it the PUBACK of the command and then the
result, and with Nagle on at the broker the result waits for the
client's delayed ACK of the PUBACK (40 ms). So the bench's client
re-arms TCP_QUICKACK after every read, as the agent and `zerobmc send`
do; the figures are then the agent's. The load average is printed: on a
shared machine the tail is the scheduler's (see docs/FLEET.md).

Usage: tests/bench/bench_default_broker.py [N] [IDLE] [NODELAY]
       (defaults 500, 5, false; NODELAY true gives the comparison with a
       broker tuned as README used to advise)
"""
import json
import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import zbtest  # noqa: E402
import paho.mqtt.client as paho  # noqa: E402
from bench_core import pct, rss_kib, schedstat_ns  # noqa: E402


def quickack(client):
    """Re-arm TCP_QUICKACK on a paho client's socket after every read
    (the kernel drops the mode on its own)."""
    recv = client._sock_recv

    def recv_quick(bufsize):
        data = recv(bufsize)
        sock = client.socket()
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        return data
    client._sock_recv = recv_quick


def publisher(port):
    """A client without paho's loop thread: publish() writes in the
    caller's thread. Through the threaded client a publish wakes paho's
    thread first, a thread hop of the bench's own measured on a loaded
    machine as most of the slow samples' waiting; the broker's answers
    (PUBACK) are read between commands."""
    p = paho.Client(client_id=f"bench-pub-{os.getpid()}",
                    protocol=paho.MQTTv5)
    p.connect("127.0.0.1", port, keepalive=60)
    while not p.is_connected():
        p.loop(0.1)
    p.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    quickack(p)
    return p


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    idle = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    nodelay = sys.argv[3] if len(sys.argv) > 3 else "false"
    # The later line wins in mosquitto's configuration.
    env = zbtest.Env("bench", sections={"agent": {"log_level": "warn"}},
                     broker_conf=f"set_tcp_nodelay {nodelay}\n")
    try:
        env.wait_online()
        quickack(env.client.c)
        pub = publisher(env.broker.port)
        load0 = os.getloadavg()
        kb = env.agent.keyboard
        c = env.client
        to_report, to_result, waited = [], [], []
        pids = (env.agent.proc.pid, env.broker.proc.pid, os.getpid())
        for i in range(n):
            cid = f"b{i}"
            kb.buf = b""
            c.clear()
            w0 = [schedstat_ns(p, 1) / 1e6 for p in pids]
            t0 = time.perf_counter()
            pub.publish("zerobmc/bench/cmd/key",
                        json.dumps({"id": cid, "keys": "a"}), qos=1)
            r, _, _ = select.select([kb.fd], [], [], 5)
            if not r:
                raise RuntimeError(f"no report for command {i}")
            t1 = time.perf_counter()
            c.wait(zbtest.result_for("bench", cid), 5)
            t2 = time.perf_counter()
            to_report.append((t1 - t0) * 1000)
            to_result.append((t2 - t0) * 1000)
            waited.append([schedstat_ns(p, 1) / 1e6 - w
                           for p, w in zip(pids, w0)])
            while kb.read_some(0):
                pass
            pub.loop(0)
        print(f"broker: mosquitto, set_tcp_nodelay {nodelay} "
              f"(false is its default)")
        load1 = os.getloadavg()
        print(f"commands: {n} sequential `key a` commands, QoS 1, loopback; "
              f"load average {load0[0]:.2f} before, {load1[0]:.2f} after, "
              f"{os.cpu_count()} cores")
        print(f"publish -> first HID report: p50 {pct(to_report, 50):.2f} ms, "
              f"p99 {pct(to_report, 99):.2f} ms (goal p99 <= 5 ms)")
        slow = sorted(x for x in to_report if x > 5)
        print(f"  over 5 ms: {len(slow)} of {n}: "
              f"{', '.join('%.1f' % x for x in slow[-10:])}")
        # Where a slow one's time went: the run-queue delay of the
        # agent's threads, the broker and this bench during it.
        slow_i = [i for i, x in enumerate(to_report) if x > 5]
        if slow_i:
            tot = sum(to_report[i] for i in slow_i)
            w = [sum(waited[i][k] for i in slow_i) for k in range(3)]
            print(f"  of their {tot:.0f} ms, waiting for a CPU (run queue):"
                  f" agent {w[0]:.0f} ms, broker {w[1]:.0f} ms, bench "
                  f"{w[2]:.0f} ms (threads overlap; a busy machine, not "
                  f"the protocol)")
        print(f"publish -> result received:  p50 {pct(to_result, 50):.2f} ms, "
              f"p99 {pct(to_result, 99):.2f} ms")
        time.sleep(idle)
        print(f"RSS connected, idle {idle:.0f} s: "
              f"{rss_kib(env.agent.proc.pid)} KiB (goal <= 4096)")
    finally:
        env.close()
        env.broker.stop()


if __name__ == "__main__":
    main()
