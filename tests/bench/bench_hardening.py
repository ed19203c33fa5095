#!/usr/bin/python3
"""Issue 17's measured goals, on demand (not a timed test):

    ZEROBMC=build/firmware/zerobmc /usr/bin/python3 \\
        tests/bench/bench_hardening.py [backlog|discovery|tlslag|console]...

backlog    The agent ([agent] max_payload 2 MiB, so 1 MiB commands pass
           its Maximum Packet Size) is stopped with SIGSTOP; 300 commands
           of 1 MiB and 1,000 of 60 KiB are queued for it on a real
           mosquitto (QoS 1); SIGCONT. Prints VmHWM before and after
           (/proc/<pid>/status), how the commands were answered, and the
           time until the next command's answer.
discovery  An 8 MiB retained device discovery payload (100,000
           components) waits on the agent's own discovery topic
           (max_payload 16 MiB, so the broker delivers it). The agent
           starts; prints the time from its `online` to the answer of a
           `key` command sent then, and state.loop.max_lag_ms.
tlslag     The agent connects over TLS through a TCP proxy that cuts the
           link 20 times (each after the agent is back online); prints
           state.loop.max_lag_ms after, and before (connected once), and
           max_busy_ms (the loop's longest round of CPU work, which the
           machine's load does not inflate). ZEROBMC_WRAPPER runs it
           under an emulator (qemu-arm-static -cpu arm1176 -L SYSROOT).
console    20,000 console lines written at about 2,000 lines/s into the
           console pty while the broker restarts 10 times; a persistent
           QoS 1 subscriber counts lines missing, lines counted by
           markers, and lines received twice.
"""
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import mqttproxy  # noqa: E402
import test_console as tc  # noqa: E402
import test_console_restart as tcr  # noqa: E402
import tlspki  # noqa: E402
import zbtest  # noqa: E402


def kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def state(env, timeout=10):
    m = env.client.wait(zbtest.topic_is(f"zerobmc/{env.id}/state"), timeout)
    return json.loads(m["payload"])


def last_state(env):
    with env.client.lock:
        msgs = [m for m in env.client.msgs
                if m["topic"] == f"zerobmc/{env.id}/state"]
    return json.loads(msgs[-1]["payload"]) if msgs else {}


def bench_backlog():
    env = zbtest.Env("bb1", sections={"agent": {"max_payload": "2097152"}})
    pub = None
    try:
        env.wait_online()
        # The commands are published by a client that does not hear them
        # back; the env's client hears results only from here on.
        env.client.c.unsubscribe("zerobmc/bb1/#")
        env.client.subscribe("zerobmc/bb1/result")
        env.client.subscribe("zerobmc/bb1/state")
        pub = zbtest.Client(env.broker.port)
        env.cmd("key", {"keys": "a"})
        pid = env.agent.proc.pid
        hwm0, rss0 = kib(pid, "VmHWM"), kib(pid, "VmRSS")
        os.kill(pid, signal.SIGSTOP)
        infos = []
        t0 = time.time()
        for i in range(300):
            infos.append(pub.c.publish(
                "zerobmc/bb1/cmd/key", json.dumps(
                    {"keys": "a", "pad": "x" * (1 << 20), "id": f"m{i}"}),
                qos=1))
        for i in range(1000):
            infos.append(pub.c.publish(
                "zerobmc/bb1/cmd/key", json.dumps(
                    {"keys": "a", "pad": "x" * (60 << 10), "id": f"s{i}"}),
                qos=1))
        for info in infos:
            info.wait_for_publish(120)
        queued = time.time() - t0
        os.kill(pid, signal.SIGCONT)
        t1 = time.time()
        # Until no result came for 3 s.
        seen = -1
        while True:
            time.sleep(3)
            with env.client.lock:
                n = len(env.client.msgs)
            if n == seen:
                break
            seen = n
        drained = time.time() - t1 - 3
        t2 = time.time()
        r = env.cmd("key", {"keys": "a"}, timeout=30)
        nxt = time.time() - t2
        hwm1 = kib(pid, "VmHWM")
        res = {}
        ids = set()
        for m in list(env.client.msgs):
            if m["topic"] == "zerobmc/bb1/result":
                p = json.loads(m["payload"])
                res[p.get("status")] = res.get(p.get("status"), 0) + 1
                ids.add(p.get("id"))
        res["unanswered"] = sum(1 for i in
                                [f"m{k}" for k in range(300)] +
                                [f"s{k}" for k in range(1000)]
                                if i not in ids)
        env.cmd("refresh", {})
        time.sleep(0.5)
        res["state.mqtt"] = last_state(env).get("mqtt")
        print(f"backlog: 300 x 1 MiB + 1000 x 60 KiB queued in {queued:.1f} s;"
              f" VmRSS before {rss0} KiB, VmHWM before {hwm0} KiB, after "
              f"{hwm1} KiB: peak grew {(hwm1 - hwm0) / 1024:.1f} MiB; "
              f"backlog answered in {drained:.1f} s {res}; next command "
              f"{r['status']} in {nxt * 1000:.0f} ms; alive "
              f"{env.agent.alive()}")
    finally:
        if pub:
            pub.close()
        env.close()


def bench_discovery():
    tmp = tempfile.mkdtemp(prefix="zbbench-")
    broker = zbtest.Broker(tmp).start()
    try:
        c = zbtest.Client(broker.port)
        cmps = ",".join(f'"c{i}":{{"p":"button","name":"button {i:06d} of a retained payload","uniq_id":"zerobmc_bd1_c{i:06d}"}}'
                        for i in range(100000))
        payload = '{"dev":{"ids":"zerobmc_bd1"},"cmps":{' + cmps + '}}'
        c.publish("homeassistant/device/zerobmc_bd1/config", payload,
                  retain=True)
        size = len(payload)
        c.subscribe("zerobmc/bd1/#")
        agent = zbtest.Agent(tmp, broker.port, "bd1", sections={
            "agent": {"max_payload": str(16 << 20)},
            "homeassistant": {"discovery": "true"}}).start()
        try:
            c.wait(lambda m: m["payload"] == b"online", 20, "online")
            t0 = time.time()
            c.publish("zerobmc/bd1/cmd/key", json.dumps(
                {"keys": "a", "id": "d1"}))
            m = c.wait(zbtest.result_for("bd1", "d1"), 30, "key result")
            took = time.time() - t0
            time.sleep(1)
            env = type("E", (), {"client": c, "id": "bd1"})
            st = last_state(env)
            print(f"discovery: {size / 1048576:.1f} MiB retained, 100,000 "
                  f"components: key answered "
                  f"{json.loads(m['payload'])['status']} {took * 1000:.0f} "
                  f"ms after online; state.loop.max_lag_ms "
                  f"{st.get('loop', {}).get('max_lag_ms')}")
        finally:
            agent.stop()
            c.c.publish("homeassistant/device/zerobmc_bd1/config", b"",
                        retain=True).wait_for_publish(5)
            c.close()
    finally:
        broker.stop()
        shutil.rmtree(tmp, True)


def bench_tlslag(cuts=20):
    tmp = tempfile.mkdtemp(prefix="zbbench-")
    pki = tlspki.Pki(tmp)
    port = zbtest.free_port()
    broker = zbtest.Broker(tmp, pki.listener(port)).start()
    zbtest.wait_port(port)
    proxy = mqttproxy.Proxy(port, raw=True)
    try:
        c = zbtest.Client(broker.port)
        c.subscribe("zerobmc/bt1/#")
        agent = zbtest.Agent(tmp, broker.port, "bt1", sections={"mqtt": {
            "uri": f"mqtts://127.0.0.1:{proxy.port}",
            "ca_file": pki.path("ca.crt")}}).start()

        def onlines():
            with c.lock:
                return sum(1 for m in c.msgs if m["payload"] == b"online")
        try:
            c.wait(lambda m: m["payload"] == b"online", 20, "online")
            time.sleep(0.5)
            env = type("E", (), {"client": c, "id": "bt1"})
            c.publish("zerobmc/bt1/cmd/refresh", json.dumps({"id": "r0"}))
            time.sleep(0.5)
            before = last_state(env).get("loop", {})
            t0 = time.time()
            for i in range(cuts):
                n = onlines()
                proxy.cut()
                while onlines() == n:
                    time.sleep(0.02)
            took = time.time() - t0
            c.publish("zerobmc/bt1/cmd/refresh", json.dumps({"id": "r1"}))
            time.sleep(0.5)
            after = last_state(env).get("loop", {})
            where = os.environ.get("ZEROBMC_WRAPPER") or "x86-64, native"
            print(f"tlslag: {cuts} TLS reconnects in {took:.1f} s "
                  f"({where}); state.loop.max_lag_ms "
                  f"{before.get('max_lag_ms')} after the first connect, "
                  f"{after.get('max_lag_ms')} after the reconnects; "
                  f"max_busy_ms {before.get('max_busy_ms')}, then "
                  f"{after.get('max_busy_ms')}")
        finally:
            agent.stop()
            c.close()
    finally:
        proxy.close()
        broker.stop()
        shutil.rmtree(tmp, True)


def bench_console(n=20000, restarts=10):
    env = tc.ConsoleEnv(broker_conf=tc.PERSIST_CONF)
    sub = None
    try:
        sub = tc.Lines(env.broker.port, f"{tc.BASE}/console",
                       client_id=f"bench-{os.getpid()}", clean=False)
        done = threading.Event()

        def writer():
            for i in range(0, n, 20):
                tc.write_all(env.pty.fd, b"".join(
                    b"rs %06d\r\n" % k for k in range(i, min(i + 20, n))))
                time.sleep(0.01)
            done.set()

        t0 = time.time()
        t = threading.Thread(target=writer)
        t.start()
        for _ in range(restarts):
            time.sleep(0.6)
            env.broker.stop()
            time.sleep(0.2)
            env.broker.start()
        t.join()
        wrote = time.time() - t0
        # The agent's reconnect back-off grows while restarts come faster
        # than it subscribes: wait for a quiet spell longer than it.
        payloads = sub.wait_idle(quiet=20, timeout=300)
        missing, lost, dups = tcr.check_sequence(payloads, n, b"rs ")
        print(f"console: {n} lines written in {wrote:.1f} s "
              f"({n / wrote:.0f} lines/s), {restarts} broker restarts: "
              f"{missing} missing, {lost} counted by markers, {dups} "
              f"received twice")
    finally:
        if sub:
            sub.close()
        env.close()


if __name__ == "__main__":
    which = sys.argv[1:] or ["backlog", "discovery", "tlslag", "console"]
    for w in which:
        globals()[f"bench_{w}"]()
