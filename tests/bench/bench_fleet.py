#!/usr/bin/python3
"""A fleet on one broker: N real agents (build/firmware/zerobmc, each with a
pty as its keyboard, log level warn, defaults otherwise: keepalive 30 s,
Home Assistant discovery on) and one mosquitto on a free loopback port.

Method, in order, all measured from outside the agents:
  1. start:   the N agents are spawned one after another; a watcher
              (paho, subscribed to zerobmc/+/status and zerobmc/+/result
              before the first spawn) notes when each says "online".
              Printed: time from the first spawn until all are online.
  2. memory:  VmRSS and Pss (/proc/PID/smaps_rollup) of every agent, after
              IDLE s connected and idle: mean and max.
  3. idle:    CPU (every thread's run time from /proc/PID/task/*/
              schedstat, i.e. user + system) of all agents over
              IDLE s, as a share of one core, and per agent.
  4. group:   GROUPS commands `key a` (JSON with an id) to
              zerobmc/group/fleet/cmd/key, one after the other; for each,
              the time from publish until each agent's result reached the
              watcher: p50 and time to the last, and the count (nothing
              may be lost). The agents' CPU over the burst, less the idle
              rate, divided by the commands answered: CPU per command.
              Also the CPU of the agents, the broker, this bench (the
              watcher) and the rest of the machine (/proc/stat) during
              the burst: a group command is CPU-bound, so its time is
              that CPU over the cores; printed too: the time on free
              cores (ours alone divided by the cores).
  5. restart: the broker is stopped, DOWN s later started again on its
              port (log_timestamp on, so its log has when each client
              connected); printed: time from its return until all agents
              are online again, and the broker's new connections per
              second (the back-off's jitter spreads the herd).
  6. stop:    SIGTERM to every agent at once; time until each exited:
              p50 and max.

The watcher is a subscriber receiving every agent's status, state and
results: mosquitto's default max_queued_messages (1,000) drops what it
cannot hand over in time, so the broker here has `max_queued_messages 0`
(unlimited), as an operator's Home Assistant watching a fleet needs too
(docs/FLEET.md).

Usage: tests/bench/bench_fleet.py [N] [IDLE] [GROUPS] [DOWN]
       (defaults 200, 10, 5, 5)
"""
import json
import os
import re
import resource
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import zbtest  # noqa: E402
from bench_core import schedstat_ns  # noqa: E402
import paho.mqtt.client as paho  # noqa: E402


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def cpu_s(pid):
    """CPU time of all the process's threads, from the scheduler's own
    nanosecond count: utime and stime come in clock ticks, too coarse for
    an agent that spends well under a tick per command."""
    return schedstat_ns(pid, 0) / 1e9


def machine_busy_s():
    """CPU time spent by the whole machine, all cores, from /proc/stat
    (everything but idle and iowait)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def mem_kib(pid):
    rss = pss = 0
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    return rss, pss


def drain(fd):
    """Read what an agent typed (select() cannot take fds >= 1024; the
    pty's fd is non-blocking)."""
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


class Watcher:
    """Notes the time of every agent's online/offline and results."""

    def __init__(self, port):
        self.lock = threading.Lock()
        self.online = {}     # id -> time it last said online
        self.offline = set()
        self.results = {}    # cmd id -> {agent: time}
        self.c = paho.Client(client_id=f"fleet-watch-{os.getpid()}",
                             protocol=paho.MQTTv5)
        self.c.on_message = self.on_message
        self.c.on_connect = lambda *a: self.c.subscribe(
            [("zerobmc/+/status", 1), ("zerobmc/+/result", 1)])
        self.c.connect("127.0.0.1", port, keepalive=60)
        self.c.loop_start()

    def on_message(self, client, userdata, msg):
        now = time.monotonic()
        agent = msg.topic.split("/")[1]
        with self.lock:
            if msg.topic.endswith("/status"):
                if msg.payload == b"online":
                    self.online[agent] = now
                    self.offline.discard(agent)
                else:
                    self.offline.add(agent)
                    self.online.pop(agent, None)
            else:
                try:
                    cid = json.loads(msg.payload).get("id")
                except ValueError:
                    return
                self.results.setdefault(cid, {})[agent] = now

    def count_online(self, since=0.0):
        with self.lock:
            return sum(1 for t in self.online.values() if t >= since)

    def wait(self, pred, timeout):
        end = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > end:
                return False
            time.sleep(0.02)
        return True


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    idle = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    groups = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    down = float(sys.argv[4]) if len(sys.argv) > 4 else 5.0
    # Two pty fds per agent here, and a socket per agent at the broker.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 4 * n + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    tmp = tempfile.mkdtemp(prefix="zbfleet-")
    broker = zbtest.Broker(tmp, "max_queued_messages 0\n"
                                "log_timestamp true\n"
                                "log_timestamp_format %s\n"
                                "log_type notice\n").start()
    w = Watcher(broker.port)
    agents = []
    print(f"fleet: {n} agents, one mosquitto "
          f"(max_queued_messages 0), loopback, {os.cpu_count()} cores")
    try:
        t0 = time.monotonic()
        for i in range(n):
            a = zbtest.Agent(tmp, broker.port, f"f{i:04d}", sections={
                "agent": {"log_level": "warn", "groups": "fleet"}})
            a.start()
            a.logf.close()
            agents.append(a)
        spawned = time.monotonic() - t0
        ok = w.wait(lambda: w.count_online() >= n, 120)
        print(f"start: {n} spawned in {spawned:.1f} s; all online "
              f"{time.monotonic() - t0:.1f} s after the first spawn"
              + ("" if ok else f" (NOT ALL: {w.count_online()})"))

        time.sleep(idle)
        mem = [mem_kib(a.proc.pid) for a in agents]
        print(f"memory after {idle:.0f} s idle: RSS mean "
              f"{sum(m[0] for m in mem) / n / 1024:.2f} MiB, max "
              f"{max(m[0] for m in mem) / 1024:.2f} MiB; PSS mean "
              f"{sum(m[1] for m in mem) / n / 1024:.2f} MiB "
              f"(the agent's own share, libraries split)")

        c0 = sum(cpu_s(a.proc.pid) for a in agents)
        time.sleep(idle)
        idle_cpu = sum(cpu_s(a.proc.pid) for a in agents) - c0
        rate = idle_cpu / idle
        print(f"idle CPU over {idle:.0f} s: {100 * rate:.2f} % of one core "
              f"for the fleet, {100 * rate / n:.4f} % per agent")

        c0 = sum(cpu_s(a.proc.pid) for a in agents)
        k0, m0 = cpu_s(broker.proc.pid), cpu_s(os.getpid())
        x0 = machine_busy_s()
        b0 = time.monotonic()
        answered = 0
        for g in range(groups):
            cid = f"g{g}-{time.monotonic_ns()}"
            tp = time.monotonic()
            w.c.publish("zerobmc/group/fleet/cmd/key",
                        json.dumps({"keys": "a", "id": cid}), qos=1)
            w.wait(lambda: len(w.results.get(cid, {})) >= n, 30)
            got = dict(w.results.get(cid, {}))
            answered += len(got)
            lat = [(t - tp) * 1000 for t in got.values()]
            print(f"group command {g + 1}: {len(got)} of {n} answered; "
                  f"p50 {pct(lat, 50):.0f} ms, last {max(lat):.0f} ms")
            for a in agents:
                drain(a.keyboard.fd)
        burst = time.monotonic() - b0
        fleet = sum(cpu_s(a.proc.pid) for a in agents) - c0
        cpu = fleet - rate * burst
        broker_cpu = cpu_s(broker.proc.pid) - k0
        bench_cpu = cpu_s(os.getpid()) - m0
        rest = machine_busy_s() - x0 - fleet - broker_cpu - bench_cpu
        print(f"CPU during the {groups} group commands ({burst:.1f} s wall, "
              f"{os.cpu_count()} cores): agents {fleet:.2f} s, broker "
              f"{broker_cpu:.2f} s, this bench (watcher) {bench_cpu:.2f} s, "
              f"the rest of the machine {max(rest, 0):.2f} s")
        # A group command is CPU-bound: what ours would take alone.
        print(f"  per command: {(fleet + broker_cpu + bench_cpu) / groups:.2f}"
              f" s of CPU for agents, broker and watcher; on "
              f"{os.cpu_count()} free cores about "
              f"{(fleet + broker_cpu + bench_cpu) / groups / os.cpu_count():.2f}"
              f" s")
        print(f"CPU per command (user + system of all threads, less idle): "
              f"{1000 * cpu / max(answered, 1):.3f} ms "
              f"({answered} commands)")

        broker.stop()
        w.wait(lambda: w.count_online() == 0, 5)
        time.sleep(down)
        with open(broker.log, "a") as f:
            f.write("--- restart ---\n")
        tb = time.monotonic()
        wall = time.time()
        broker.start()
        w.c.reconnect()
        ok = w.wait(lambda: w.count_online(tb) >= n, 90)
        back = time.monotonic() - tb
        per_s = {}
        with open(broker.log) as f:
            text = f.read().split("--- restart ---", 1)[-1]
        for m in re.finditer(r"^(\d+): New connection from", text, re.M):
            s = int(m.group(1)) - int(wall)
            per_s[s] = per_s.get(s, 0) + 1
        print(f"broker restart after {down:.0f} s down: all back "
              f"{back:.1f} s after its return"
              + ("" if ok else f" (NOT ALL: {w.count_online(tb)})"))
        print("  new connections per second at the broker: "
              + ", ".join(f"{s}s:{k}" for s, k in sorted(per_s.items())))

        ts = time.monotonic()
        for a in agents:
            a.proc.send_signal(signal.SIGTERM)
        took = []
        for a in agents:
            a.proc.wait(30)
            took.append(time.monotonic() - ts)
        print(f"stop (SIGTERM to all at once): p50 {pct(took, 50) * 1000:.0f}"
              f" ms, all exited after {max(took) * 1000:.0f} ms")
    finally:
        for a in agents:
            if a.alive():
                a.proc.kill()
                a.proc.wait()
            a.keyboard.close()
        w.c.loop_stop()
        broker.stop()


if __name__ == "__main__":
    main()
