#!/usr/bin/python3
"""The reinstall lab (issue 19): a server VM with a virtio disk holding
"OS A" (systemd-boot, then the lab's Linux saying "zerobmc-lab: OS A" on
ttyACM0), an installer medium writing "OS B" and a UEFI shell medium, all
built without root by labos.py, driven through the agent's existing
commands (cmd/media, cmd/reboot) and watched on zerobmc/lab/console.

test_1_reinstall_media_first: OS A boots from the disk and its line
arrives on zerobmc/lab/console; the installer goes into the gadget's LUN
(writable), Ctrl+Alt+Del through the gadget's keyboard reboots the
server, the firmware boots the medium (removable media before the disk
in a fresh variable store: no keys), the installer writes OS B's raw image
to the disk, adds its boot entry with efibootmgr and says it is done on
ttyACM0 and with ZBDONE on the medium; the medium is ejected, the server
rebooted, and OS B's line arrives on zerobmc/lab/console. Then the
disk-first case the agent's boot menu strategies face: the installer's
entry is first in BootOrder, and with the installer inserted again a
reboot without keys starts OS B from the disk.

test_2_uefi_boot_order: a FAT image with the UEFI shell (extracted from
OVMF) as \\EFI\\BOOT\\BOOTX64.EFI and a startup.nsh writing the output of
`bcfg boot dump -v` to a file on the medium, then a done marker; the test
reads both back from the image file. A second script moves the disk's
entry to the top of BootOrder (`bcfg boot mv N 0`, N found in the first
dump) and resets: the next boot is OS A from the disk although the medium
is still inserted.

test_3_cmd_uefi: the same through the agent's cmd/uefi (the shell it is
given as [uefi] shell, the image it builds in the Pi with dosfstools and
mtools): the dump comes back in the result's "output", then `bcfg boot mv
N 0` moves the disk first and the next boot (after the shell's reset; the
agent has ejected) is OS A from the disk.

test_4_cmd_boot_disk_first: with the disk first (test_3's order), the
agent's cmd/boot gets a medium booted without being first in the order
(the boot menu strategies); the medium's startup.nsh prints a marker the
test sees on the server's serial console, which the agent cannot see.

The server VM boots with a 3 s POST window (-boot menu=on,splash-time):
a real PC's, kept here so that boot times are honest.

Run: /usr/bin/python3 tests/lab/test_reinstall.py (ZB_LAB_RUN attaches to
a running lab, else a private one is booted and stopped at the end).
"""
import json
import os
import random
import re
import shutil
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lab as labmod  # noqa: E402
import labbuild  # noqa: E402
import labos  # noqa: E402

BOOT_S = 420  # reset to an OS's line under TCG: firmware, loader, Linux
INSTALL_S = 600  # the installer's boot plus 26 MB through usbredir
SPLASH_MS = 3000


class LabReinstall(unittest.TestCase):
    lab = None

    @classmethod
    def setUpClass(cls):
        cls.lab = labmod.Lab.for_test(server="uefi")
        cls.tag = "%06x" % random.randrange(1 << 24)
        cls.work = cls.lab.path("reinstall")
        os.makedirs(cls.work, exist_ok=True)
        t0 = time.time()
        cls.os_a = labos.os_disk(os.path.join(cls.work, "os-a.img"), "A")
        cls.installer = "zb-installer-%s.img" % cls.tag
        labos.installer_img(os.path.join(cls.lab.share, "images",
                                         cls.installer), "B", cls.work)
        cls.shell = labos.uefi_shell()
        print("\nlab reinstall: images built in %.1f s" % (time.time() - t0),
              file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        if not cls.lab:
            return
        try:
            cls.lab.cmd("media", {"image": "eject"}, timeout=30)
        except labmod.LabError:
            pass
        for name in os.listdir(os.path.join(cls.lab.share, "images")):
            if cls.tag in name:
                os.unlink(os.path.join(cls.lab.share, "images", name))
        if cls.lab.owner:
            cls.lab.stop()
        else:
            # The suite's other tests expect the firmware's shell.
            cls.lab.kill_server()
            cls.lab.start_server("uefi")
            cls.lab.close_clients()
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

    def insert(self, name, readonly=False):
        res = self.lab.cmd("media", {"image": name, "mode": "disk",
                                     "readonly": readonly})
        self.assertEqual(res["status"], "ok", res)

    def eject(self):
        res = self.lab.cmd("media", {"image": "eject"})
        self.assertEqual(res["status"], "ok", res)

    def reboot(self):
        res = self.lab.cmd("reboot", {"mode": "soft"}, timeout=60)
        self.assertEqual(res["status"], "ok", res)

    def fat_file(self, img, name, timeout):
        return labos.read_fat_file(img, name, timeout, self.lab.console)

    def shell_img(self, name, script, reset=False):
        """A UEFI shell medium: the shell as the removable-media loader and
        a startup.nsh that runs the commands of `script` on its own volume,
        output in ZBOUT.TXT (>>a: ASCII, appended), then writes ZBDONE and,
        with reset, resets the server."""
        lines = ["@echo -off"]
        for n in range(6):
            lines += ["if exist fs%d:\\zbuefi then" % n, "  fs%d:" % n,
                      "endif"]
        lines += ["%s >>a ZBOUT.TXT" % cmd for cmd in script]
        lines += ["echo done >a ZBDONE"] + (["reset"] if reset else [])
        return labos.fat_tree(
            os.path.join(self.lab.share, "images", name),
            {"startup.nsh": labbuild._nsh(lines), "zbuefi": "1\n",
             "EFI/BOOT/BOOTX64.EFI": self.shell}, "ZBUEFI")

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
        since = self.lab.console_mark()
        t0 = time.time()
        self.fresh_server()
        lab.wait_usb("configured", BOOT_S)
        t_a = self.lab.wait_console(r"zerobmc-lab: OS A", since, BOOT_S)

        t = labos.reinstall(lab, self.installer, "B", BOOT_S, INSTALL_S)
        # The installer's entry is first now (efibootmgr -c): the disk-first
        # case. With the installer inserted again, a reboot without keys
        # starts OS B from the disk, not the medium: the agent needs the
        # boot menu (cmd/boot) to reach the medium.
        self.assertRegex(lab.console(), r'BdsDxe: loading Boot\w+ "zerobmc '
                         r'lab OS B"')
        self.insert(self.installer)
        since = lab.console_mark()
        mark = len(lab.console_raw())
        self.reboot()
        lab.wait_console(r"zerobmc-lab: OS B", since, BOOT_S)
        loaded = re.findall(r'BdsDxe: loading (Boot\w+ "[^"]*")',
                            labmod.strip_ansi(lab.console_raw()[mark:]))
        self.assertEqual(len(loaded), 1, loaded)
        self.assertIn("zerobmc lab OS B", loaded[0])
        self.eject()
        print("\nlab reinstall: OS A up %.0f s after power-on; installer "
              "done %.0f s after insert+reboot; OS B up %.0f s after "
              "eject+reboot" % (t_a - t0, t["install_s"], t["first_boot_s"]),
              file=sys.stderr)

    def test_2_uefi_boot_order(self):
        lab = self.lab
        name = "zb-uefi-%s.img" % self.tag
        img = self.shell_img(name, ["bcfg boot dump -v"])
        self.insert(name)
        self.fresh_server()
        self.assertEqual(self.fat_file(img, "ZBDONE", BOOT_S).strip(), "done")
        dump = self.fat_file(img, "ZBOUT.TXT", 10)
        opts = self.boot_options(dump)
        self.assertTrue(opts, "no boot options in:\n" + dump)
        # The virtio disk: a PCI device path, not USB, not a firmware file.
        disk = [o for o in opts if o[3].startswith("PciRoot")
                and "USB" not in o[3]]
        usb = [o for o in opts if "USB" in o[3]]
        self.assertEqual(len(disk), 1, dump)
        self.assertTrue(usb and usb[0][0] < disk[0][0],
                        "the medium should come first in a fresh store:\n"
                        + dump)

        self.eject()
        img = self.shell_img(name, ["bcfg boot mv %d 0" % disk[0][0],
                                    "bcfg boot dump -v"], reset=True)
        self.insert(name)
        since = self.lab.console_mark()
        t0 = time.time()
        self.reboot()
        self.assertEqual(self.fat_file(img, "ZBDONE", BOOT_S).strip(), "done")
        after = self.boot_options(self.fat_file(img, "ZBOUT.TXT", 10))
        self.assertEqual(after[0][1], disk[0][1], after)
        # The shell reset the server; the medium is still inserted, and the
        # disk, now first, boots.
        t_a = self.lab.wait_console(r"zerobmc-lab: OS A", since, BOOT_S)
        self.assertIn('loading %s "%s"' % (disk[0][1], disk[0][2]),
                      lab.console())
        print("\nlab uefi: bcfg dump %d options; boot order changed and "
              "followed, OS A up %.0f s after the reboot"
              % (len(after), t_a - t0), file=sys.stderr)

    def test_3_cmd_uefi(self):
        """The agent's cmd/uefi (issue 19, wip-19a): it builds the shell
        medium, boots it once with proof, reads the output back, ejects;
        the shell's reset then boots the server normally."""
        lab = self.lab
        self.fresh_server()
        lab.wait_console(r"zerobmc-lab: OS A", 0, BOOT_S)
        t0 = time.time()
        res = lab.cmd("uefi", {"script": "bcfg boot dump -v",
                               "timeout_s": BOOT_S}, timeout=3 * BOOT_S)
        self.assertEqual(res["status"], "ok", res)
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
        after = self.boot_options(res["output"])
        self.assertEqual(after[0][1], disk[0][1], res["output"])
        # The boot order is followed: the disk boots, first in the order.
        t_a = lab.wait_console(r"zerobmc-lab: OS A", since, BOOT_S)
        self.assertRegex(lab.console(), r'BdsDxe: loading %s "%s"'
                         % (disk[0][1], re.escape(disk[0][2])))
        type(self).disk_first = True
        print("\nlab cmd/uefi: dump %.0f s (strategy %s, phases %s); "
              "bcfg boot mv + dump and the next boot: OS A up %.0f s after "
              "the command" % (dump_s, res["boot"]["strategy"],
                               res["phases"], t_a - t0), file=sys.stderr)

    def test_4_cmd_boot_disk_first(self):
        """The agent's cmd/boot (wip-19a) with the disk first in the boot
        order (test_3 put it there), a 3 s POST window: the medium (the
        UEFI shell printing a marker) is reached through the boot menu, and
        the test sees the marker on the server's serial console, which the
        agent cannot see."""
        lab = self.lab
        if not getattr(type(self), "disk_first", False):
            self.skipTest("needs test_3's boot order (the disk first)")
        name = "zb-boot-%s.img" % self.tag
        marker = "zerobmc-boot-%s" % self.tag
        labos.fat_tree(os.path.join(lab.share, "images", name),
                       {"startup.nsh": labbuild._nsh(
                           ["@echo -off", "echo %s" % marker]),
                        "EFI/BOOT/BOOTX64.EFI": self.shell}, "ZBBOOT")
        since = lab.mark()
        res = lab.cmd("boot", {"media": name, "mode": "disk",
                               "timeout_s": 240}, timeout=1800)
        print("\nlab cmd/boot disk first: %s" % json.dumps(res),
              file=sys.stderr)
        self.assertEqual(res["status"], "ok", res)
        self.assertNotEqual(res["strategy"], "media-first", res)
        lab.wait_for(marker, 120, since=since)
        self.eject()


if __name__ == "__main__":
    unittest.main(verbosity=2)
