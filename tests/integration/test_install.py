"""scripts/install against a fake root (ZB_ROOT): dtoverlay=dwc2 added
under [all] once, the modules-load file, the package unpacked without
overwriting a changed configuration, the service enabled with
systemctl --root, and every step reported; a second run changes nothing.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from test_package import SOURCE, build_deb  # noqa: E402

SCRIPT = os.path.join(SOURCE, "scripts", "install")


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zbinstall-")
        cls.deb = build_deb(os.path.join(cls.tmp, "out"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def make_root(self, config_dir="boot/firmware", text="[pi4]\n"
                  "dtoverlay=vc4-kms-v3d\nmax_framebuffers=2\n"):
        root = tempfile.mkdtemp(prefix="root-", dir=self.tmp)
        if config_dir:
            os.makedirs(os.path.join(root, config_dir))
            with open(os.path.join(root, config_dir, "config.txt"), "w") as f:
                f.write(text)
        return root

    def run_install(self, root, *args, check=True):
        env = dict(os.environ, ZB_ROOT=root)
        r = subprocess.run(["sh", SCRIPT, "--deb", self.deb] + list(args),
                           env=env, capture_output=True, text=True,
                           timeout=120)
        if check:
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    def test_fresh_then_again(self):
        root = self.make_root()
        out = self.run_install(root).stdout
        cfg = os.path.join(root, "boot", "firmware", "config.txt")
        with open(cfg) as f:
            text = f.read()
        self.assertTrue(text.startswith("[pi4]\ndtoverlay=vc4-kms-v3d\n"))
        self.assertTrue(text.endswith("[all]\ndtoverlay=dwc2\n"), text)
        self.assertIn("changed: " + cfg, out)
        self.assertIn("Reboot", out)
        with open(os.path.join(root, "etc", "modules-load.d",
                               "zerobmc.conf")) as f:
            mods = [m for m in f.read().split("\n")
                    if m and not m.startswith("#")]
        self.assertEqual(mods, ["dwc2", "libcomposite", "usb_f_hid",
                                "usb_f_mass_storage", "usb_f_acm"])
        for path in ("usr/bin/zerobmc", "etc/zerobmc/zerobmc.conf",
                     "usr/lib/systemd/system/zerobmc.service",
                     "var/lib/zerobmc/images", "etc/zerobmc/macros"):
            self.assertTrue(os.path.exists(os.path.join(root, path)), path)
        wants = os.path.join(root, "etc", "systemd", "system",
                             "multi-user.target.wants", "zerobmc.service")
        self.assertEqual(os.readlink(wants),
                         "/usr/lib/systemd/system/zerobmc.service")
        self.assertIn("set [agent] id", out)
        # Again: nothing changes, and it says so.
        out = self.run_install(root).stdout
        self.assertNotIn("install: changed:", out)
        self.assertIn("nothing to change", out)
        with open(cfg) as f:
            self.assertEqual(f.read(), text)

    def test_old_boot_layout_and_existing_overlay(self):
        root = self.make_root("boot", "dtoverlay=dwc2,dr_mode=peripheral\n")
        out = self.run_install(root, "--no-enable").stdout
        self.assertIn("unchanged: " + os.path.join(root, "boot", "config.txt"),
                      out)
        with open(os.path.join(root, "boot", "config.txt")) as f:
            self.assertEqual(f.read(), "dtoverlay=dwc2,dr_mode=peripheral\n")
        self.assertFalse(os.path.exists(os.path.join(
            root, "etc", "systemd", "system", "multi-user.target.wants")))

    def test_configuration_kept(self):
        root = self.make_root()
        self.run_install(root)
        conf = os.path.join(root, "etc", "zerobmc", "zerobmc.conf")
        with open(conf, "w") as f:
            f.write("[agent]\nid = nuc\n")
        # A changed binary is unpacked again; the configuration stays.
        with open(os.path.join(root, "usr", "bin", "zerobmc"), "ab") as f:
            f.write(b"\0")
        out = self.run_install(root).stdout
        self.assertIn("install: changed: unpacked", out)
        with open(conf) as f:
            self.assertEqual(f.read(), "[agent]\nid = nuc\n")
        self.assertNotIn("set [agent] id", out)

    def test_overlay_of_another_board_does_not_count(self):
        """Raspberry Pi OS's own config.txt: dwc2 in host mode for the
        CM5 only, and an [all] section at the end."""
        text = ("dtparam=audio=on\n[cm4]\notg_mode=1\n\n[cm5]\n"
                "dtoverlay=dwc2,dr_mode=host\n\n[all]\n")
        root = self.make_root(text=text)
        out = self.run_install(root).stdout
        cfg = os.path.join(root, "boot", "firmware", "config.txt")
        self.assertIn("changed: " + cfg, out)
        with open(cfg) as f:
            self.assertTrue(f.read().endswith("[all]\ndtoverlay=dwc2\n"))
        out = self.run_install(root).stdout
        self.assertIn("unchanged: " + cfg, out)

    def test_not_a_pi(self):
        root = self.make_root(config_dir=None)
        out = self.run_install(root).stdout
        self.assertIn("not a Raspberry Pi?", out)

    def test_help_and_errors(self):
        r = subprocess.run(["sh", SCRIPT, "--help"], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn("dtoverlay=dwc2", r.stdout)
        self.assertIn("ZB_ROOT", r.stdout)
        r = subprocess.run(["sh", SCRIPT, "--bogus"], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 2)
        root = self.make_root()
        env = dict(os.environ, ZB_ROOT=root)
        r = subprocess.run(["sh", SCRIPT, "--deb", "/nonexistent.deb"],
                           env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no package", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
