#!/usr/bin/python3
"""The reinstall lab (issue 19): a server VM with a writable virtio disk
holding "OS A" (systemd-boot, then the lab's Linux saying "zerobmc-lab: OS
A" on ttyACM0), installer media writing "OS B" and "OS C", and the UEFI
shell extracted from OVMF, all built without root by labos.py; the agent's
cmd/reinstall and cmd/uefi drive it, the test watches zerobmc/lab/console
and the server's serial console (which the agent cannot see).

test_1_reinstall_media_first: a new server (fresh variable store: the
gadget's USB disk is tried before the virtio disk) boots OS A; one
cmd/reinstall with the installer: the firmware boots the medium without
keys (strategy media-first), the installer writes OS B's raw image and
adds its boot entry with efibootmgr (first in BootOrder), its done line
arrives on the console, the agent ejects and reboots, and OS B's line
arrives on zerobmc/lab/console.

test_2_reinstall_disk_first: now the installed OS's entry is first (the
disk-first case a real PC presents after an install); cmd/reinstall with
a second installer (OS C, done signal: the marker file zerobmc/done it
writes on the medium) must reach the medium through the boot menu, with a
3 s POST window, proven by the agent's media reads; OS C's line arrives.

test_3_cmd_uefi: a new server; cmd/uefi with `bcfg boot dump -v`: the
output comes back in the result; cmd/uefi with `bcfg boot mv N 0` (N: the
disk's position in that dump) moves the disk first, and the next boot
(after the shell's reset; the agent has ejected) is OS A from the disk.

The server VM boots with a 3 s POST window (-boot menu=on,splash-time):
a real PC's, kept so that boot times and key windows are honest.

Run: /usr/bin/python3 tests/lab/test_reinstall.py (ZB_LAB_RUN attaches to
a running lab, else a private one is booted and stopped at the end).
"""
import json
import os
import re
import shutil
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lab as labmod  # noqa: E402
import labcase  # noqa: E402
import labos  # noqa: E402

BOOT_S = 300  # each boot wait of the agent under TCG
INSTALL_S = 600  # the installer's boot plus 26 MB through usbredir
SPLASH_MS = 3000
# Each boot attempt's wait for proof: the medium is read about 12 s after
# the reboot here; a failed attempt costs this much before the next one.
ATTEMPT_S = 120


class LabReinstall(labcase.LabMediaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = cls.lab.path("reinstall")
        os.makedirs(cls.work, exist_ok=True)
        t0 = time.time()
        cls.os_a = labos.os_disk(os.path.join(cls.work, "os-a.img"), "A")
        cls.installers = {}
        for name in ("B", "C"):
            cls.installers[name] = "zb-installer-%s-%s.img" % (name, cls.tag)
            labos.installer_img(os.path.join(cls.lab.share, "images",
                                             cls.installers[name]),
                                name, cls.work)
        print("\nlab reinstall: images built in %.1f s" % (time.time() - t0),
              file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if cls.lab:
            shutil.rmtree(cls.work, ignore_errors=True)

    # --- helpers ---------------------------------------------------------

    def fresh_server(self):
        """Power loss and a new server: a fresh copy of OS A's disk and
        of the firmware's variable store, a POST window."""
        lab = self.lab
        disk = os.path.join(self.work, "disk.img")
        shutil.copyfile(self.os_a, disk)
        lab.kill_server()
        lab.start_server("os-a", disk=disk, writable=True,
                         splash_ms=SPLASH_MS)

    def reinstall(self, name, payload):
        lab = self.lab
        since = lab.console_mark()
        t0 = time.time()
        res = lab.cmd("reinstall", dict(
            {"media": self.installers[name], "mode": "disk",
             "os_console": re.escape(labos.os_line(name)),
             "timeout_s": ATTEMPT_S, "install_timeout_s": INSTALL_S,
             "os_timeout_s": BOOT_S}, **payload), timeout=3000)
        print("\nlab cmd/reinstall OS %s: %.0f s: %s" % (
            name, time.time() - t0, json.dumps(
                {k: res.get(k) for k in ("status", "error", "phases",
                                         "boot", "reboot")})),
              file=sys.stderr)
        self.assertEqual(res["status"], "ok", res)
        # The OS's line reached zerobmc/lab/console, the medium is out.
        lab.wait_console(re.escape(labos.os_line(name)), since, 30)
        lab.agent_state(lambda d: not (d.get("media") or {}).get("image"))
        return res

    def result_now(self, cid):
        """The result of command `cid` if it has come, else None."""
        c = self.lab.mqtt()
        with c.lock:
            msgs = list(c.msgs)
        for m in msgs:
            if m["topic"] == "zerobmc/%s/result" % labmod.AGENT_ID:
                try:
                    res = json.loads(m["payload"])
                except ValueError:
                    continue
                if res.get("id") == cid:
                    return res
        return None

    @staticmethod
    def boot_options(dump):
        """`bcfg boot dump -v` as [(position, variable, description,
        device path)]."""
        opts = []
        for m in re.finditer(r"Option: (\d+)\. Variable: (Boot\w+)\s+"
                             r"Desc\s+- (.*?)\s+DevPath\s+- (\S*)", dump):
            opts.append((int(m.group(1)), m.group(2), m.group(3).strip(),
                         m.group(4)))
        return opts

    # --- tests -----------------------------------------------------------

    def test_1_reinstall_media_first(self):
        lab = self.lab
        since = lab.console_mark()
        self.fresh_server()
        lab.wait_usb("configured", BOOT_S)
        lab.wait_console(r"zerobmc-lab: OS A", since, BOOT_S)
        res = self.reinstall("B", {"done_console": "zerobmc-lab: "
                                   "installer done"})
        self.assertEqual(res["boot"]["strategy"], "media-first", res)
        self.assertRegex(lab.console(), r'BdsDxe: loading Boot\w+ "zerobmc '
                         r'lab OS B"')
        type(self).installed = True

    def test_2_reinstall_disk_first(self):
        if not getattr(type(self), "installed", False):
            self.skipTest("needs test_1's installed OS (its entry first)")
        lab = self.lab
        mark = len(lab.console_raw())
        since = lab.console_mark()
        cid = lab.cmd("reinstall", {
            "media": self.installers["C"], "mode": "disk",
            "done_marker": labos.DONE_FILE,
            "os_console": re.escape(labos.os_line("C")),
            "timeout_s": ATTEMPT_S, "install_timeout_s": INSTALL_S,
            "os_timeout_s": BOOT_S}, wait=False)
        # Once the agent believes the medium booted (phase install), the
        # installer must start soon; the server's serial console, which
        # the agent cannot see, tells whether it did. A wrong belief fails
        # here, at once, rather than at the end of the install deadline.
        end = time.time() + 8 * ATTEMPT_S
        while not self.result_now(cid):
            st = lab.agent_state()
            if (st.get("reinstall") or {}).get("phase") == "install":
                break
            self.assertLess(time.time(), end, "no install phase: %s"
                            % json.dumps(st.get("boot")))
            time.sleep(1)
        early = self.result_now(cid)
        if early and early.get("status") != "ok":
            self.fail("cmd/reinstall failed before the install: %s"
                      % json.dumps(early))
        try:
            lab.wait_for(r"zerobmc-lab: installer for OS C started", 120,
                         since=mark)
        except labmod.LabError:
            loaded = re.findall(r'BdsDxe: loading (Boot\w+ "[^"]*")',
                                labmod.strip_ansi(lab.console_raw()[mark:]))
            lab.cmd("reinstall", {"cancel": True}, timeout=120)
            res = lab.result(cid, 120)
            self.fail("the agent went on to wait for the installer, but the "
                      "installer never started: the firmware loaded %s; "
                      "result %s" % (", ".join(loaded), json.dumps(
                          {k: res.get(k) for k in ("status", "boot",
                                                   "phases")})))
        res = lab.result(cid, INSTALL_S + 2 * BOOT_S)
        print("\nlab cmd/reinstall OS C, disk first: %s" % json.dumps(
            {k: res.get(k) for k in ("status", "error", "phases", "boot",
                                     "ms")}), file=sys.stderr)
        self.assertEqual(res["status"], "ok", res)
        self.assertNotEqual(res["boot"]["strategy"], "media-first", res)
        lab.wait_console(re.escape(labos.os_line("C")), since, 30)
        lab.agent_state(lambda d: not (d.get("media") or {}).get("image"))

    def test_3_cmd_uefi(self):
        """The agent's cmd/uefi (issue 19): it builds the shell medium,
        boots it once with proof, reads the output back, ejects, resets
        the server and answers once its USB is back; the server then boots
        normally. The second command comes right after the first answer:
        before the agent waited for that reset, the first script's own
        reset, 10 s later, booted the second command's medium mid-run
        ("Unable to redirect file ... No Media", 1 run in 3)."""
        lab = self.lab
        since = lab.console_mark()
        self.fresh_server()
        lab.wait_console(r"zerobmc-lab: OS A", since, BOOT_S)
        since = lab.console_mark()
        t0 = time.time()
        res = lab.cmd("uefi", {"script": "bcfg boot dump -v",
                               "timeout_s": BOOT_S}, timeout=3 * BOOT_S)
        print("\nlab cmd/uefi dump: boot %s, phases %s" % (
            json.dumps(res.get("boot")), res.get("phases")), file=sys.stderr)
        self.assertEqual(res["status"], "ok", res)
        # Answered once the server has reset (no "reset" note): the
        # medium is out and the server boots its disk, OS A.
        self.assertNotIn("reset", res)
        lab.wait_console(r"zerobmc-lab: OS A", since, BOOT_S)
        opts = self.boot_options(res["output"])
        disk = [o for o in opts if o[3].startswith("PciRoot")
                and "USB" not in o[3]]
        self.assertEqual(len(disk), 1, res["output"])
        dump_s = time.time() - t0

        since = lab.console_mark()
        t0 = time.time()
        res = lab.cmd("uefi", {"script": "bcfg boot mv %d 0\nbcfg boot "
                               "dump -v" % disk[0][0], "timeout_s": BOOT_S},
                      timeout=3 * BOOT_S)
        self.assertEqual(res["status"], "ok", res)
        self.assertNotIn("reset", res)
        after = self.boot_options(res["output"])
        self.assertEqual(after[0][1], disk[0][1], res["output"])
        # The boot order is followed: the disk boots, first in the order.
        t_a = lab.wait_console(r"zerobmc-lab: OS A", since, BOOT_S)
        self.assertRegex(lab.console(), r'BdsDxe: loading %s "%s"'
                         % (disk[0][1], re.escape(disk[0][2])))
        print("\nlab cmd/uefi: dump %.0f s (strategy %s, phases %s); "
              "bcfg boot mv + dump and the next boot: OS A up %.0f s after "
              "the command" % (dump_s, res["boot"]["strategy"],
                               res["phases"], t_a - t0), file=sys.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
