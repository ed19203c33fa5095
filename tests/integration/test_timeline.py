"""The server timeline: events and state.phase from USB state, LEDs,
media reads and console lines, through the real agent and broker.

Stand-ins: a plain file for the UDC state (watched with inotify), a
folder for the LUN, pseudo-terminals for the keyboard and the console.
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


class TimelineEnv(zbtest.Env):
    def __init__(self, agent_id, extra_sections=None):
        self.root = tempfile.mkdtemp(prefix="zbtl-")
        self.udc = os.path.join(self.root, "udc-state")
        self.images = os.path.join(self.root, "images")
        self.lun = os.path.join(self.root, "lun")
        os.makedirs(self.images)
        os.makedirs(self.lun)
        with open(self.udc, "w") as f:
            f.write("not attached\n")
        for name, value in (("file", ""), ("ro", "0\n"), ("cdrom", "0\n"),
                            ("forced_eject", "")):
            with open(os.path.join(self.lun, name), "w") as f:
                f.write(value)
        with open(os.path.join(self.images, "boot.img"), "wb") as f:
            f.write(os.urandom(256 * 1024))
        sections = {
            "gadget": {"manage": "false", "udc_state": self.udc},
            "media": {"dir": self.images, "lun": self.lun,
                      "state_file": os.path.join(self.root, "m.state")},
            "timeline": {"reenum_min_ms": "1000",
                         "media_burst_gap_ms": "300",
                         "console_quiet_ms": "500"},
        }
        sections.update(extra_sections or {})
        super().__init__(agent_id, sections=sections, console=True)

    def set_usb(self, state):
        # Written in place: the agent's inotify watch is on this inode.
        with open(self.udc, "r+") as f:
            f.truncate(0)
            f.write(state + "\n")

    def events(self, pred=lambda e: True):
        out = []
        for m in list(self.client.msgs):
            if m["topic"] == f"zerobmc/{self.id}/event":
                e = json.loads(m["payload"])
                if pred(e):
                    out.append(e)
        return out

    def wait_event(self, pred, timeout=10, what="event"):
        m = self.client.wait(
            lambda m: m["topic"] == f"zerobmc/{self.id}/event"
            and pred(json.loads(m["payload"])), timeout, what)
        return json.loads(m["payload"])

    def wait_phase(self, phase, timeout=10):
        m = self.client.wait(
            lambda m: m["topic"] == f"zerobmc/{self.id}/state"
            and json.loads(m["payload"]).get("phase", {}).get("phase")
            == phase, timeout, f"phase {phase}")
        return json.loads(m["payload"])["phase"]

    def close(self):
        super().close()
        shutil.rmtree(self.root, ignore_errors=True)


class Timeline(unittest.TestCase):
    def setUp(self):
        self.env = TimelineEnv("tl1")
        self.addCleanup(lambda: self.env.close())
        self.env.wait_online()

    def test_boot_from_media_then_os(self):
        env = self.env
        env.set_usb("configured")
        ev = env.wait_event(lambda e: e["source"] == "usb"
                            and e.get("to") == "configured")
        self.assertIsInstance(ev["t"], (int, float))
        ph = env.wait_phase("firmware")
        self.assertIn("enumerated", ph["evidence"])
        # The host sets Num Lock: an LED event, phase unchanged.
        env.agent.keyboard.write(b"\x01")
        env.wait_event(lambda e: e["source"] == "led" and e["num"])
        res = env.cmd("media", {"image": "boot.img"})
        self.assertEqual(res["status"], "ok", res)
        # The host reads the medium: IN_ACCESS on the backing file.
        time.sleep(0.3)
        with open(os.path.join(env.images, "boot.img"), "rb") as f:
            f.read(65536)
        env.wait_event(lambda e: e["source"] == "media"
                       and e["what"] == "read-start")
        ph = env.wait_phase("booting-media")
        end = env.wait_event(lambda e: e["source"] == "media"
                             and e["what"] == "read-end", 5)
        self.assertGreaterEqual(end["reads"], 1)
        # The OS talks on its console.
        env.console.write(b"Debian GNU/Linux 12 nuc ttyACM0\r\n")
        first = env.wait_event(lambda e: e["source"] == "console")
        self.assertIn("Debian", first["line"])
        env.wait_phase("os")
        # More lines right away are not new "first line" events.
        env.console.write(b"nuc login: \r\n")
        time.sleep(0.4)
        self.assertEqual(len(env.events(lambda e: e["source"] == "console")),
                         1)
        # The order of the timeline.
        whats = [(e["source"], e["what"]) for e in env.events()]
        order = [("usb", "state"), ("led", "leds"), ("media", "read-start"),
                 ("console", "first-line")]
        idx = [whats.index(o) for o in order]
        self.assertEqual(idx, sorted(idx), whats)

    def test_sleep_and_off(self):
        env = self.env
        env.set_usb("configured")
        env.wait_phase("firmware")
        env.set_usb("suspended")
        env.wait_phase("asleep")
        env.set_usb("not attached")
        ph = env.wait_phase("off")
        self.assertIn("USB", ph["evidence"])

    def test_history_in_refresh(self):
        env = self.env
        env.set_usb("configured")
        env.wait_phase("firmware")
        res = env.cmd("refresh", {"events": 200})
        self.assertEqual(res["status"], "ok")
        kinds = [(e["source"], e["what"]) for e in res["events"]]
        self.assertIn(("agent", "start"), kinds)
        self.assertIn(("usb", "state"), kinds)
        res = env.cmd("refresh", {"events": 500})
        self.assertEqual(res["status"], "error")
        self.assertIn("events", res["error"])


class MacroWaits(unittest.TestCase):
    """WAIT_PHASE and WAIT_MEDIA_READ in macros."""

    def setUp(self):
        self.env = TimelineEnv("tl3")
        self.addCleanup(lambda: self.env.close())
        self.env.wait_online()

    def test_wait_phase_and_media_read(self):
        env = self.env
        res = env.cmd("media", {"image": "boot.img"})
        self.assertEqual(res["status"], "ok", res)
        env.client.publish("zerobmc/tl3/cmd/macro", json.dumps(
            {"id": "w1", "script": "WAIT_PHASE firmware 10s\n"
                                   "WAIT_MEDIA_READ 10s\n"
                                   "WAIT_PHASE booting_media 5s\n"
                                   "STRING ok\n"}))
        time.sleep(0.5)
        env.set_usb("configured")
        time.sleep(0.5)
        with open(os.path.join(env.images, "boot.img"), "rb") as f:
            f.read(4096)
        m = env.client.wait(zbtest.result_for("tl3", "w1"), 15)
        res = json.loads(m["payload"])
        self.assertEqual(res["status"], "ok", res)
        reps = env.agent.keyboard.reports(until_idle=0.3)
        self.assertIn(0x12, [r[2] for r in reps])  # the o of "ok"

    def test_wait_phase_times_out_with_line(self):
        res = self.env.cmd("macro", {"script": "REM x\nWAIT_PHASE os 300ms"})
        self.assertEqual(res["status"], "error")
        self.assertIn("line 2", res["error"])
        self.assertIn("WAIT_PHASE os", res["error"])

    def test_bad_phase_is_refused_before_running(self):
        res = self.env.cmd("macro", {"script": "STRING a\nWAIT_PHASE lunch"})
        self.assertEqual(res["status"], "error")
        self.assertIn("line 2", res["error"])
        self.assertIn("lunch", res["error"])
        self.assertEqual(self.env.agent.keyboard.reports(until_idle=0.3), [])


class RateLimit(unittest.TestCase):
    def test_flood_is_summarised(self):
        env = TimelineEnv("tl2", {"timeline": {"events_per_s": "5"}})
        self.addCleanup(lambda: env.close())
        env.wait_online()
        for i in range(100):
            env.client.c.publish("zerobmc/tl2/cmd/refresh",
                                 json.dumps({"id": f"r{i}"}), qos=1)
        env.client.wait(zbtest.result_for("tl2", "r99"), 10)
        summary = env.wait_event(lambda e: e["what"] == "rate-limited", 5)
        self.assertGreater(summary["count"], 50)
        published = env.events(lambda e: e["what"] == "command")
        self.assertLess(len(published), 40)
        # The history still has every command.
        res = env.cmd("refresh", {"events": 200})
        cmds = [e for e in res["events"] if e["what"] == "command"]
        self.assertGreaterEqual(len(cmds), 100)


if __name__ == "__main__":
    unittest.main(verbosity=2)
