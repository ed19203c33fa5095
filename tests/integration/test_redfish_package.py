"""The gateway's own Debian package: `cpack --config
CPackConfig-redfish.cmake` gives zerobmc-redfish_<version>_<arch>.deb with
the binary, its systemd unit, its conffile and maintainer scripts; the
agent's package does not carry the gateway."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import test_package  # noqa: E402

BUILD = test_package.BUILD


def cpack(cfg_name, outdir):
    cfg = os.path.join(BUILD, cfg_name)
    if not os.path.exists(cfg):
        raise unittest.SkipTest(f"no {cfg} (gateway not built here)")
    r = subprocess.run(["cpack", "-G", "DEB", "-B", outdir, "--config",
                        cfg], cwd=BUILD, capture_output=True, text=True,
                       timeout=600)
    if r.returncode:
        raise AssertionError(f"cpack failed:\n{r.stdout}\n{r.stderr}")
    return [os.path.join(outdir, f) for f in os.listdir(outdir)
            if f.endswith(".deb")]


class RedfishPackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("cpack", "dpkg-deb", "dpkg-shlibdeps"):
            if not shutil.which(tool):
                raise unittest.SkipTest(f"{tool} not installed")
        cls.out = tempfile.mkdtemp(prefix="zbrfdeb-")
        debs = cpack("CPackConfig-redfish.cmake", cls.out)
        assert len(debs) == 1, debs
        cls.deb = debs[0]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def test_files_and_control(self):
        self.assertRegex(os.path.basename(self.deb),
                         r"^zerobmc-redfish_[0-9.]+_\w+\.deb$")
        files = subprocess.run(["dpkg-deb", "-c", self.deb], check=True,
                               capture_output=True, text=True).stdout
        for f in ("./usr/bin/zerobmc-redfish", "./etc/zerobmc/redfish.conf",
                  "./usr/lib/systemd/system/zerobmc-redfish.service",
                  "./usr/share/doc/zerobmc-redfish/REDFISH.md"):
            self.assertIn(f, files)
        self.assertNotIn("./usr/bin/zerobmc\n", files)
        dep = subprocess.run(["dpkg-deb", "-f", self.deb, "Depends"],
                             check=True, capture_output=True,
                             text=True).stdout
        for d in ("libmicrohttpd", "libcrypt", "openssl"):
            self.assertIn(d, dep)
        ctrl = tempfile.mkdtemp(dir=self.out)
        subprocess.run(["dpkg-deb", "-e", self.deb, ctrl], check=True)
        with open(os.path.join(ctrl, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/zerobmc/redfish.conf"])
        for s in ("postinst", "prerm", "postrm"):
            self.assertTrue(os.access(os.path.join(ctrl, s), os.X_OK), s)
        # The shipped configuration is valid as it is (but for the users
        # file and certificate, which postinst makes).
        root = tempfile.mkdtemp(dir=self.out)
        subprocess.run(["dpkg-deb", "-x", self.deb, root], check=True)
        conf = os.path.join(root, "etc/zerobmc/redfish.conf")
        r = subprocess.run([os.path.join(root, "usr/bin/zerobmc-redfish"),
                            "-n", "-c", conf], capture_output=True,
                           text=True)
        self.assertIn("/etc/zerobmc/redfish.users", r.stderr)

    def test_agent_package_has_no_gateway(self):
        out = tempfile.mkdtemp(dir=self.out)
        debs = cpack("CPackConfig.cmake", out)
        files = subprocess.run(["dpkg-deb", "-c", debs[0]], check=True,
                               capture_output=True, text=True).stdout
        self.assertIn("./usr/bin/zerobmc\n", files)
        self.assertNotIn("zerobmc-redfish", files)


if __name__ == "__main__":
    unittest.main(verbosity=2)
