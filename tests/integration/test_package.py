"""The Debian package: `cpack -G DEB` from the build folder, then
dpkg-deb lists the expected files, the conffile, the dependencies and
maintainer scripts; the packaged configuration passes `zerobmc -n` and
documents every key the agent knows.
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
BUILD = os.path.abspath(os.environ.get("ZB_BUILD") or
                        os.path.join(SOURCE, "build"))

EXPECTED = [
    "./usr/bin/zerobmc",
    "./usr/lib/systemd/system/zerobmc.service",
    "./usr/lib/systemd/system/zerobmc-gadget.service",
    "./usr/lib/sysusers.d/zerobmc.conf",
    "./etc/zerobmc/zerobmc.conf",
    "./etc/zerobmc/macros/",
    "./var/lib/zerobmc/images/",
    "./usr/share/doc/zerobmc/examples/mosquitto-acl",
    "./usr/share/doc/zerobmc/examples/mosquitto.conf",
    "./usr/share/doc/zerobmc/examples/node-red-flow.json",
    "./usr/share/doc/zerobmc/examples/home-assistant/dashboard-card.yaml",
    "./usr/share/bash-completion/completions/zerobmc",
]


def build_deb(outdir):
    """cpack into outdir; returns the .deb's path (or skips)."""
    for tool in ("cpack", "dpkg-deb", "dpkg-shlibdeps"):
        if not shutil.which(tool):
            raise unittest.SkipTest(f"{tool} not installed")
    cfg = os.path.join(BUILD, "CPackConfig.cmake")
    if not os.path.exists(cfg):
        raise unittest.SkipTest(f"no {cfg}")
    r = subprocess.run(["cpack", "-G", "DEB", "-B", outdir, "--config", cfg],
                       cwd=BUILD, capture_output=True, text=True,
                       timeout=600)
    if r.returncode:
        raise AssertionError(f"cpack failed:\n{r.stdout}\n{r.stderr}")
    debs = [f for f in os.listdir(outdir) if f.endswith(".deb")]
    assert len(debs) == 1, debs
    return os.path.join(outdir, debs[0])


def config_keys():
    """(section, key) of every row of firmware/core/config_table.c."""
    with open(os.path.join(SOURCE, "firmware", "core", "config_table.c")) as f:
        text = f.read()
    table = text[text.index("config_keys[] = {"):]
    table = table[:table.index("\n};")]
    return re.findall(r'\(?\{?\s*"(\w+)",\s*"(\w+)"', table)


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zbdeb-")
        cls.deb = build_deb(os.path.join(cls.tmp, "out"))
        cls.root = os.path.join(cls.tmp, "root")
        subprocess.run(["dpkg-deb", "-x", cls.deb, cls.root], check=True)
        cls.ctrl = os.path.join(cls.tmp, "DEBIAN")
        subprocess.run(["dpkg-deb", "-e", cls.deb, cls.ctrl], check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def field(self, name):
        return subprocess.run(["dpkg-deb", "-f", self.deb, name], check=True,
                              capture_output=True, text=True).stdout.strip()

    def test_files(self):
        out = subprocess.run(["dpkg-deb", "-c", self.deb], check=True,
                             capture_output=True, text=True).stdout
        listed = [line.split()[-1] for line in out.splitlines()]
        for path in EXPECTED:
            self.assertIn(path, listed)
        mode = [line.split()[0] for line in out.splitlines()
                if line.split()[-1] == "./usr/bin/zerobmc"][0]
        self.assertEqual(mode, "-rwxr-xr-x")

    def test_control(self):
        self.assertEqual(self.field("Package"), "zerobmc")
        self.assertEqual(self.field("Version"), zbtest_version())
        depends = self.field("Depends")
        for lib in ("libpaho-mqtt", "libcjson", "libmbedtls", "libinih",
                    "libusbgx", "libc6"):
            self.assertIn(lib, depends)
        with open(os.path.join(self.ctrl, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/zerobmc/zerobmc.conf"])
        for script in ("postinst", "prerm", "postrm"):
            path = os.path.join(self.ctrl, script)
            self.assertTrue(os.access(path, os.X_OK), script)
            subprocess.run(["sh", "-n", path], check=True)

    def test_binary_and_config(self):
        binary = os.path.join(self.root, "usr", "bin", "zerobmc")
        if os.environ.get("ZEROBMC_WRAPPER"):
            # A cross build's package: its agent runs under the emulator.
            binary = zbtest.wrap_binary(binary,
                                        os.environ["ZEROBMC_WRAPPER"])
        out = subprocess.run([binary, "-V"], check=True, capture_output=True,
                             text=True).stdout
        self.assertIn(zbtest_version(), out)
        conf = os.path.join(self.root, "etc", "zerobmc", "zerobmc.conf")
        r = subprocess.run([binary, "-n", "-c", conf], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        # Every key, with its default uncommented, is still valid.
        with open(conf) as f:
            text = f.read()
        full = os.path.join(self.tmp, "all.conf")
        with open(full, "w") as f:
            f.write(re.sub(r"(?m)^;(\w+ =)", r"\1", text))
        r = subprocess.run([binary, "-n", "-c", full], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        section = None
        present = set()
        for line in text.splitlines():
            m = re.match(r"^\[(\w+)\]", line)
            if m:
                section = m.group(1)
            m = re.match(r"^;?(\w+) =", line)
            if m:
                present.add((section, m.group(1)))
        missing = [k for k in config_keys() if k not in present]
        self.assertEqual(missing, [], "keys not in the default config")


def zbtest_version():
    out = subprocess.run([zbtest.ZEROBMC, "-V"], check=True,
                         capture_output=True, text=True).stdout
    return out.split()[-1]


if __name__ == "__main__":
    unittest.main(verbosity=2)
