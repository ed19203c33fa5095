"""cmd/boot: boot once from virtual media, with proof, through the real
agent and broker.

Stand-ins: a plain file for the UDC state (rewritten in place, as sysfs
changes it), a folder for the LUN and the images, and a pseudo-terminal
for the keyboard. A FakeServer thread plays the server: it reads the
keyboard reports, re-enumerates the gadget when it sees a reboot chord
(Ctrl+Alt+Del, or SysRq B), and reads the medium's backing file (the
media reads the timeline sees through inotify) only when the keys it got
since the reboot are those its firmware would boot the medium with.
"""
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402

NAMES = {0x3b: "F2", 0x44: "F11", 0x45: "F12", 0x4c: "DELETE",
         0x4d: "END", 0x51: "DOWN", 0x28: "ENTER", 0x29: "ESC"}


def squeeze(keys):
    """Key presses with runs of one key (a spammed hotkey) kept once,
    except DOWN, which counts."""
    out = []
    for k in keys:
        if out and out[-1] == k and k != "DOWN":
            continue
        out.append(k)
    return " ".join(out)


class FakeServer(threading.Thread):
    """A server behind the gadget, driven by the agent's keys.

    boots: the squeezed key sequences (after a reboot) after which the
    firmware boots the medium; "media-first" boots it with no keys.
    honours: the reboot chords the running OS obeys ("cad", "sysrq")."""

    def __init__(self, env, boots=(), honours=("cad", "sysrq")):
        super().__init__(daemon=True)
        self.env = env
        self.boots = set(boots)
        self.honours = set(honours)
        self.keys = []  # presses since the last reboot
        self.all = []   # every press, with the reboots as "REBOOT"
        self.reboots = 0
        self.media_boots = 0
        self.stop_flag = False
        self.start()

    def run(self):
        kb = self.env.agent.keyboard
        before = set()
        buf = b""
        while not self.stop_flag:
            buf += kb.read_some(0.05)
            while len(buf) >= 8:
                rep, buf = buf[:8], buf[8:]
                now = set(k for k in rep[2:] if k)
                new = [k for k in rep[2:] if k and k not in before]
                before = now
                if rep[0] & 0x05 == 0x05 and 0x4c in now:
                    if 0x4c in new and "cad" in self.honours:
                        self.reboot()
                    continue
                if 0x46 in now:
                    if 0x05 in new and "sysrq" in self.honours:
                        self.reboot()
                    continue
                for k in new:
                    name = NAMES.get(k, hex(k))
                    self.keys.append(name)
                    self.all.append(name)
                    if name == "ENTER" and (
                            "*" in self.boots
                            or squeeze(self.keys) in self.boots):
                        self.read_media()

    def reboot(self):
        self.reboots += 1
        self.keys = []
        self.all.append("REBOOT")
        time.sleep(0.1)
        self.env.set_usb("not attached")
        time.sleep(0.1)
        self.env.set_usb("configured")
        if "media-first" in self.boots:
            self.read_media()

    def read_media(self):
        time.sleep(0.2)
        self.media_boots += 1
        for _ in range(3):
            with open(self.env.image, "rb") as f:
                f.read(65536)
            time.sleep(0.05)

    def close(self):
        self.stop_flag = True
        self.join(2)


class BootEnv(zbtest.Env):
    def __init__(self, agent_id, firmware="supermicro", positions=2,
                 extra_sections=None, media_extra=None, boot_extra=None):
        self.root = tempfile.mkdtemp(prefix="zbboot-")
        self.udc = os.path.join(self.root, "udc-state")
        self.images = os.path.join(self.root, "images")
        self.lun = os.path.join(self.root, "lun")
        self.image = os.path.join(self.images, "boot.img")
        self.calib = os.path.join(self.root, "boot.state")
        os.makedirs(self.images)
        os.makedirs(self.lun)
        with open(self.udc, "w") as f:
            f.write("configured\n")
        for name, value in (("file", ""), ("ro", "0\n"), ("cdrom", "0\n"),
                            ("forced_eject", "")):
            with open(os.path.join(self.lun, name), "w") as f:
                f.write(value)
        with open(self.image, "wb") as f:
            f.write(os.urandom(256 * 1024))
        sections = {
            "gadget": {"manage": "false", "udc_state": self.udc},
            "media": dict({"dir": self.images, "lun": self.lun,
                           "state_file": os.path.join(self.root, "m.state")},
                          **(media_extra or {})),
            "timeline": {"reenum_min_ms": "1000",
                         "media_burst_gap_ms": "300"},
            "server": {"firmware": firmware},
            "boot": dict({"timeout_s": "1", "key_window_ms": "300",
                          "settle_ms": "100", "positions": str(positions)},
                         **(boot_extra or {})),
        }
        sections.update(extra_sections or {})
        super().__init__(agent_id, sections=sections, console=True)
        self.server = None

    def serve(self, **kw):
        self.server = FakeServer(self, **kw)
        return self.server

    def set_usb(self, state):
        with open(self.udc, "r+") as f:
            f.seek(0)
            f.write(state + "\n")
            f.truncate()

    def start_boot(self, payload):
        self.seq += 1
        cid = f"b{self.seq}"
        self.client.publish(f"zerobmc/{self.id}/cmd/boot",
                            json.dumps(dict(payload, id=cid)))
        return cid

    def result(self, cid, timeout=30):
        m = self.client.wait(zbtest.result_for(self.id, cid), timeout,
                             f"result {cid}")
        return json.loads(m["payload"])

    def boot_state(self, pred, timeout=10):
        m = self.client.wait(zbtest.state_of(self.id, "boot", pred), timeout,
                             "state.boot")
        return json.loads(m["payload"])["boot"]

    def close(self):
        if self.server:
            self.server.close()
        super().close()
        shutil.rmtree(self.root, ignore_errors=True)


def outcomes(res):
    return [(a["strategy"], a.get("position"), a["outcome"])
            for a in res["attempts"]]


class Boot(unittest.TestCase):
    def env(self, **kw):
        env = BootEnv(f"bt{self._testMethodName[-12:].replace('_', '')}",
                      **kw)
        self.addCleanup(env.close)
        env.wait_online()
        return env

    def test_media_first(self):
        env = self.env()
        srv = env.serve(boots=["media-first"])
        res = env.result(env.start_boot({"media": "boot.img"}))
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["strategy"], "media-first")
        self.assertEqual(res["target"], "media")
        self.assertEqual(res["media"], "boot.img")
        self.assertEqual(outcomes(res), [("media-first", None, "ok")])
        self.assertEqual(res["attempts"][0]["reboot"], "soft")
        self.assertGreaterEqual(res["attempts"][0]["reads"], 1)
        self.assertGreaterEqual(res["ms"], res["attempts"][0]["ms"])
        self.assertEqual(srv.reboots, 1)
        # No hotkey was needed, so none was pressed.
        self.assertEqual(srv.all, ["REBOOT"])
        st = env.boot_state(lambda b: b.get("running") is False)
        self.assertEqual(st["firmware"], "supermicro")
        # The medium stays in for the boot that began.
        with open(os.path.join(env.lun, "file")) as f:
            self.assertEqual(f.read().strip(), env.image)

    def test_boot_menu_calibrates_and_reuses(self):
        env = self.env()
        # The USB entry is the first of this firmware's F11 menu; the
        # profile's guess (position 1) is wrong.
        srv = env.serve(boots=["F11 ENTER"])
        res = env.result(env.start_boot({"media": "boot.img"}))
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["strategy"], "boot-menu")
        self.assertEqual(outcomes(res), [
            ("media-first", None, "no-media-reads"),
            ("boot-menu", 1, "no-media-reads"),
            ("boot-menu", 0, "ok")])
        self.assertTrue(res["calibrated"])
        with open(env.calib) as f:
            self.assertIn("boot-menu 0\n", f.read())
        st = env.boot_state(
            lambda b: b.get("calibration", {}).get("boot-menu") == 0)
        self.assertFalse(st["running"])
        # The next boot goes to the proven position at once, from what
        # is already inserted.
        res = env.result(env.start_boot({"target": "media"}))
        self.assertEqual(res["status"], "ok", res)
        self.assertNotIn("media", res)
        self.assertNotIn("calibrated", res)
        self.assertEqual(outcomes(res), [
            ("media-first", None, "no-media-reads"),
            ("boot-menu", 0, "ok")])
        self.assertEqual(srv.media_boots, 2)

    def test_calibration_survives_restart(self):
        env = self.env()
        with open(env.calib, "w") as f:
            f.write("# kept\nboot-menu 0\nbogus line\nboot-menu 99\n")
        env.agent.stop()
        env.agent.start()
        env.boot_state(
            lambda b: b.get("calibration", {}).get("boot-menu") == 0)

    def test_setup_boot_manager(self):
        env = self.env(positions=1)
        # Aptio setup: Delete, End to Save & Exit, five lines down to
        # Boot Override, the USB entry one further.
        srv = env.serve(boots=["DELETE END " + "DOWN " * 6 + "ENTER"])
        res = env.result(env.start_boot({"media": "boot.img"}))
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["strategy"], "setup-boot-manager")
        self.assertEqual(outcomes(res), [
            ("media-first", None, "no-media-reads"),
            ("boot-menu", 1, "no-media-reads"),
            ("setup-boot-manager", 1, "ok")])
        self.assertEqual(srv.reboots, 3)
        # The boot-menu attempt pressed F11, one DOWN and Enter.
        i = [n for n, k in enumerate(srv.all) if k == "REBOOT"]
        self.assertEqual(squeeze(srv.all[i[1] + 1:i[2]]), "F11 DOWN ENTER")

    def test_all_fail_every_attempt_reported(self):
        env = self.env(positions=1)
        srv = env.serve(boots=[])
        res = env.result(env.start_boot({"media": "boot.img"}))
        self.assertEqual(res["status"], "error", res)
        self.assertIn("no strategy booted from the media: 3 attempts",
                      res["error"])
        self.assertIsNone(res["strategy"])
        self.assertEqual(outcomes(res), [
            ("media-first", None, "no-media-reads"),
            ("boot-menu", 1, "no-media-reads"),
            ("setup-boot-manager", 1, "no-media-reads")])
        for a in res["attempts"]:
            self.assertGreaterEqual(a["ms"], 1000)
            self.assertEqual(a["reboot"], "soft")
        self.assertEqual(srv.reboots, 3)
        self.assertFalse(os.path.exists(env.calib))

    def test_proof_reads_threshold(self):
        # Firmware that scans the medium at start (a few reads) and then
        # boots its disk: with [boot] proof_reads above the scan, the
        # scan proves nothing.
        env = self.env(firmware="generic", extra_sections={"boot": {
            "timeout_s": "1", "key_window_ms": "300", "settle_ms": "100",
            "positions": "1", "proof_reads": "50"}})
        env.serve(boots=["media-first"])
        res = env.result(env.start_boot({"media": "boot.img"}))
        self.assertEqual(res["status"], "error", res)
        first, menu = res["attempts"]
        self.assertEqual((first["strategy"], first["outcome"]),
                         ("media-first", "no-media-reads"))
        self.assertGreaterEqual(first["reads"], 1)
        self.assertLess(first["reads"], 50)
        self.assertEqual((menu["strategy"], menu["reads"]), ("boot-menu", 0))

    def test_sysrq_when_ctrl_alt_del_is_ignored(self):
        env = self.env(firmware="generic", positions=1)
        # A hung OS ignores Ctrl+Alt+Del; SysRq still resets it, and its
        # firmware boots the medium from the boot menu.
        srv = env.serve(boots=["*"], honours=["sysrq"])
        res = env.result(env.start_boot({"media": "boot.img"}), 40)
        self.assertEqual(res["status"], "ok", res)
        got = outcomes(res)
        self.assertEqual([g[0] for g in got], ["media-first", "boot-menu"])
        self.assertIn("WAIT_USB configured: timed out", got[0][2])
        self.assertEqual([a["reboot"] for a in res["attempts"]],
                         ["soft", "sysrq"])
        self.assertEqual(srv.reboots, 1)

    def test_target_setup(self):
        env = self.env()
        srv = env.serve()
        res = env.result(env.start_boot({"target": "setup"}))
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["strategy"], "setup")
        self.assertEqual(res["target"], "setup")
        self.assertEqual(outcomes(res), [("setup", None, "ok")])
        self.assertEqual(squeeze(srv.all), "REBOOT DELETE")

    def test_busy_and_cancel(self):
        env = self.env()
        env.serve(boots=[], honours=[])
        cid = env.start_boot({"media": "boot.img", "timeout_s": 30})
        st = env.boot_state(lambda b: b.get("running"))
        self.assertEqual(st["strategy"], "media-first")
        self.assertEqual(st["attempt"], 1)
        self.assertEqual(st["target"], "media")
        for name, payload in (("boot", {"media": "boot.img"}),
                              ("key", {"keys": "a"}),
                              ("type", {"text": "x"}),
                              ("macro", {"script": "ENTER\n"})):
            r = env.cmd(name, payload)
            self.assertEqual(r["status"], "busy", (name, r))
            self.assertIn("cmd/boot is running", r["error"])
        r = env.cmd("boot", "cancel")
        self.assertIsNone(r)  # a plain payload has no id: sent, not awaited
        res = env.result(cid, 10)
        self.assertEqual(res["status"], "cancelled", res)
        self.assertEqual(outcomes(res), [("media-first", None, "cancelled")])
        env.boot_state(lambda b: b.get("running") is False)
        # The keyboard is free again.
        self.assertEqual(env.cmd("key", {"keys": "a"})["status"], "ok")
        r = env.cmd("boot", {"cancel": True})
        self.assertEqual(r["status"], "ok")
        self.assertFalse(r["cancelled"])

    def test_busy_while_macro_runs(self):
        env = self.env()
        env.client.publish(f"zerobmc/{env.id}/cmd/macro",
                           json.dumps({"script": "DELAY 3s\n", "id": "m1"}))
        env.client.wait(zbtest.state_of(env.id, "macro",
                                        lambda s: s.get("running")),
                        10, "the macro running")
        r = env.cmd("boot", {"media": "boot.img"})
        self.assertEqual(r["status"], "busy", r)
        self.assertIn("macro", r["error"])
        # Refused before anything happened: nothing was inserted.
        with open(os.path.join(env.lun, "file")) as f:
            self.assertEqual(f.read().strip(), "")

    def test_sigterm_answers_cancelled(self):
        env = self.env()
        env.serve(boots=[], honours=[])
        cid = env.start_boot({"media": "boot.img", "timeout_s": 30})
        env.boot_state(lambda b: b.get("running"))
        env.agent.stop(signal.SIGTERM)
        res = env.result(cid, 10)
        self.assertEqual(res["status"], "cancelled", res)
        self.assertIn("stopped", res["error"])

    def test_hostile_payloads(self):
        env = self.env()
        cases = [
            ({"media": "../../etc/passwd"}, "name"),
            ({"media": "x" * 5000}, "too long"),
            ({"media": "no-such.img"}, "no-such.img"),
            ({"media": 7}, "must be strings"),
            ({"media": "boot.img", "target": "pxe"}, "\"target\""),
            ({"media": "boot.img", "mode": "floppy"}, "\"mode\""),
            ({"media": "boot.img", "timeout_s": 0}, "timeout_s"),
            ({"media": "boot.img", "timeout_s": 1e12}, "timeout_s"),
            ({"media": "boot.img", "timeout_s": "5"}, "timeout_s"),
            ({"media": "boot.img", "script": "x"}, "script"),
            ({"media": "boot.img", "target": "setup"}, "target"),
            ({"target": "media"}, "no image is inserted"),
            ({"media": "bo\u202eot.img"}, "name"),
        ]
        for payload, want in cases:
            r = env.cmd("boot", payload)
            self.assertEqual(r["status"], "error", (payload, r))
            self.assertIn(want, r["error"], (payload, r))
        # A plain payload is an image name too, checked the same way.
        env.client.publish(f"zerobmc/{env.id}/cmd/boot", "../x")
        time.sleep(0.3)
        self.assertTrue(env.agent.alive())
        with open(os.path.join(env.lun, "file")) as f:
            self.assertEqual(f.read().strip(), "")

    def test_unknown_firmware_profile(self):
        env = self.env(firmware="acme")
        r = env.cmd("boot", {"media": "boot.img"})
        self.assertEqual(r["status"], "error", r)
        self.assertTrue(env.agent.alive())
        self.assertIn("[server] firmware: unknown \"acme\"",
                      env.agent.log_text())


if __name__ == "__main__":
    unittest.main()
