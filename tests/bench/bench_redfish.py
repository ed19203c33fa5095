#!/usr/bin/python3
"""Redfish gateway benchmark: GET and Reset latency with 100 systems.

Set-up: one mosquitto (set_tcp_nodelay), the real zerobmc-redfish over
HTTPS (keep-alive; libmicrohttpd with GnuTLS), 10 real agents
(no power pins: GracefulRestart is their keyboard's Ctrl+Alt+Delete, read
off their pseudo-terminals by a drain thread) and 90 more systems whose
retained status and state the benchmark publishes itself and whose
commands one MQTT 5 client answers at once on the response topic (so the
gateway's fleet, allow-list and request/response paths see 100 systems;
the 90 cost nothing of the agent's own).

1. GET /redfish/v1/Systems/<id>, round-robin over the 100 systems, on one
   keep-alive connection: with a session token (X-Auth-Token), and with
   HTTP Basic (a SHA-512 crypt(3) check, 5000 rounds, per request).
2. POST .../Actions/ComputerSystem.Reset {"ResetType":"GracefulRestart"}
   with a session token: to the 10 real agents (HTTP → MQTT command →
   agent types Ctrl+Alt+Delete → result on the response topic → 204), and
   to the 90 stand-ins (the gateway and MQTT round trip alone).

Latency is the client's wall clock per request (time.perf_counter around
request + read of the answer). Everything runs on this machine; its load
counts.

Run: /usr/bin/python3 tests/bench/bench_redfish.py [gets] [resets]
(ZB_BUILD names the build folder.)
"""
import json
import os
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import rfenv  # noqa: E402
import zbtest  # noqa: E402

import paho.mqtt.client as paho  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402

REAL = [f"real{i:02d}" for i in range(10)]
STAND = [f"stand{i:02d}" for i in range(90)]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def show(name, xs):
    ms = [x * 1000 for x in xs]
    print(f"{name:44s} n={len(ms):5d}  p50 {pct(ms, 50):7.2f} ms  "
          f"p99 {pct(ms, 99):7.2f} ms  mean {statistics.mean(ms):7.2f} ms")


class Stands:
    """The 90 systems without an agent: retained status/state, and every
    command answered ok at once on its response topic."""

    def __init__(self, port):
        self.c = zbtest.Client(port)
        self.c.c.on_message = self.on_cmd
        self.c.subscribe("zerobmc/+/cmd/#")
        st = json.dumps({"power": {"state": "on", "wired": {
            "power": False, "reset": False, "led": False}}})
        for sid in STAND:
            self.c.publish(f"zerobmc/{sid}/state", st, retain=True)
            self.c.publish(f"zerobmc/{sid}/status", "online", retain=True)

    def on_cmd(self, client, userdata, msg):
        if not msg.topic.split("/")[1].startswith("stand"):
            return
        p = msg.properties
        body = json.loads(msg.payload)
        props = paho.Properties(PacketTypes.PUBLISH)
        props.CorrelationData = p.CorrelationData
        client.publish(p.ResponseTopic, json.dumps(
            {"id": body["id"], "cmd": msg.topic.rsplit("/", 1)[1],
             "status": "ok"}), qos=1, properties=props)

    def close(self):
        for sid in STAND:
            self.c.publish(f"zerobmc/{sid}/status", "", retain=True)
            self.c.publish(f"zerobmc/{sid}/state", "", retain=True)
        self.c.close()


def drain(env, stop):
    while not stop.is_set():
        for a in env.agents.values():
            a.keyboard.read_some(0.001)


def main():
    gets = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    resets = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(k, None)
    env = rfenv.RedfishEnv(agents=REAL, tls=True, wired=False,
                           extra_redfish={"log_level": "warn"})
    stands = Stands(env.broker.port)
    stop = threading.Event()
    t = threading.Thread(target=drain, args=(env, stop), daemon=True)
    t.start()
    try:
        env.wait(lambda: env.request("GET", "/redfish/v1/Systems")[2][
            "Members@odata.count"] == 100, 30, "100 systems")
        env.wait_systems(REAL, timeout=30)
        st, h, _ = env.request(
            "POST", "/redfish/v1/SessionService/Sessions",
            {"UserName": "admin", "Password": rfenv.PASSWORDS["admin"]},
            user=None)
        tok = {"X-Auth-Token": h["x-auth-token"]}
        ids = REAL + STAND
        print(__doc__.split("\n\n")[1])
        for label, user, hdr, n in (
                ("GET System, session token", None, tok, gets),
                ("GET System, HTTP Basic (crypt per request)", "admin",
                 None, gets // 4)):
            conn = env.conn()
            xs = []
            for i in range(n):
                t0 = time.perf_counter()
                st, _, _ = env.request("GET", f"/redfish/v1/Systems/"
                                       f"{ids[i % 100]}", user=user,
                                       headers=hdr, conn=conn)
                xs.append(time.perf_counter() - t0)
                assert st == 200, st
            conn.close()
            show(label, xs)
        for label, group in (("Reset GracefulRestart, real agent", REAL),
                             ("Reset GracefulRestart, stand-in", STAND)):
            conn = env.conn()
            xs = []
            for i in range(resets):
                sid = group[i % len(group)]
                t0 = time.perf_counter()
                st, _, b = env.request(
                    "POST", f"/redfish/v1/Systems/{sid}/Actions/"
                    "ComputerSystem.Reset", {"ResetType": "GracefulRestart"},
                    user=None, headers=tok, conn=conn)
                xs.append(time.perf_counter() - t0)
                assert st == 204, (st, b)
            conn.close()
            show(label, xs)
    finally:
        stop.set()
        t.join()
        stands.close()
        env.close()


if __name__ == "__main__":
    main()
