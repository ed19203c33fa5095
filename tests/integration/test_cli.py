"""`zerobmc send`, `list` and `watch` through the real binary against real
agents on a real mosquitto (one broker and three agents for the suite).

Agents: cli1 (groups rackA), cli2 (groups rackA rackB), cli3 (groups rackB,
stopped before the group cases that need an offline member). Exit statuses:
0 ok, 1 error or busy, 2 offline or unknown, 3 timeout, 64 bad usage.
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
import zbtest  # noqa: E402


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zbcli-")
        cls.broker = zbtest.Broker(cls.tmp).start()
        cls.uri = f"tcp://127.0.0.1:{cls.broker.port}"
        cls.client = zbtest.Client(cls.broker.port)
        cls.client.subscribe("zerobmc/+/status")
        cls.agents = {}
        for aid, groups in (("cli1", "rackA"), ("cli2", "rackA rackB"),
                            ("cli3", "rackB")):
            cls.agents[aid] = zbtest.Agent(
                cls.tmp, cls.broker.port, aid,
                sections={"agent": {"groups": groups}}).start()
        for aid in cls.agents:
            cls.client.wait(lambda m, a=aid: m["topic"] ==
                            f"zerobmc/{a}/status" and
                            m["payload"] == b"online", 10, f"{aid} online")
        # The retained state (with the groups) follows the status.
        time.sleep(0.3)
        cls.agents["cli3"].stop()

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        for a in cls.agents.values():
            a.stop()
            a.keyboard.close()
        cls.broker.stop()
        shutil.rmtree(cls.tmp, True)

    def run_cli(self, *args, timeout=20):
        p = subprocess.run([zbtest.ZEROBMC] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def send(self, *args):
        return self.run_cli("send", "-b", self.uri, *args)

    def test_send_ok_plain_and_json(self):
        rc, out, err = self.send("cli1", "key", "enter")
        self.assertEqual((rc, out), (0, "cli1 key: ok\n"), err)
        self.assertEqual(len(self.agents["cli1"].keyboard.reports(
            2, timeout=3)), 2)
        rc, out, err = self.send("--json", "cli1", "key",
                                 '{"keys":"a","id":"mine-1"}')
        self.assertEqual(rc, 0, err)
        line = json.loads(out)
        self.assertEqual(line["agent"], "cli1")
        self.assertEqual(line["result"]["id"], "mine-1")
        self.assertEqual(line["result"]["status"], "ok")

    def test_send_error_is_1_with_the_reason(self):
        rc, out, err = self.send("cli1", "key", "ctrl+frobnicate")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("error", out)
        self.assertIn("frobnicate", out)
        rc, out, err = self.send("cli1", "nosuchcmd")
        self.assertEqual(rc, 1)
        self.assertIn('unknown command "nosuchcmd"', out)

    def test_send_offline_and_unknown_are_2(self):
        rc, out, err = self.send("cli3", "key", "enter")
        self.assertEqual(rc, 2, out + err)
        self.assertIn("cli3 is offline", err)
        rc, out, err = self.send("ghost", "key", "enter")
        self.assertEqual(rc, 2, out + err)
        self.assertIn("unknown", err)

    def test_send_timeout_is_3(self):
        # A stopped (SIGSTOP) agent is online for the broker but never
        # answers.
        a = self.agents["cli2"]
        a.proc.send_signal(signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            rc, out, err = self.send("-t", "0.7", "cli2", "key", "enter")
            took = time.monotonic() - t0
        finally:
            a.proc.send_signal(signal.SIGCONT)
        self.assertEqual(rc, 3, out + err)
        self.assertIn("no result within 0.7 s", err)
        self.assertLess(took, 5)

    def test_bad_usage_is_64(self):
        for args in (("send",), ("send", "cli1"),
                     ("send", "bad/id", "key", "x"),
                     ("send", "-t", "soon", "cli1", "key", "x"),
                     ("send", "-g", "a+b", "key", "{}"),
                     ("send", "cli1", "key", "{not json"),
                     ("list", "extra"), ("watch",), ("nosuchtool",)):
            rc, out, err = self.run_cli(*args)
            self.assertIn(rc, (64, 2) if args[0] == "nosuchtool" else (64,),
                          f"{args}: {rc} {out} {err}")
            self.assertTrue(err.strip(), args)

    def test_unreachable_broker_is_1(self):
        rc, out, err = self.run_cli("send", "-b",
                                    f"tcp://127.0.0.1:{zbtest.free_port()}",
                                    "cli1", "key", "enter")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("refused", err)

    def test_group_send_reports_who_did_not_answer(self):
        rc, out, err = self.send("--json", "-t", "3", "--group", "rackB",
                                 "key", '{"keys":"enter"}')
        lines = {j["agent"]: j["send"] for j in map(json.loads,
                                                     out.splitlines())}
        self.assertEqual(set(lines), {"cli2", "cli3"}, out + err)
        self.assertEqual(lines["cli2"]["answer"], "ok")
        self.assertEqual(lines["cli2"]["result"]["status"], "ok")
        self.assertEqual(lines["cli3"]["answer"], "offline")
        self.assertEqual(rc, 2)
        rc, out, err = self.send("--group", "rackA", "key", '{"keys":"b"}')
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out, r"cli1 +\d+ ms +key: ok")
        self.assertRegex(out, r"cli2 +\d+ ms +key: ok")
        rc, out, err = self.send("--group", "rackA", "key", "enter")
        self.assertEqual(rc, 64)
        self.assertIn("JSON", err)
        rc, out, err = self.send("--group", "nobody", "key", "{}")
        self.assertEqual(rc, 2)

    def test_list(self):
        rc, out, err = self.run_cli("list", "-b", self.uri, "--json")
        self.assertEqual(rc, 0, err)
        agents = {j["agent"]: j for j in map(json.loads, out.splitlines())}
        self.assertEqual(set(agents), {"cli1", "cli2", "cli3"})
        self.assertEqual(agents["cli1"]["online"], "online")
        self.assertEqual(agents["cli3"]["online"], "offline")
        self.assertEqual(agents["cli1"]["version"],
                         agents["cli2"]["version"])
        self.assertGreater(agents["cli1"]["last_seen"], time.time() - 600)
        self.assertIn("power", agents["cli1"])
        rc, out, err = self.run_cli("list", "-b", self.uri)
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"(?m)^cli1 +online ")
        self.assertRegex(out, r"(?m)^cli3 +offline ")
        self.assertIn("3 agents", out)

    def test_watch_shows_events_and_results(self):
        p = subprocess.Popen([zbtest.ZEROBMC, "watch", "-b", self.uri, "cli1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        try:
            time.sleep(0.5)
            rc, out, err = self.send("cli1", "type",
                                     '{"text":"hi","id":"w-1"}')
            self.assertEqual(rc, 0, err)
            time.sleep(0.3)
        finally:
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=5)
        self.assertEqual(p.returncode, 0, err)
        self.assertRegex(out, r"status +online \(retained\)")
        self.assertRegex(out, r"result +type ok \(id w-1\)")
        self.assertRegex(out, r"event +agent command")

    def complete(self, line):
        """What bash completion offers for `line` (the word being typed
        is its last, possibly empty, word)."""
        src = os.path.join(os.path.dirname(__file__), "..", "..",
                           "packaging", "zerobmc.bash-completion")
        bindir = os.path.dirname(os.path.abspath(zbtest.ZEROBMC))
        words = line.split(" ")
        script = (f"source {src}\n"
                  f"COMP_WORDS=({' '.join(repr(w) for w in words)})\n"
                  f"COMP_CWORD={len(words) - 1}\n"
                  "_zerobmc\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
        p = subprocess.run(["bash", "-c", script], capture_output=True,
                           text=True, timeout=20,
                           env=dict(os.environ, PATH=bindir + ":" +
                                    os.environ["PATH"]))
        return set(p.stdout.split())

    def test_bash_completion(self):
        self.assertEqual(self.complete("zerobmc se"), {"send"})
        self.assertEqual(self.complete(f"zerobmc send -b {self.uri} cli"),
                         {"cli1", "cli2", "cli3"})
        self.assertIn("media", self.complete(
            f"zerobmc send -b {self.uri} cli1 "))
        self.assertIn("--group", self.complete("zerobmc send --g"))

    def test_help_is_complete(self):
        for tool in ("send", "list", "watch"):
            rc, out, err = self.run_cli(tool, "--help")
            self.assertEqual(rc, 0)
            self.assertIn("Exit status", out)
            self.assertIn("-b URI", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
