#!/usr/bin/python3
"""Virtual media in the lab (issue 7, lab test 3): the server's real UEFI
firmware (OVMF) boots from the image the agent puts into the gadget's LUN,
and no longer sees it once it is ejected; the keyboard keeps typing into
the firmware across the switches (the gadget is never rebound).

test_1: a FAT image whose startup.nsh prints a marker goes into the Pi's
images folder (/lab/images, shared over 9p); cmd/media inserts it (the
configfs LUN's `file` names it); the server is power-cycled (its qemu
restarted) and its shell runs the image's startup.nsh: the marker shows
on the server's console. cmd/media eject, another power cycle: the shell
comes up without the marker and without a file system (the empty drive
stays, as BLK0).

test_2: the same through the keyboard: text typed into the UEFI shell
before and after each switch is echoed back; the reboot is cmd/reboot
(Ctrl+Alt+Del through the gadget's keyboard, which EDK2 turns into a
reset).

Run: /usr/bin/python3 tests/lab/test_media.py (ZEROBMC or ZB_BUILD names
the binary; ZB_LAB_RUN attaches to a running lab, else a private one is
booted and stopped at the end).
"""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import labcase  # noqa: E402
import labbuild  # noqa: E402

BOOT_S = 300  # OVMF under TCG, from reset to the shell and startup.nsh
# The shell prompt, also when a script left the shell on a file system.
PROMPT = r"(Shell|FS[0-9]+:[^>\n]*)> "
# The shell's banner: output of a new boot, not of the one before.
BANNER = r"UEFI Interactive Shell"
LUN_FILE = ("/sys/kernel/config/usb_gadget/zerobmc/functions/"
            "mass_storage.media/lun.0/file")


def media_of(doc):
    return doc.get("media") or {}


class LabMedia(labcase.LabMediaCase):
    def image(self, what):
        marker = "zerobmc-media-%s-%s" % (what, self.tag)
        name = "boot-%s-%s.img" % (what, self.tag)
        labbuild.marker_img(os.path.join(self.lab.share, "images", name),
                            marker)
        return name, marker

    def insert(self, name):
        lab = self.lab
        t0 = time.time()
        res = lab.cmd("media", {"image": name})
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["mode"], "disk")
        self.assertTrue(res["readonly"])
        lab.agent_state(lambda d: media_of(d).get("image") == name)
        self.assertIn(name, lab.pi_shell("cat " + LUN_FILE))
        return time.time() - t0

    def eject(self):
        res = self.lab.cmd("media", {"image": "eject"})
        self.assertEqual(res["status"], "ok", res)
        self.assertIsNone(res["image"])
        self.assertEqual(self.lab.pi_shell("cat " + LUN_FILE).strip(), "")

    def prompt(self):
        """A fresh shell prompt, asked for on the serial console."""
        self.lab.mark()
        self.lab.server_send("\r")
        self.lab.wait_for(PROMPT + "$", 60)

    def typed(self, word):
        """`echo WORD` typed through the gadget's keyboard, Enter as its own
        key; the firmware prints WORD back on its own line."""
        lab = self.lab
        self.prompt()
        res = lab.cmd("type", {"text": "echo " + word, "profile": "bios"},
                      timeout=120)
        self.assertEqual(res["status"], "ok", res)
        res = lab.cmd("key", {"keys": "enter"}, timeout=30)
        self.assertEqual(res["status"], "ok", res)
        lab.wait_for(r"\n%s\n" % word, 60)

    def test_1_boot_from_image_then_eject(self):
        lab = self.lab
        name, marker = self.image("power")
        switch_s = self.insert(name)
        since = lab.mark()
        lab.restart_server("uefi")
        lab.wait_for(marker + r"[\s\S]*" + PROMPT, BOOT_S, since=since)

        self.eject()
        since = lab.mark()
        lab.restart_server("uefi")
        lab.wait_for(BANNER + r"[\s\S]*" + PROMPT, BOOT_S, since=since)
        text = lab.console(since)
        self.assertNotIn(marker, text)
        # The empty drive is still there (BLK0), with no file system on it.
        self.assertNotIn("FS0:", text)
        print("\nlab media: cmd/media round trip %.2f s" % switch_s,
              file=sys.stderr)

    def test_2_keyboard_across_switches(self):
        lab = self.lab
        name, marker = self.image("kbd")
        self.typed("kb0" + self.tag)
        self.insert(name)
        self.typed("kb1" + self.tag)

        since = lab.mark()
        res = lab.cmd("reboot", {"mode": "soft"}, timeout=60)
        self.assertEqual(res["status"], "ok", res)
        lab.wait_for(marker + r"[\s\S]*" + PROMPT, BOOT_S, since=since)
        self.typed("kb2" + self.tag)

        self.eject()
        self.typed("kb3" + self.tag)
        since = lab.mark()
        res = lab.cmd("reboot", {"mode": "soft"}, timeout=60)
        self.assertEqual(res["status"], "ok", res)
        lab.wait_for(BANNER + r"[\s\S]*" + PROMPT, BOOT_S, since=since)
        self.assertNotIn(marker, lab.console(since))
        self.typed("kb4" + self.tag)


if __name__ == "__main__":
    unittest.main(verbosity=2)
