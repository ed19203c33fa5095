"""The agent against a second broker implementation: RabbitMQ 3.10 with
its MQTT plugin (Debian's rabbitmq-server), which speaks MQTT 3.1.1 only,
so the agent's fallback from MQTT 5 is exercised for real.

One throwaway node (tests/rabbitmq/rabbit.py: loopback ports, its own
folder and epmd) and one agent for the whole suite, in order:
  - the agent connects (MQTT 3.1.1 after MQTT 5 is refused) and its status
    "online" and its state are retained;
  - a command is answered on the result topic, by the agent and through
    `zerobmc send` (JSON; a plain payload is refused with the reason);
  - after a restart of the node the agent is back online;
  - killed (SIGKILL), its last will "offline" is published, retained.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "integration"))
import rabbit  # noqa: E402
import zbtest  # noqa: E402
import paho.mqtt.client as paho  # noqa: E402


class RabbitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not rabbit.available():
            raise RuntimeError("rabbitmq-server is not installed: "
                               "scripts/deps installs it")
        cls.tmp = tempfile.mkdtemp(prefix="zbrabbit-")
        cls.r = rabbit.Rabbit(cls.tmp)
        t0 = time.monotonic()
        cls.r.start()
        print("RabbitMQ node up in %.1f s" % (time.monotonic() - t0),
              file=sys.stderr)
        cls.agent = zbtest.Agent(cls.tmp, cls.r.mqtt_port, "rb1", sections={
            "mqtt": {"keepalive": "5"}})
        cls.agent.start()

    @classmethod
    def tearDownClass(cls):
        cls.agent.stop()
        cls.agent.keyboard.close()
        cls.r.stop()
        cls.r.kill_epmd()
        if not os.environ.get("ZB_KEEP_TMP"):
            shutil.rmtree(cls.tmp, True)

    def client(self):
        c = zbtest.Client(self.r.mqtt_port, protocol=paho.MQTTv311)
        c.subscribe("zerobmc/rb1/#")
        return c

    def retained(self, topic, timeout=10, pred=lambda m: True):
        """What a newcomer finds retained on topic."""
        c = zbtest.Client(self.r.mqtt_port, protocol=paho.MQTTv311)
        try:
            c.subscribe(topic)
            return c.wait(lambda m: m["topic"] == topic and m["retain"]
                          and pred(m), timeout, f"retained {topic}")
        finally:
            c.close()

    def wait_online(self, timeout):
        end = time.monotonic() + timeout
        while True:
            try:
                return self.retained("zerobmc/rb1/status", 2,
                                     lambda m: m["payload"] == b"online")
            except TimeoutError:
                if time.monotonic() > end:
                    raise

    def test_1_online_retained_over_mqtt_311(self):
        self.wait_online(20)
        st = json.loads(self.retained("zerobmc/rb1/state")["payload"])
        self.assertEqual(st["mqtt"]["protocol"], 4)
        self.assertIn("MQTT 3.1.1", self.agent.log_text())

    def test_2_commands_answered(self):
        c = self.client()
        try:
            c.publish("zerobmc/rb1/cmd/key",
                      json.dumps({"keys": "enter", "id": "rb-1"}))
            res = json.loads(c.wait(zbtest.result_for("rb1", "rb-1"), 10,
                                    "result")["payload"])
            self.assertEqual(res["status"], "ok", res)
            c.publish("zerobmc/rb1/cmd/key", "ctrl+nokey")
            res = json.loads(c.wait(
                lambda m: m["topic"] == "zerobmc/rb1/result" and
                b"nokey" in m["payload"], 10, "error result")["payload"])
            self.assertEqual(res["status"], "error")
        finally:
            c.close()
        uri = f"tcp://127.0.0.1:{self.r.mqtt_port}"
        p = subprocess.run([zbtest.ZEROBMC, "send", "-b", uri, "rb1", "key",
                            '{"keys":"a"}'], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual((p.returncode, p.stdout), (0, "rb1 key: ok\n"),
                         p.stderr)
        p = subprocess.run([zbtest.ZEROBMC, "send", "-b", uri, "rb1", "key",
                            "a"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn("MQTT 3.1.1", p.stderr)

    def connections(self):
        return self.agent.log_text().count("connected to 127.0.0.1")

    def test_3_back_after_a_restart(self):
        before = self.connections()
        self.r.stop()
        t0 = time.monotonic()
        self.r.start()
        up = time.monotonic() - t0
        # The node keeps retained messages on disk, so its "online" is
        # the old one: the agent's own log says when it is back. Back-off
        # after losing the broker: 1 s doubling, +-20 %.
        end = time.monotonic() + 40
        while self.connections() == before:
            self.assertLess(time.monotonic(), end, self.agent.log_text())
            time.sleep(0.1)
        print("back online %.1f s after the node's return (it took %.1f s "
              "to start)" % (time.monotonic() - t0 - up, up),
              file=sys.stderr)
        c = self.client()
        try:
            # Subscribed again only once the CONNACK and SUBACK are in:
            # a command tried until the first answer.
            for i in range(20):
                c.publish("zerobmc/rb1/cmd/key",
                          json.dumps({"keys": "enter", "id": f"rb-2-{i}"}))
                try:
                    c.wait(zbtest.result_for("rb1", f"rb-2-{i}"), 0.5,
                           "result")
                    break
                except TimeoutError:
                    pass
            else:
                self.fail("no result after the restart")
        finally:
            c.close()

    def test_4_last_will(self):
        self.wait_online(20)
        self.agent.stop(signal.SIGKILL)
        # The node notices the dead TCP connection at once (RST).
        self.retained("zerobmc/rb1/status", 20,
                      lambda m: m["payload"] == b"offline")


if __name__ == "__main__":
    unittest.main(verbosity=2)
