"""The agent core against a real broker: session, pipeline, results."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402


def nonzero(reports):
    return [r for r in reports if any(r)]


class Core(unittest.TestCase):
    def setUp(self):
        self.env = zbtest.Env("core1", sections={"agent": {"groups": "lab, rack2"}})
        self.addCleanup(lambda: self.env.close())
        self.env.wait_online()

    def test_status_online_is_retained(self):
        late = zbtest.Client(self.env.broker.port)
        late.subscribe("zerobmc/core1/status")
        m = late.wait(zbtest.topic_is("zerobmc/core1/status"), 5)
        late.close()
        self.assertEqual(m["payload"], b"online")
        self.assertTrue(m["retain"])

    def test_state_is_retained_json(self):
        self.env.client.wait(zbtest.topic_is("zerobmc/core1/state"), 5)
        late = zbtest.Client(self.env.broker.port)
        late.subscribe("zerobmc/core1/state")
        m = late.wait(zbtest.topic_is("zerobmc/core1/state"), 5)
        late.close()
        st = json.loads(m["payload"])
        self.assertTrue(m["retain"])
        self.assertIn("version", st)
        self.assertIn("uptime_s", st)
        self.assertEqual(st["keyboard"]["layout"], "us")

    def test_command_sends_one_state_with_its_result(self):
        # The state a command changes (counted, busy and idle again) goes
        # out once, with the result; not again with the same content.
        self.env.client.wait(zbtest.topic_is("zerobmc/core1/state"), 5)
        time.sleep(1.0)
        self.env.client.clear()
        res = self.env.cmd("key", {"keys": "a"})
        self.assertEqual(res["status"], "ok", res)
        # Under qemu-user on a loaded machine the state can trail the
        # result by more than a fixed sleep: wait for it with a deadline,
        # then give a second copy the time to show.
        self.env.client.wait(zbtest.topic_is("zerobmc/core1/state"), 10)
        time.sleep(1.0)
        with self.env.client.lock:
            states = [m for m in self.env.client.msgs
                      if m["topic"] == "zerobmc/core1/state"]
        self.assertEqual(len(states), 1, [m["payload"] for m in states])
        st = json.loads(states[0]["payload"])
        self.assertEqual(st["commands"], 1)
        self.assertFalse(st["keyboard"]["busy"])

    def test_key_ctrl_alt_delete(self):
        res = self.env.cmd("key", {"keys": "ctrl+alt+delete"})
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["cmd"], "key")
        reps = self.env.agent.keyboard.reports(until_idle=0.3)
        full = [r for r in reps if r[2] == 0x4c]
        self.assertTrue(full, reps)
        self.assertEqual(full[0][0], 0x05)
        # The modifiers go out on their own before the key.
        idx = reps.index(full[0])
        self.assertGreater(idx, 0)
        self.assertEqual(reps[idx - 1][2], 0)
        self.assertEqual(reps[-1], bytes(8))

    def test_plain_payload_and_sequence(self):
        self.env.client.publish("zerobmc/core1/cmd/key", "alt+F4 enter")
        m = self.env.client.wait(
            lambda m: m["topic"] == "zerobmc/core1/result", 5)
        self.assertEqual(json.loads(m["payload"])["status"], "ok")
        reps = nonzero(self.env.agent.keyboard.reports(until_idle=0.3))
        usages = [r[2] for r in reps if r[2]]
        self.assertIn(0x3d, usages)  # F4
        self.assertIn(0x28, usages)  # Enter

    def test_type_text(self):
        res = self.env.cmd("type", {"text": "Hi!"})
        self.assertEqual(res["status"], "ok", res)
        reps = self.env.agent.keyboard.reports(until_idle=0.3)
        keys = [(r[0], r[2]) for r in reps if r[2]]
        self.assertEqual(keys[0], (0x02, 0x0b))  # shift+h
        self.assertIn((0x00, 0x0c), keys)  # i
        self.assertIn((0x02, 0x1e), keys)  # shift+1 = !
        self.assertEqual(reps[-1], bytes(8))

    def test_type_unsupported_character_types_nothing(self):
        res = self.env.cmd("type", {"text": "ok \u2603"})
        self.assertEqual(res["status"], "error")
        self.assertIn("position 3", res["error"])
        self.assertEqual(self.env.agent.keyboard.reports(until_idle=0.3), [])

    def test_unknown_key_name(self):
        res = self.env.cmd("key", {"keys": "ctrl+frobnicate"})
        self.assertEqual(res["status"], "error")
        self.assertIn("frobnicate", res["error"])
        self.assertEqual(self.env.agent.keyboard.reports(until_idle=0.3), [])

    def test_retained_command_is_refused(self):
        res = self.env.cmd("key", {"keys": "enter"}, retain=True)
        self.assertEqual(res["status"], "error")
        self.assertIn("retained", res["error"])
        self.assertEqual(self.env.agent.keyboard.reports(until_idle=0.3), [])
        self.env.client.publish("zerobmc/core1/cmd/key", "", retain=True)

    def test_bad_payloads_then_still_answers(self):
        c = self.env.client
        c.publish("zerobmc/core1/cmd/key", '{"keys": "a", "id": "m1"')
        m = c.wait(lambda m: m["topic"] == "zerobmc/core1/result", 5)
        r = json.loads(m["payload"])
        self.assertEqual(r["status"], "error")
        self.assertIn("malformed JSON", r["error"])
        c.clear()
        res = self.env.cmd("frobnicate", {"x": 1})
        self.assertEqual(res["status"], "error")
        self.assertIn("unknown command", res["error"])
        c.clear()
        c.publish("zerobmc/core1/cmd/type", "x" * (64 * 1024 + 1))
        m = c.wait(lambda m: m["topic"] == "zerobmc/core1/result", 5)
        r = json.loads(m["payload"])
        self.assertEqual(r["status"], "error")
        self.assertIn("too large", r["error"])
        c.clear()
        c.publish("zerobmc/core1/cmd/type", b"\xff\xfe bad")
        m = c.wait(lambda m: m["topic"] == "zerobmc/core1/result", 5)
        self.assertIn("UTF-8", json.loads(m["payload"])["error"])
        deep = "{" + '"a":{' * 50 + "}" * 51
        c.clear()
        c.publish("zerobmc/core1/cmd/key", deep)
        m = c.wait(lambda m: m["topic"] == "zerobmc/core1/result", 5)
        self.assertIn("nested", json.loads(m["payload"])["error"])
        res = self.env.cmd("key", {"keys": "a", "bogus": 1})
        self.assertIn("bogus", res["error"])
        res = self.env.cmd("key", {"keys": "a"})
        self.assertEqual(res["status"], "ok")
        self.assertTrue(self.env.agent.alive())

    def test_duplicate_id_runs_once(self):
        c = self.env.client
        for _ in range(2):
            c.publish("zerobmc/core1/cmd/key", '{"id":"dup-1","keys":"a"}')
        c.wait(zbtest.topic_is("zerobmc/core1/result"), 10)
        time.sleep(1.0)
        results = [m for m in c.msgs if m["topic"] == "zerobmc/core1/result"]
        self.assertEqual(len(results), 1)
        reps = nonzero(self.env.agent.keyboard.reports(until_idle=0.3))
        self.assertEqual(len([r for r in reps if r[2] == 0x04]), 1)

    def test_response_topic_and_correlation(self):
        c = self.env.client
        c.subscribe("reply/me")
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = "reply/me"
        props.CorrelationData = b"\x01corr"
        c.publish("zerobmc/core1/cmd/refresh", "", properties=props)
        m = c.wait(zbtest.topic_is("reply/me"), 5)
        self.assertEqual(json.loads(m["payload"])["status"], "ok")
        self.assertEqual(m["props"].CorrelationData, b"\x01corr")

    def test_group_command(self):
        self.env.client.subscribe("zerobmc/group/#")
        self.env.client.publish("zerobmc/group/rack2/cmd/key",
                                '{"id":"g1","keys":"b"}')
        m = self.env.client.wait(zbtest.result_for("core1", "g1"), 5)
        self.assertEqual(json.loads(m["payload"])["status"], "ok")

    def test_reboot_soft_and_hard(self):
        res = self.env.cmd("reboot", {"mode": "soft"})
        self.assertEqual(res["status"], "ok")
        reps = self.env.agent.keyboard.reports(until_idle=0.3)
        self.assertIn(0x4c, [r[2] for r in reps])
        res = self.env.cmd("reboot", {"mode": "hard"})
        self.assertEqual(res["status"], "error")
        self.assertIn("sysrq", res["error"])

    def test_busy_second_keyboard_job(self):
        self.env.client.publish("zerobmc/core1/cmd/type", json.dumps(
            {"id": "long", "text": "a" * 200, "profile": "bios"}))
        res = self.env.cmd("key", {"keys": "b"})
        self.assertEqual(res["status"], "busy")
        m = self.env.client.wait(zbtest.result_for("core1", "long"), 30)
        self.assertEqual(json.loads(m["payload"])["status"], "ok")

    def test_host_not_polling_aborts_with_error(self):
        # Nobody reads the keyboard pty: writes end in EAGAIN, like a
        # host that is off. The job must end with an error, not hang.
        env = self.env
        env.agent.stop()
        env.agent.keyboard.close()
        kb = zbtest.Keyboard()
        agent = zbtest.Agent(env.tmp, env.broker.port, "core1",
                             sections={"keyboard": {"write_timeout_ms": "300"}},
                             keyboard=kb)
        env.agent = agent
        env.client.clear()
        agent.start()
        env.wait_online()
        res = env.cmd("type", {"text": "x" * 20000}, timeout=20)
        self.assertEqual(res["status"], "error")
        self.assertIn("not taking keyboard reports", res["error"])
        self.assertTrue(agent.alive())
        # When the host polls again, an all-released report arrives last.
        reps = kb.reports(timeout=10, until_idle=0.5)
        self.assertEqual(reps[-1], bytes(8))


class Backlog(unittest.TestCase):
    """Results are never dropped when they cannot go out as fast as
    commands come in: the agent stops taking commands instead."""

    def test_burst_after_stall_loses_no_result(self):
        env = zbtest.Env("core2")
        self.addCleanup(env.close)
        env.wait_online()
        c = env.client
        c.subscribe("reply/burst")
        n = 300
        # Stopped, the agent reads nothing; on SIGCONT every command is
        # in one loop round, each answered twice (result topic and
        # response topic) and each republishing the discovery document:
        # far more than Paho's queue and the outbox hold at once.
        env.agent.proc.send_signal(signal.SIGSTOP)
        try:
            for i in range(n):
                props = Properties(PacketTypes.PUBLISH)
                props.ResponseTopic = "reply/burst"
                props.CorrelationData = b"%d" % i
                c.c.publish("zerobmc/core2/cmd/refresh",
                            json.dumps({"id": f"b{i}"}), qos=1,
                            properties=props)
            time.sleep(1.0)
        finally:
            env.agent.proc.send_signal(signal.SIGCONT)
        for i in range(n):
            c.wait(zbtest.result_for("core2", f"b{i}"), 30, f"b{i}")
        end = time.time() + 30
        while True:
            with c.lock:
                replies = {m["props"].CorrelationData for m in c.msgs
                           if m["topic"] == "reply/burst"}
            if len(replies) == n or time.time() > end:
                break
            time.sleep(0.2)
        self.assertEqual(len(replies), n)
        # In arrival order, and the state says nothing was dropped.
        order = [json.loads(m["payload"])["id"] for m in c.msgs
                 if m["topic"] == "zerobmc/core2/result"]
        self.assertEqual(order, [f"b{i}" for i in range(n)])
        c.clear()
        env.cmd("refresh", {})
        st = json.loads(c.wait(zbtest.topic_is("zerobmc/core2/state"),
                               5)["payload"])
        self.assertNotIn("dropped", st["mqtt"], st)
        self.assertTrue(env.agent.alive())


class Lifecycle(unittest.TestCase):
    def test_lwt_after_kill9_and_offline_on_term(self):
        env = zbtest.Env("life1")
        try:
            env.wait_online()
            env.agent.stop(signal.SIGKILL)
            m = env.client.wait(
                lambda m: m["topic"] == "zerobmc/life1/status"
                and m["payload"] == b"offline", 20, "LWT offline")
            self.assertTrue(m["retain"] or True)
            env.client.clear()
            env.agent.start()
            env.wait_online()
            rc = env.agent.stop(signal.SIGTERM)
            self.assertEqual(rc, 0)
            late = zbtest.Client(env.broker.port)
            late.subscribe("zerobmc/life1/status")
            m = late.wait(zbtest.topic_is("zerobmc/life1/status"), 5)
            late.close()
            self.assertEqual(m["payload"], b"offline")
        finally:
            env.close()

    def test_broker_restart_is_survived(self):
        env = zbtest.Env("life2")
        try:
            env.wait_online()
            env.client.close()
            env.broker.stop()
            time.sleep(1.0)
            env.broker.start()
            back = time.monotonic()
            env.client = zbtest.Client(env.broker.port)
            env.client.subscribe("zerobmc/life2/#")
            env.wait_online(timeout=35)
            took = time.monotonic() - back
            print(f"online again {took:.2f} s after the broker came back")
            self.assertLess(took, 5.0)
            res = env.cmd("key", {"keys": "a"})
            self.assertEqual(res["status"], "ok")
        finally:
            env.close()


class ConfigCheck(unittest.TestCase):
    def run_check(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".conf",
                                         delete=False) as f:
            f.write(text)
        try:
            p = subprocess.run([zbtest.ZEROBMC, "-n", "-c", f.name],
                               capture_output=True, text=True)
            return p.returncode, p.stdout + p.stderr, f.name
        finally:
            os.unlink(f.name)

    def test_ok(self):
        rc, out, _ = self.run_check("[agent]\nid = nuc-1\n[mqtt]\n"
                                    "uri = tcp://broker:1883\n")
        self.assertEqual(rc, 0, out)
        self.assertIn("configuration OK", out)

    def test_errors_name_file_line_and_key(self):
        cases = [
            ("[agent]\nid = bad/id\n", ":2: [agent] id", "A-Za-z0-9"),
            ("[agent]\nid = a\ncolour = red\n", ":3: [agent] colour",
             "unknown key"),
            ("[agent]\nid = a\n[nonsense]\nx = 1\n", ":4:", "unknown section"),
            ("[agent]\nid = a\n[mqtt]\nkeepalive = lots\n",
             ":4: [mqtt] keepalive", "not a number"),
            ("[agent]\nid = a\n[mqtt]\nuri = http://x\n", "[mqtt] uri",
             "tcp://"),
            ("[agent]\nid = a\n[mqtt]\nuri = tcp://x:99999\n", "[mqtt] uri",
             "port"),
            ("[agent]\nid = a\n[mqtt]\nca_file = /etc/ca.pem\n",
             "[mqtt] uri", "in clear"),
            ("[mqtt]\nuri = tcp://x\n", "[agent] id", "missing"),
            ("[agent]\nid = a\n[gadget]\nmanage = maybe\n",
             ":4: [gadget] manage", "boolean"),
            ("[agent]\nid = a\n[keyboard]\ndevice = relative/path\n",
             "[keyboard] device", "absolute"),
            ("garbage line\n", ":1:", "syntax"),
        ]
        for text, where, what in cases:
            rc, out, name = self.run_check(text)
            self.assertEqual(rc, 1, text)
            self.assertIn(name, out)
            self.assertIn(where, out, text)
            self.assertIn(what, out, text)

    def test_missing_file(self):
        p = subprocess.run([zbtest.ZEROBMC, "-n", "-c", "/nonexistent.conf"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("/nonexistent.conf", p.stderr)

    def test_version_and_help(self):
        p = subprocess.run([zbtest.ZEROBMC, "-V"], capture_output=True,
                           text=True)
        self.assertEqual(p.returncode, 0)
        self.assertTrue(p.stdout.startswith("zerobmc "))
        p = subprocess.run([zbtest.ZEROBMC, "-h"], capture_output=True,
                           text=True)
        self.assertEqual(p.returncode, 0)
        self.assertIn("-n", p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
