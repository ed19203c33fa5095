"""The systemd units' least privilege, checked with systemd's own tools:
`systemd-analyze security --offline=true` rates zerobmc.service 1.5 or
lower (it was 2.7 with the agent as root), `systemd-analyze verify`
passes on the early gadget unit without a warning, and the units keep the
shape the design needs: the agent as User=zerobmc not waiting for the
network, the gadget unit early (DefaultDependencies=no, after configfs,
no network) and the only one with root.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402

SOURCE = os.path.abspath(os.environ.get("ZB_SOURCE") or os.path.join(
    os.path.dirname(__file__), "..", ".."))
PACKAGING = os.path.join(SOURCE, "packaging")
GOAL = 1.5


def unit_text(name):
    with open(os.path.join(PACKAGING, name)) as f:
        return f.read()


def directives(text):
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and "=" in line:
            k, _, v = line.partition("=")
            out.setdefault(k, []).append(v)
    return out


class UnitSecurity(unittest.TestCase):
    def setUp(self):
        self.sa = shutil.which("systemd-analyze")
        self.tmp = tempfile.mkdtemp(prefix="zbsec-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def staged(self, name):
        """The unit with ExecStart= pointing at the build (verify checks
        that the binary exists)."""
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(unit_text(name).replace("/usr/bin/zerobmc",
                                            os.path.abspath(zbtest.ZEROBMC)))
        return path

    def test_exposure_at_most_goal(self):
        if not self.sa:
            self.skipTest("systemd-analyze not installed")
        r = subprocess.run([self.sa, "security", "--offline=true",
                            "--no-pager", self.staged("zerobmc.service")],
                           capture_output=True, text=True, timeout=120)
        out = r.stdout + r.stderr
        m = re.search(r"Overall exposure level for zerobmc\.service: "
                      r"([0-9.]+)", out)
        self.assertTrue(m, out)
        score = float(m.group(1))
        print(f"\nsystemd-analyze security --offline=true "
              f"zerobmc.service: {score} (goal {GOAL})")
        self.assertLessEqual(score, GOAL, out)

    def test_gadget_unit_verifies(self):
        if not self.sa:
            self.skipTest("systemd-analyze not installed")
        r = subprocess.run([self.sa, "verify", "--man=no",
                            self.staged("zerobmc-gadget.service")],
                           capture_output=True, text=True, timeout=120)
        out = (r.stdout + r.stderr).strip()
        self.assertEqual(r.returncode, 0, out)
        self.assertNotIn("zerobmc-gadget.service", out, out)

    def test_agent_unit_shape(self):
        d = directives(unit_text("zerobmc.service"))
        self.assertEqual(d["User"], ["zerobmc"])
        self.assertEqual(d["DevicePolicy"], ["closed"])
        self.assertEqual(sorted(d["DeviceAllow"]),
                         ["char-gpiochip rw", "char-hidg rw",
                          "char-ttyGS rw"])
        for k, v in (("ProtectKernelTunables", "yes"),
                     ("ProtectProc", "invisible"), ("ProcSubset", "pid"),
                     ("CapabilityBoundingSet", "")):
            self.assertEqual(d[k], [v], k)
        self.assertIn("~@privileged @resources", d["SystemCallFilter"])
        self.assertNotIn("network-online.target",
                         " ".join(d.get("After", []) + d.get("Wants", [])))
        self.assertIn("zerobmc-gadget.service", d["Wants"][0])

    def test_gadget_unit_shape(self):
        d = directives(unit_text("zerobmc-gadget.service"))
        self.assertEqual(d["DefaultDependencies"], ["no"])
        self.assertIn("sys-kernel-config.mount", d["After"][0])
        self.assertNotIn("network", " ".join(d["After"] + d["Before"]))
        self.assertEqual(d["PrivateNetwork"], ["yes"])
        self.assertEqual(d["Type"], ["oneshot"])
        self.assertTrue(d["ExecStart"][0].endswith(" gadget up"))
        self.assertEqual(d["CapabilityBoundingSet"],
                         ["CAP_CHOWN CAP_DAC_OVERRIDE"])

    def test_sysusers_and_postinst_create_the_user(self):
        with open(os.path.join(PACKAGING, "zerobmc.sysusers")) as f:
            self.assertRegex(f.read(), r"(?m)^u zerobmc - ")
        with open(os.path.join(PACKAGING, "deb", "postinst")) as f:
            text = f.read()
        self.assertIn("systemd-sysusers zerobmc.conf", text)
        self.assertIn("adduser --system --group", text)
        r = subprocess.run(["sh", "-n", os.path.join(PACKAGING, "deb",
                                                     "postinst")])
        self.assertEqual(r.returncode, 0)


if __name__ == "__main__":
    unittest.main()
