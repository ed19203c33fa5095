#!/usr/bin/python3
"""The server timeline in the lab (issue 12): what the gadget sees of a real
UEFI firmware and a real Linux booting, as events and state.phase.

test_1: a marker image is inserted as virtual media and the OVMF server is
power-cycled: the event topic shows the host enumerating the gadget (USB
state), then reads of the virtual media (the firmware runs the image's
startup.nsh), in that order, and state.phase passes through a phase other
than "os" while only the firmware runs.

test_2: the small Linux boots from linux.img: its console lines arrive and
state.phase becomes "os" with console evidence.

test_3: the server VM is killed: the phase leaves "os" ("unknown", "off",
or "firmware" when the Pi's own host side re-enumerates the gadget).

Run: /usr/bin/python3 tests/lab/test_timeline.py (ZEROBMC or ZB_BUILD names
the binary; ZB_LAB_RUN attaches to a running lab).
"""
import json
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import labcase  # noqa: E402
import labbuild  # noqa: E402

BOOT_S = 300


def events(lab, since_t):
    out = []
    with lab.mqtt().lock:
        msgs = list(lab.mqtt().msgs)
    for m in msgs:
        if m["topic"] == "zerobmc/lab/event" and m["t"] >= since_t:
            out.append(json.loads(m["payload"]))
    return out


def settle_reads(lab, since_t, quiet_s=3, timeout=30):
    """Waits until no media read burst is open and none began for quiet_s."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        evs = [e for e in events(lab, since_t) if e["source"] == "media"]
        last = evs[-1] if evs else None
        if last is None or last["what"] == "read-end":
            with lab.mqtt().lock:
                t_last = max((m["t"] for m in lab.mqtt().msgs
                              if m["topic"] == "zerobmc/lab/event"),
                             default=0)
            if time.monotonic() - t_last >= quiet_s:
                return
        time.sleep(0.5)


class LabTimeline(labcase.LabMediaCase):
    def test_1_firmware_reads_the_media_after_enumerating(self):
        lab = self.lab
        marker = "zerobmc-timeline-" + self.tag
        name = "tl-%s.img" % self.tag
        labbuild.marker_img(os.path.join(lab.share, "images", name), marker)
        res = lab.cmd("media", {"image": name})
        self.assertEqual(res["status"], "ok", res)
        # Eject even when an assertion fails, or the next test's Linux
        # server boots this image's startup.nsh instead of its own disk.
        self.addCleanup(self.eject)
        # The running server (or the Pi's own host side) reads a medium
        # as soon as it is inserted; that burst belongs to the old boot.
        settle_reads(lab, time.monotonic() - 5)
        t0 = time.monotonic()
        since = lab.mark()
        lab.restart_server("uefi")
        lab.wait_for(marker, BOOT_S, since=since)
        time.sleep(3)  # the end of the read burst
        evs = events(lab, t0)
        kinds = [(e["source"], e["what"]) for e in evs]
        print("\nlab timeline: %s" % kinds, file=sys.stderr)
        self.assertIn(("media", "read-start"), kinds)
        usb = [i for i, k in enumerate(kinds) if k == ("usb", "state")
               and evs[i].get("to") == "configured"]
        self.assertTrue(usb, kinds)
        first_read = kinds.index(("media", "read-start"))
        self.assertLess(usb[0], first_read)
        # From the new server's enumeration (the last before its reads)
        # on, only the firmware runs: no phase may say os. Before it, the
        # killed server's gadget goes back to the Pi's own host side, whose
        # late re-enumeration after minutes in the firmware is read as an
        # OS's driver: an artefact of the lab, not of the new server.
        start = max(i for i in usb if i < first_read)
        phases = [e["to"] for e in evs[start:] if e["what"] == "phase"]
        self.assertNotIn("os", phases, kinds)
        doc = lab.agent_state(lambda d: d["phase"]["media_reads"] > 0)
        self.assertIn(doc["phase"]["phase"],
                      ("firmware", "booting-media"))
        res = lab.cmd("refresh", {"events": 200})
        self.assertEqual(res["status"], "ok", res)
        self.assertTrue(any(e["source"] == "media" for e in res["events"]))

    def eject(self):
        self.lab.cmd("media", {"image": "eject"}, timeout=30)

    def test_2_linux_console_means_os(self):
        lab = self.lab
        lab.ensure_server("linux", timeout=BOOT_S)
        lab.mqtt().wait(lambda m: m["topic"] == "zerobmc/lab/console",
                        BOOT_S, "a console line from the server's Linux")
        doc = lab.agent_state(lambda d: d["phase"]["phase"] == "os", 60)
        self.assertIn("console", doc["phase"]["evidence"])

    def test_3_killed_server_is_never_a_wrong_os(self):
        lab = self.lab
        lab.agent_state(lambda d: d["phase"]["phase"] == "os", 60)
        lab.kill_server()
        # What the gadget sees of a vanished server depends on the host
        # side: here the Pi's own kernel takes the device back when
        # usbredirect lets go (a re-enumeration), elsewhere the keyboard
        # stops being polled. Either way the phase must leave "os".
        doc = lab.agent_state(
            lambda d: d["phase"]["phase"] in ("unknown", "off",
                                              "firmware"), 120)
        print("\nlab timeline: killed server -> %s (%s)"
              % (doc["phase"]["phase"], doc["phase"]["evidence"]),
              file=sys.stderr)
        self.assertNotEqual(doc["phase"]["phase"], "os")

if __name__ == "__main__":
    unittest.main(verbosity=2)
