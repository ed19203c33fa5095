"""`zerobmc discovery ID` prints the same retained discovery payload the
agent would publish itself, so that an operator can publish it with admin
rights and the Pis run with [homeassistant] discovery = false (and need
no write access to the discovery prefix: see docs/HOME-ASSISTANT.md).
"""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402
from test_boot import BootEnv  # noqa: E402


class DiscoveryCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = zbtest.Env("dcli", console=True)
        cls.env.client.subscribe("homeassistant/#")
        cls.env.wait_online()

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def tool(self, *args):
        return subprocess.run([zbtest.ZEROBMC, "-c", self.env.agent.conf,
                               "discovery"] + list(args),
                              capture_output=True, text=True, timeout=10)

    def test_same_payload_as_the_agent(self):
        topic = "homeassistant/device/zerobmc_dcli/config"
        m = self.env.client.wait(lambda m: m["topic"] == topic and
                                 m["payload"], 10, "discovery")
        r = self.tool()
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 1, r.stdout)
        t, _, payload = lines[0].partition(" ")
        self.assertEqual(t, topic)
        self.assertEqual(json.loads(payload), json.loads(m["payload"]))

    def test_other_id_and_bad_ids(self):
        r = self.tool("nuc")
        self.assertEqual(r.returncode, 0, r.stderr)
        t, _, payload = r.stdout.partition(" ")
        self.assertEqual(t, "homeassistant/device/zerobmc_nuc/config")
        doc = json.loads(payload)
        self.assertTrue(all("zerobmc/nuc/" in json.dumps(c)
                            for c in doc["cmps"].values()))
        for bad in ("group", "a/b", "+", "x" * 65, "a\nb"):
            r = self.tool(bad)
            self.assertEqual(r.returncode, 1, bad)
            self.assertIn("bad id", r.stderr)
            self.assertEqual(r.stdout, "")


class DiscoveryCliBoot(unittest.TestCase):
    """An agent with virtual media, the UDC state and both reinstall
    signals offers cmd/boot and cmd/reinstall: the printed payload has
    their entities too (it had none before: the tool guessed the features
    with a copy of the agent's code that lacked them)."""

    def test_boot_and_reinstall_entities(self):
        env = BootEnv("dcliboot", extra_sections={"reinstall": {
            "done_console": "installer done", "os_usb": "true"}})
        self.addCleanup(env.close)
        env.client.subscribe("homeassistant/#")
        topic = "homeassistant/device/zerobmc_dcliboot/config"
        # The agent publishes again once its media folder is scanned
        # (the image selects need the list): wait for that payload.
        m = env.client.wait(lambda m: m["topic"] == topic and
                            b'"media"' in m["payload"], 10,
                            "discovery with the media entities")
        agent = json.loads(m["payload"])
        r = subprocess.run([zbtest.ZEROBMC, "-c", env.agent.conf,
                            "discovery"], capture_output=True, text=True,
                           timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        t, _, payload = r.stdout.strip().partition(" ")
        self.assertEqual(t, topic)
        self.assertTrue(any("reinstall" in k for k in agent["cmps"]),
                        sorted(agent["cmps"]))
        self.assertEqual(sorted(json.loads(payload)["cmps"]),
                         sorted(agent["cmps"]))
        self.assertEqual(json.loads(payload), agent)


if __name__ == "__main__":
    unittest.main()
