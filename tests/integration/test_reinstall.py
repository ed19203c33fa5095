"""cmd/reinstall through the real agent and broker: boot the installer
with proof, the installer's done signal (a console line, or a marker file
written into the image with mcopy as the installer would), eject, reboot,
the installed OS's signal (a console line, or its USB driver's late
re-enumeration).

Stand-ins as in test_boot.py: a UDC state file, a LUN folder, a keyboard
pty read by test_boot.FakeServer, and a console pty the test writes the
server's lines to.
"""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from test_boot import BootEnv  # noqa: E402

MT = dict(os.environ, MTOOLS_SKIP_CHECK="1")


class ReinstallEnv(BootEnv):
    def reinstall_state(self, pred, timeout=15, after=0.0):
        """The first state.reinstall matching pred, of the states
        received after the monotonic time `after`."""
        def match(m):
            if m["topic"] != f"zerobmc/{self.id}/state" or m["t"] <= after:
                return False
            return pred(json.loads(m["payload"]).get("reinstall") or {})
        m = self.client.wait(match, timeout, "state.reinstall")
        return json.loads(m["payload"])["reinstall"]

    def play_console_install(self, os_line, after=0.0):
        """The server's side of a reinstall with console signals: the
        installer, booted from the medium, says it is done; once the
        medium is ejected, the installed OS prints os_line."""
        self.reinstall_state(lambda r: r.get("phase") == "install",
                             after=after)
        if self.lun_file() != self.image:
            raise AssertionError(f"installing without {self.image}")
        self.console.write(b"zerobmc-installer: writing OS B\r\n")
        time.sleep(0.3)
        self.console.write(b"zerobmc-installer: done\r\n")
        self.reinstall_state(lambda r: r.get("phase") == "os", after=after)
        # Ejected before the reboot, so the disk boots.
        if self.lun_file():
            raise AssertionError("the medium is still in: "
                                 + self.lun_file())
        time.sleep(0.5)
        self.console.write(os_line + b"\r\n")

    def start(self, payload):
        self.seq += 1
        cid = f"r{self.seq}"
        self.client.publish(f"zerobmc/{self.id}/cmd/reinstall",
                            json.dumps(dict(payload, id=cid)))
        return cid

    def lun_file(self):
        with open(os.path.join(self.lun, "file")) as f:
            return f.read().strip()


class Reinstall(unittest.TestCase):
    def env(self, **kw):
        name = "ri%s%d" % (self._testMethodName[-8:].replace("_", ""),
                           len(self._cleanups))
        env = ReinstallEnv(name, firmware="ovmf", positions=1, **kw)
        self.addCleanup(env.close)
        env.wait_online()
        return env

    def test_console_signals(self):
        env = self.env()
        srv = env.serve(boots=["media-first"])
        cid = env.start({"media": "boot.img",
                         "done_console": "^zerobmc-installer: done$",
                         "os_console": "OS B .*ttyACM0",
                         "timeout_s": 5, "install_timeout_s": 20,
                         "os_timeout_s": 20})
        env.play_console_install(b"Debian GNU/Linux 12 OS B ttyACM0")
        res = env.result(cid)
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(set(res["phases"]),
                         {"boot", "install", "reboot", "os"})
        self.assertGreaterEqual(res["phases"]["install"], 300)
        self.assertEqual(res["boot"]["strategy"], "media-first")
        self.assertNotIn("reboot", res)
        self.assertIsInstance(res["timeline"], list)
        whats = [(e["source"], e["what"]) for e in res["timeline"]]
        self.assertIn(("media", "read-start"), whats)
        self.assertIn(("console", "first-line"), whats)
        self.assertGreaterEqual(res["ms"], sum(res["phases"].values()) - 5)
        # Two reboots: into the installer, and into the installed OS.
        self.assertEqual(srv.reboots, 2)
        env.reinstall_state(lambda r: r.get("running") is False)

    def test_marker_and_usb(self):
        env = self.env(media_extra={"allow_writable": "true"})
        os.unlink(env.image)
        subprocess.run(["mkfs.vfat", "-C", env.image, "2048"], check=True,
                       capture_output=True)
        env.serve(boots=["media-first"])
        cid = env.start({"media": "boot.img",
                         "done_marker": "/zerobmc/installed",
                         "os_usb": True, "timeout_s": 5,
                         "install_timeout_s": 30, "os_timeout_s": 20})
        env.reinstall_state(lambda r: r.get("phase") == "install")
        # The installer's own console output makes the phase "os": that
        # must not count as the installed OS.
        env.console.write(b"installer: copying\r\n")
        time.sleep(2.5)
        self.assertEqual(env.lun_file(), env.image)
        marker = env.image + ".m"
        with open(marker, "w") as f:
            f.write("ok\n")
        subprocess.run(["mmd", "-i", env.image, "::/zerobmc"], env=MT,
                       check=True)
        subprocess.run(["mcopy", "-i", env.image, marker,
                        "::/zerobmc/installed"], env=MT, check=True)
        env.reinstall_state(lambda r: r.get("phase") == "os")
        self.assertEqual(env.lun_file(), "")
        # The firmware enumerated the gadget after the reboot; the OS's
        # USB driver does it again a little later.
        time.sleep(1.3)
        env.set_usb("default")
        time.sleep(0.1)
        env.set_usb("configured")
        res = env.result(cid)
        self.assertEqual(res["status"], "ok", res)
        self.assertGreaterEqual(res["phases"]["install"], 2000)
        self.assertGreaterEqual(res["phases"]["os"], 1000)

    def test_install_timeout(self):
        env = self.env()
        env.serve(boots=["media-first"])
        res = env.result(env.start({"media": "boot.img",
                                    "done_console": "done",
                                    "os_usb": True, "timeout_s": 5,
                                    "install_timeout_s": 1}))
        self.assertEqual(res["status"], "error", res)
        self.assertEqual(res["phase"], "install")
        self.assertIn("the installer's done signal", res["error"])
        self.assertIn("no matching console line within 1000 ms",
                      res["error"])
        # The installer may still be at work: its medium stays.
        self.assertEqual(env.lun_file(), env.image)

    def test_cancel_busy_sigterm(self):
        env = self.env()
        env.serve(boots=["media-first"])
        cid = env.start({"media": "boot.img", "done_console": "done",
                         "os_usb": True, "timeout_s": 5})
        env.reinstall_state(lambda r: r.get("phase") == "install")
        for name, payload in (("reinstall", {"done_console": "x",
                                             "os_usb": True}),
                              ("boot", {"media": "boot.img"}),
                              ("macro", {"script": "ENTER\n"}),
                              ("type", {"text": "x"})):
            r = env.cmd(name, payload)
            self.assertEqual(r["status"], "busy", (name, r))
            self.assertIn("cmd/reinstall is running", r["error"])
        r = env.cmd("reinstall", {"cancel": True})
        self.assertTrue(r["cancelled"])
        res = env.result(cid)
        self.assertEqual(res["status"], "cancelled", res)
        self.assertEqual(res["phase"], "install")
        self.assertEqual(env.cmd("key", {"keys": "a"})["status"], "ok")
        # SIGTERM in the middle of the boot answers it too.
        env.server.boots = set()
        env.client.clear()
        cid = env.start({"media": "boot.img", "done_console": "done",
                         "os_usb": True, "timeout_s": 30})
        env.reinstall_state(lambda r: r.get("phase") == "boot")
        env.agent.stop()
        res = env.result(cid)
        self.assertEqual(res["status"], "cancelled", res)
        self.assertIn("stopped", res["error"])
        self.assertEqual(res["phase"], "boot")

    def test_defaults_from_config_and_home_assistant(self):
        env = self.env(extra_sections={"reinstall": {
            "done_console": "^installer done$", "os_usb": "true"}})
        env.serve(boots=["media-first"])
        # Home Assistant's select, as discovered (retained).
        env.client.subscribe("homeassistant/#")
        m = env.client.wait(
            lambda m: m["topic"] == f"homeassistant/device/zerobmc_{env.id}"
            "/config", 10, "discovery")
        cmps = json.loads(m["payload"])["cmps"]
        sel = cmps["reinstall"]
        self.assertEqual(sel["p"], "select")
        self.assertIn("boot.img", sel["ops"])
        self.assertIn("boot_once", cmps)
        self.assertIn("reinstall_phase", cmps)
        # A plain image name: the signals come from [reinstall].
        env.client.publish(sel["cmd_t"], "boot.img")
        env.reinstall_state(lambda r: r.get("phase") == "install")
        env.console.write(b"installer done\r\n")
        env.reinstall_state(lambda r: r.get("phase") == "os")
        env.client.publish(sel["cmd_t"], "cancel")
        env.reinstall_state(lambda r: r.get("running") is False)

    def test_hostile_payloads(self):
        env = self.env()
        ok = {"media": "boot.img", "os_usb": True}
        cases = [
            (dict(ok, done_console="("), "\"done_console\""),
            (dict(ok, done_console="(a)\\1"), "back-reference"),
            (dict(ok, done_console="a" * 5000), "\"done_console\""),
            (dict(ok, done_console="a\nb"), "one line"),
            (dict(ok, done_console="x", done_marker="m"), "done signal"),
            (dict(ok), "done signal"),
            (dict(ok, done_marker="../../etc/passwd"), "without .."),
            (dict(ok, done_marker="a b"), "\"done_marker\""),
            (dict(ok, done_marker="zerobmc/done"), "allow_writable"),
            ({"media": "boot.img", "done_console": "x"}, "OS's signal"),
            ({"media": "boot.img", "done_console": "x", "os_usb": "yes"},
             "os_usb"),
            ({"media": "boot.img", "done_console": "x", "os_usb": True,
              "os_console": "y"}, "OS's signal"),
            (dict(ok, done_console="x", install_timeout_s=0), "timeouts"),
            (dict(ok, done_console="x", media="../x.img"), "name"),
            ({"done_console": "x", "os_usb": True}, "no image is inserted"),
            (dict(ok, done_console="x", script="y"), "unknown field"),
        ]
        for payload, want in cases:
            r = env.cmd("reinstall", payload)
            self.assertEqual(r["status"], "error", (payload, r))
            self.assertIn(want, r["error"], (payload, r))
        self.assertTrue(env.agent.alive())
        self.assertEqual(env.lun_file(), "")


if __name__ == "__main__":
    unittest.main()
