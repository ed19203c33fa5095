"""Two brokers and one agent: failover between the URIs of [mqtt] uri, and
a quick stop.

Stand-ins as everywhere: real mosquittos on free loopback ports, the real
binary, a pty for the keyboard.

- An idle agent told to stop (SIGTERM) exits well before its 2 s grace for
  the broker: the disconnect is sent once "offline" is acknowledged, so
  Paho's 3 s timeout sweep never has to end the session.
- Failover: with uri = "A B", the agent is online on A; A is killed; the
  agent is online on B within 2 x keepalive, answers a command there and
  has republished its retained state and discovery on B; then B is killed
  with A back, and the same holds the other way.
"""
import json
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402

KEEPALIVE = 5


class StopTest(unittest.TestCase):
    def test_idle_stop_is_quick(self):
        env = zbtest.Env("stop1")
        try:
            env.wait_online()
            t0 = time.monotonic()
            rc = env.agent.stop()
            took = time.monotonic() - t0
            self.assertEqual(rc, 0, env.agent.log_text())
            # The 2 s grace is for a broker that does not answer; this
            # one does, so the stop must not wait for it.
            self.assertLess(took, 1.0, "idle stop took %.3f s" % took)
            env.client.wait(lambda m: m["topic"] == "zerobmc/stop1/status"
                            and m["payload"] == b"offline", 5, "offline")
            print("idle stop: %.0f ms" % (took * 1000), file=sys.stderr)
        finally:
            env.close()
            env.broker.stop()
            shutil.rmtree(env.tmp, True)


def sparse(path, size):
    with open(path, "wb") as f:
        f.truncate(size)


class FailoverTest(unittest.TestCase):
    """One agent, brokers A and B on fixed ports (A restarts on its own)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zbfail-")
        cls.a = zbtest.Broker(cls.tmp).start()
        cls.b = zbtest.Broker(cls.tmp).start()
        images, lun = zbtest.media_dirs(cls.tmp)
        sparse(os.path.join(images, "debian-12.iso"), 1 << 20)
        uris = (f"tcp://127.0.0.1:{cls.a.port} "
                f"tcp://127.0.0.1:{cls.b.port}")
        cls.agent = zbtest.Agent(cls.tmp, cls.a.port, "fo1", sections={
            "mqtt": {"uri": uris, "keepalive": str(KEEPALIVE)},
            "media": {"dir": images, "lun": lun,
                      "state_file": os.path.join(cls.tmp, "media.state")}})
        cls.agent.start()

    @classmethod
    def tearDownClass(cls):
        cls.agent.stop()
        cls.agent.keyboard.close()
        cls.a.stop()
        cls.b.stop()
        if not os.environ.get("ZB_KEEP_TMP"):
            shutil.rmtree(cls.tmp, True)

    def serving(self, broker, since):
        """A fresh client on broker: the agent is online there (the time
        it took from `since`), with its retained state (media inserted,
        broker named) and discovery, and it answers a command."""
        c = zbtest.Client(broker.port)
        try:
            c.subscribe("zerobmc/fo1/#")
            c.subscribe("homeassistant/device/zerobmc_fo1/config")
            c.wait(lambda m: m["topic"] == "zerobmc/fo1/status"
                   and m["payload"] == b"online", 2 * KEEPALIVE + 2,
                   "online on the other broker")
            took = time.monotonic() - since
            cid = f"fo-{time.monotonic_ns()}"
            c.publish("zerobmc/fo1/cmd/key",
                      json.dumps({"keys": "enter", "id": cid}))
            res = json.loads(c.wait(zbtest.result_for("fo1", cid), 5,
                                    "result")["payload"])
            self.assertEqual(res["status"], "ok", res)
            c.wait(lambda m: m["topic"].startswith("homeassistant/")
                   and m["payload"], 5, "discovery")
        finally:
            c.close()
        # What a newcomer finds retained on this broker.
        c = zbtest.Client(broker.port)
        try:
            c.subscribe("zerobmc/fo1/state")
            c.subscribe("homeassistant/device/zerobmc_fo1/config")
            st = c.wait(lambda m: m["topic"] == "zerobmc/fo1/state", 5,
                        "retained state")
            self.assertTrue(st["retain"])
            state = json.loads(st["payload"])
            self.assertEqual(state["mqtt"]["broker"],
                             f"127.0.0.1:{broker.port}")
            self.assertEqual(state["media"]["image"], "debian-12.iso")
            disc = c.wait(lambda m: m["topic"].startswith("homeassistant/")
                          and m["payload"], 5, "retained discovery")
            self.assertTrue(disc["retain"])
            return took
        finally:
            c.close()

    def test_failover_both_ways(self):
        c = zbtest.Client(self.a.port)
        c.subscribe("zerobmc/fo1/#")
        c.wait(lambda m: m["topic"] == "zerobmc/fo1/status"
               and m["payload"] == b"online", 10, "online on A")
        cid = "insert-1"
        c.publish("zerobmc/fo1/cmd/media",
                  json.dumps({"image": "debian-12.iso", "id": cid}))
        res = json.loads(c.wait(zbtest.result_for("fo1", cid), 10,
                                "media result")["payload"])
        self.assertEqual(res["status"], "ok", res)
        c.close()

        t0 = time.monotonic()
        self.a.stop()
        took = self.serving(self.b, t0)
        print("A -> B: online in %.2f s" % took, file=sys.stderr)
        self.assertLess(took, 2 * KEEPALIVE)

        self.a.start()
        t0 = time.monotonic()
        self.b.stop()
        took = self.serving(self.a, t0)
        print("B -> A: online in %.2f s" % took, file=sys.stderr)
        self.assertLess(took, 2 * KEEPALIVE)
        self.assertIn(f"connected to 127.0.0.1:{self.b.port}",
                      self.agent.log_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
