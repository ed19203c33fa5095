"""The example Node-RED flow, for real: node-red 4 from npm (cached),
started headless with ha-integration/examples/node-red-flow.json pointed
at the test broker, its inject nodes fired through the admin HTTP API.
The real agent must type what the flow commanded, and the flow's own
`mqtt in` node for results must see the result (a file node added for
the test records what it saw).

Skips (with the reason) only when npm is missing or the npm registry
cannot be reached. ZB_NPM_CACHE chooses the cache folder (default
tests/.cache/node-red in the source tree).
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
import urllib.error
import urllib.request

import paho.mqtt.client as paho
from paho.mqtt.subscribeoptions import SubscribeOptions

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402
from test_reinstall import ReinstallEnv  # noqa: E402

SOURCE = os.path.abspath(os.environ.get("ZB_SOURCE") or os.path.join(
    os.path.dirname(__file__), "..", ".."))
FLOW = os.path.join(SOURCE, "ha-integration", "examples",
                    "node-red-flow.json")
CACHE = os.environ.get("ZB_NPM_CACHE") or os.path.join(
    SOURCE, "tests", ".cache", "node-red")
RED_JS = os.path.join(CACHE, "node_modules", "node-red", "red.js")
AGENT_ID = "nuc"  # the id the example flow's topics use
INSTALLER = "debian-12-preseed.iso"  # the image the Reinstall inject names


def install_node_red():
    """node-red@4 into CACHE; returns None, or why the test must skip."""
    if os.path.exists(RED_JS):
        return None
    npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        return "npm/node not installed (apt-get install nodejs npm)"
    os.makedirs(CACHE, exist_ok=True)
    r = subprocess.run([npm, "install", "--prefix", CACHE, "--no-audit",
                        "--no-fund", "--no-save", "--loglevel=error",
                        "node-red@4"], capture_output=True, text=True,
                       timeout=600)
    if r.returncode == 0 and os.path.exists(RED_JS):
        return None
    ping = subprocess.run([npm, "ping"], capture_output=True, text=True,
                          timeout=60)
    if ping.returncode != 0:
        return ("npm registry unreachable (npm ping: "
                f"{(ping.stderr or ping.stdout).strip()[:200]})")
    raise RuntimeError(f"npm install node-red@4 failed:\n{r.stderr[-2000:]}")


class NodeRedTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = install_node_red()
        if why:
            raise unittest.SkipTest(why)
        cls.tmp = tempfile.mkdtemp(prefix="zbnodered-")
        cls.red = None
        # The agent of test_boot (a UDC state file, a LUN folder, the
        # images), with a stand-in server only while a test serves it.
        cls.env = ReinstallEnv(AGENT_ID, firmware="ovmf", positions=1,
                               boot_extra={"timeout_s": "5"})
        try:
            installer = os.path.join(cls.env.images, INSTALLER)
            os.rename(cls.env.image, installer)
            os.truncate(installer, 1 << 20)  # a CD-ROM: 300 blocks at least
            cls.env.image = installer
            cls.env.wait_online()
            cls._start_red()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def _start_red(cls):
        with open(FLOW) as f:
            flow = json.load(f)
        cls.results = os.path.join(cls.tmp, "results.jsonl")
        for n in flow:
            if n["type"] == "mqtt-broker":
                n["broker"] = "127.0.0.1"
                n["port"] = str(cls.env.broker.port)
            if n["type"] == "debug":
                n["console"] = True
            if n.get("id") == "zb.in.result":
                n["wires"][0].append("zb.test.file")
        # Test only: what the flow's result node saw, one JSON per line.
        flow.append({"id": "zb.test.file", "type": "file", "z": "zb.tab",
                     "name": "test: results", "filename": cls.results,
                     "filenameType": "str", "appendNewline": True,
                     "createDir": True, "overwriteFile": "false",
                     "encoding": "none", "x": 440, "y": 1100, "wires": [[]]})
        userdir = os.path.join(cls.tmp, "userdir")
        os.makedirs(userdir)
        with open(os.path.join(userdir, "flows.json"), "w") as f:
            json.dump(flow, f)
        cls.port = zbtest.free_port()
        cls.red_log = os.path.join(cls.tmp, "node-red.log")
        cls.red_logf = open(cls.red_log, "wb")
        cls.red = subprocess.Popen(
            [shutil.which("node"), RED_JS, "-u", userdir, "-p",
             str(cls.port), "flows.json"], stdout=cls.red_logf,
            stderr=subprocess.STDOUT, start_new_session=True)
        end = time.time() + 90
        while time.time() < end:
            if "Connected to broker" in cls.log():
                return
            if cls.red.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError("node-red did not connect:\n" + cls.log()[-3000:])

    @classmethod
    def log(cls):
        with open(cls.red_log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "red", None) and cls.red.poll() is None:
            os.killpg(cls.red.pid, signal.SIGTERM)
            try:
                cls.red.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(cls.red.pid, signal.SIGKILL)
                cls.red.wait()
        if getattr(cls, "env", None):
            cls.env.close()
        if os.environ.get("ZB_KEEP_TMP"):
            print("kept", cls.tmp)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def inject(self, node_id):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/inject/{node_id}", data=b"",
            method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 200)

    def results_seen(self):
        """How many results the flow's result node saw so far."""
        if not os.path.exists(self.results):
            return 0
        with open(self.results) as f:
            return sum(1 for line in f if line.strip())

    def flow_results(self, pred, timeout=10, skip=0):
        end = time.time() + timeout
        while time.time() < end:
            if os.path.exists(self.results):
                with open(self.results) as f:
                    lines = [x for x in f if x.strip()][skip:]
                    for line in lines:
                        line = line.strip()
                        if line and pred(json.loads(line)):
                            return json.loads(line)
            time.sleep(0.1)
        self.fail("the flow's result node saw nothing matching; log:\n" +
                  self.log()[-2000:])

    def watch_commands(self):
        """A v5 client that sees the retain flag as the flow sent it."""
        seen = []
        c = paho.Client(client_id=f"zb-watch-{time.monotonic_ns()}",
                        protocol=paho.MQTTv5)
        c.on_message = lambda cl, u, m: seen.append((m.topic, m.payload,
                                                     m.retain))
        c.connect("127.0.0.1", self.env.broker.port)
        c.loop_start()
        c.subscribe(f"zerobmc/{AGENT_ID}/cmd/#",
                    options=SubscribeOptions(qos=1, retainAsPublished=True))
        time.sleep(0.5)
        self.addCleanup(lambda: (c.loop_stop(), c.disconnect()))
        return seen

    def test_type_inject(self):
        kb = self.env.agent.keyboard
        kb.reports(until_idle=0.2, timeout=0.3)
        seen = self.watch_commands()
        t0 = time.time()
        self.inject("zb.inj.type")
        res = self.flow_results(lambda r: r.get("cmd") == "type")
        self.assertEqual(res["status"], "ok")
        reports = kb.reports(until_idle=0.3, timeout=5)
        # "zerobmc": z=0x1d e=0x08 r=0x15 o=0x12 b=0x05 m=0x10 c=0x06
        keys = [r[2] for r in reports if r[2]]
        self.assertEqual(keys, [0x1d, 0x08, 0x15, 0x12, 0x05, 0x10, 0x06])
        self.assertIn((f"zerobmc/{AGENT_ID}/cmd/type", b"zerobmc", False),
                      seen)
        print(f"inject to result in the flow: {time.time() - t0:.2f} s")

    def test_key_and_console_injects(self):
        kb = self.env.agent.keyboard
        kb.reports(until_idle=0.2, timeout=0.3)
        self.inject("zb.inj.key")
        self.flow_results(lambda r: r.get("cmd") == "key" and
                          r.get("status") == "ok")
        reports = kb.reports(until_idle=0.3, timeout=5)
        self.assertIn(0x3b, [r[2] for r in reports])  # F2
        self.inject("zb.inj.console")
        self.flow_results(lambda r: r.get("cmd") == "console" and
                          r.get("status") == "ok")
        got = b""
        end = time.time() + 5
        while b"uname -a\r" not in got and time.time() < end:
            got += self.env.console.read_some(0.2)
        self.assertIn(b"uname -a\r", got)

    def test_reinstall_inject(self):
        """The Reinstall inject, as the flow sends it, against test_boot's
        FakeServer (it boots the medium after the reboot chord and reads
        it); the installer's and the installed OS's console lines the
        inject's payload waits for come on the console pty."""
        env = self.env
        srv = env.serve(boots=["media-first"])
        self.addCleanup(lambda: (srv.close(), setattr(env, "server", None)))
        seen = self.watch_commands()
        before = self.results_seen()
        t = time.monotonic()
        self.inject("zb.inj.reinstall")
        env.play_console_install(b"Debian GNU/Linux 12 nuc ttyACM0", after=t)
        res = self.flow_results(lambda r: r.get("cmd") == "reinstall",
                                timeout=30, skip=before)
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(set(res["phases"]),
                         {"boot", "install", "reboot", "os"})
        self.assertEqual(res["boot"]["strategy"], "media-first")
        self.assertEqual(srv.reboots, 2)
        self.assertEqual(env.lun_file(), "")
        sent = [json.loads(p) for tp, p, retain in seen
                if tp == f"zerobmc/{AGENT_ID}/cmd/reinstall" and not retain]
        self.assertEqual([c["media"] for c in sent], [INSTALLER])

    def test_reinstall_cancel_inject(self):
        env = self.env
        srv = env.serve(boots=["media-first"])
        self.addCleanup(lambda: (srv.close(), setattr(env, "server", None)))
        before = self.results_seen()
        t = time.monotonic()
        self.inject("zb.inj.reinstall")
        env.reinstall_state(lambda r: r.get("phase") == "install",
                            after=t)
        self.inject("zb.inj.reinstall.cancel")
        res = self.flow_results(lambda r: r.get("cmd") == "reinstall" and
                                r.get("status") == "cancelled",
                                skip=before)
        self.assertEqual(res["phase"], "install")

    def test_status_and_console_seen_by_flow(self):
        """The flow's status and console `mqtt in` nodes (their debug
        nodes print to Node-RED's log in this test)."""
        end = time.time() + 10
        while "[debug:status] online" not in self.log():
            self.assertLess(time.time(), end, self.log()[-2000:])
            time.sleep(0.1)
        self.env.console.write(b"login: from the server\r\n")
        end = time.time() + 10
        while "[debug:console] login: from the server" not in self.log():
            self.assertLess(time.time(), end, self.log()[-2000:])
            time.sleep(0.1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
