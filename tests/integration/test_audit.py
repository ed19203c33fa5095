"""The audit trail and where results may go, with a real agent and broker.

Every command leaves one line at the default log level naming the
command, its id, topic, response topic, outcome and duration, never the
text typed. Control characters in anything logged are escaped, so a
command id cannot forge a journal line; under systemd (JOURNAL_STREAM
naming stderr) lines carry journald priorities. A response topic that
holds a wildcard, lies under the agents' base topic or under the
discovery prefix is refused with a clear error and nothing is sent there.
"""
import json
import os
import re
import subprocess
import sys
import time
import unittest

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402

ID = "aud1"


def audit_lines(text, cmd_id):
    return [ln for ln in text.splitlines()
            if ln.startswith("zerobmc: info: command ")
            and f'id "{cmd_id}"' in ln]


class Audit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The default level: nothing below info is written.
        cls.env = zbtest.Env(ID, sections={"agent": {"log_level": "info"}})
        cls.env.wait_online()

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def wait_log(self, cmd_id, timeout=5):
        end = time.time() + timeout
        while time.time() < end:
            lines = audit_lines(self.env.agent.log_text(), cmd_id)
            if lines:
                return lines
            time.sleep(0.05)
        self.fail(f"no audit line for {cmd_id}:\n"
                  + self.env.agent.log_text()[-2000:])

    def test_every_command_logged_never_the_text(self):
        secret = "hunter2-passphrase"
        cases = [("key", {"keys": "a"}, "ok"),
                 ("type", {"text": secret}, "ok"),
                 ("key", {"keys": "nosuchkey"}, "error: unknown key name"),
                 ("nosuch", {}, "error: unknown command"),
                 ("refresh", {}, "ok")]
        for name, payload, outcome in cases:
            r = self.env.cmd(name, payload)
            cid = r["id"]
            lines = self.wait_log(cid)
            self.assertEqual(len(lines), 1, lines)
            m = re.match(r'zerobmc: info: command (\w+) id "([^"]*)" topic '
                         r'(\S+) response (\S+): (.*) \((\d+) ms\)$',
                         lines[0])
            self.assertTrue(m, lines[0])
            self.assertEqual(m.group(1), name)
            self.assertEqual(m.group(2), cid)
            self.assertEqual(m.group(3), f"zerobmc/{ID}/cmd/{name}")
            self.assertEqual(m.group(4), "-")
            self.assertTrue(m.group(5).startswith(outcome), lines[0])
        self.env.agent.keyboard.reports(until_idle=0.3)
        self.assertNotIn(secret, self.env.agent.log_text())

    def test_bad_json_and_bad_name_logged(self):
        self.env.client.publish(f"zerobmc/{ID}/cmd/key", '{"id":"bj1",')
        self.env.client.publish(f"zerobmc/{ID}/cmd/Bad-Name", "x")
        self.env.client.wait(
            lambda m: m["topic"] == f"zerobmc/{ID}/result"
            and json.loads(m["payload"]).get("cmd") == "?", 5)
        end = time.time() + 5
        while time.time() < end:
            text = self.env.agent.log_text()
            if f"topic zerobmc/{ID}/cmd/Bad-Name" in text:
                break
            time.sleep(0.05)
        self.assertIn(f"topic zerobmc/{ID}/cmd/Bad-Name response -: error: "
                      "bad command name", text)
        self.assertIn(f"command key id \"\" topic zerobmc/{ID}/cmd/key "
                      "response -: error:", text)

    def test_control_characters_escaped(self):
        forged = "x\nzerobmc: error: forged\r\x1b[31m"
        self.env.client.publish(f"zerobmc/{ID}/cmd/key",
                                json.dumps({"id": forged, "keys": "a"}))
        self.env.client.wait(zbtest.result_for(ID, forged), 5)
        self.env.agent.keyboard.reports(until_idle=0.3)
        text = self.env.agent.log_text()
        self.assertNotIn("\nzerobmc: error: forged", text)
        self.assertNotIn("\x1b", text)
        self.assertNotIn("\r", text)
        self.assertIn('id "x\\nzerobmc: error: forged\\r\\x1b[31m"', text)

    def test_response_topic_refused(self):
        c = self.env.client
        c.subscribe("#")
        bad = {f"zerobmc/{ID}/status": "agents' base topic",
               "zerobmc/other/cmd/key": "agents' base topic",
               "zerobmc": "agents' base topic",
               "homeassistant/button/zerobmc_x/power/config":
                   "discovery prefix",
               "$SYS/forged": "belong to the broker"}
        for n, (topic, why) in enumerate(bad.items()):
            props = Properties(PacketTypes.PUBLISH)
            props.ResponseTopic = topic
            cid = f"rt{n}"
            c.publish(f"zerobmc/{ID}/cmd/refresh", json.dumps({"id": cid}),
                      properties=props)
            m = c.wait(zbtest.result_for(ID, cid), 5)
            r = json.loads(m["payload"])
            self.assertEqual(r["status"], "error", r)
            self.assertIn("response topic refused", r["error"])
            self.assertIn(why, r["error"])
            line = self.wait_log(cid)[0]
            self.assertIn(f"response {topic} (refused): error:", line)
        time.sleep(0.3)
        for topic in bad:
            got = [m for m in c.msgs if m["topic"] == topic
                   and b'"status"' in m["payload"]]
            self.assertEqual(got, [], topic)
        # Outside those, the answer comes as asked.
        c.subscribe(f"reply/{ID}/me")
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = f"reply/{ID}/me"
        c.publish(f"zerobmc/{ID}/cmd/refresh", '{"id":"rt-ok"}',
                  properties=props)
        m = c.wait(zbtest.topic_is(f"reply/{ID}/me"), 5)
        self.assertEqual(json.loads(m["payload"])["status"], "ok")
        self.assertIn(f"response reply/{ID}/me: ok", self.wait_log("rt-ok")[0])
        self.assertTrue(self.env.agent.alive())


class Journal(unittest.TestCase):
    def test_priorities_when_stderr_is_the_journal(self):
        """JOURNAL_STREAM names stderr: each line starts with <N>."""
        env = zbtest.Env("aud2", sections={"agent": {"log_level": "info"}})
        try:
            env.wait_online()
            env.agent.stop()
            env.client.clear()
            st = os.stat(env.agent.log)
            logf = open(env.agent.log, "ab")
            envv = dict(os.environ,
                        JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
            env.agent.proc = subprocess.Popen(
                [env.agent.binary, "-c", env.agent.conf], stdout=logf,
                stderr=logf, env=envv)
            env.wait_online()
            env.cmd("nosuch", {})
            time.sleep(0.2)
            text = env.agent.log_text()
            self.assertRegex(text, r"\n<6>zerobmc: info: command nosuch ")
        finally:
            env.close()
            logf.close()


if __name__ == "__main__":
    unittest.main()
