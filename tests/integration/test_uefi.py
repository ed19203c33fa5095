"""cmd/uefi: a UEFI shell script run on the server, its output read back,
through the real agent, broker, mkfs.vfat and mtools.

The stand-in for the UEFI shell is a file of random bytes; the stand-in
for the server is test_boot.FakeServer (it boots the medium first and
reads it), and the test writes the script's output and the done marker
into the image with mcopy, as the shell's FAT driver would through the
gadget.
"""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from test_boot import BootEnv  # noqa: E402
import zbtest  # noqa: E402

MT = dict(os.environ, MTOOLS_SKIP_CHECK="1")


def mtype(image, member):
    r = subprocess.run(["mtype", "-i", image, member], env=MT,
                       capture_output=True)
    return r.returncode, r.stdout


def mput(image, data, member):
    src = image + ".src"
    with open(src, "wb") as f:
        f.write(data)
    subprocess.run(["mcopy", "-o", "-i", image, src, member], env=MT,
                   check=True)
    os.unlink(src)


class UefiEnv(BootEnv):
    def __init__(self, agent_id, shell=True, writable=True):
        import tempfile
        self.shell_dir = tempfile.mkdtemp(prefix="zbshell-")
        self.shell = os.path.join(self.shell_dir, "Shell.efi")
        with open(self.shell, "wb") as f:
            f.write(os.urandom(300 * 1024))
        super().__init__(agent_id, firmware="ovmf", positions=1,
                         extra_sections={
                             "uefi": {"shell": self.shell if shell else ""},
                         },
                         media_extra={"allow_writable":
                                      "true" if writable else "false"})
        self.uefi_image = os.path.join(self.images, "zerobmc-uefi.img")
        self.image = self.uefi_image  # what the fake server reads

    def uefi_state(self, pred, timeout=15):
        m = self.client.wait(zbtest.state_of(self.id, "uefi", pred), timeout,
                             "state.uefi")
        return json.loads(m["payload"])["uefi"]

    def start_uefi(self, payload):
        self.seq += 1
        cid = f"u{self.seq}"
        self.client.publish(f"zerobmc/{self.id}/cmd/uefi",
                            json.dumps(dict(payload, id=cid)))
        return cid

    def close(self):
        super().close()
        import shutil
        shutil.rmtree(self.shell_dir, ignore_errors=True)


def make_env(test, **kw):
    name = "ue%s%d" % (test._testMethodName[-8:].replace("_", ""),
                        len(test._cleanups))
    env = UefiEnv(name, **kw)
    test.addCleanup(env.close)
    env.wait_online()
    return env


class Uefi(unittest.TestCase):
    def env(self, **kw):
        return make_env(self, **kw)

    def test_script_output_read_back(self):
        env = self.env()
        env.serve(boots=["media-first"])
        cid = env.start_uefi({"script": "bcfg boot dump -v\n"
                              "if exist fs0:\\x then\n"
                              "  echo yes\n"
                              "endif\n"
                              "bcfg boot mv 3 0",
                              "timeout_s": 10})
        env.uefi_state(lambda u: u.get("phase") == "script")
        # The image as the server sees it.
        rc, shell = mtype(env.uefi_image, "::/EFI/BOOT/BOOTX64.EFI")
        self.assertEqual(rc, 0)
        with open(env.shell, "rb") as f:
            self.assertEqual(shell, f.read())
        rc, nsh = mtype(env.uefi_image, "::/startup.nsh")
        self.assertEqual(rc, 0)
        nsh = nsh.decode()
        self.assertIn("bcfg boot dump -v >>a %zbfs%\\zerobmc\\out.txt\r\n",
                      nsh)
        self.assertIn("bcfg boot mv 3 0 >>a %zbfs%\\zerobmc\\out.txt\r\n",
                      nsh)
        # startup.nsh finds its medium by the job's file, which is there.
        r = subprocess.run(["mdir", "-b", "-i", env.uefi_image,
                            "::/zerobmc"], env=MT, capture_output=True,
                           text=True, check=True)
        ids = [os.path.basename(x) for x in r.stdout.split()
               if x.endswith(".id")]
        self.assertEqual(len(ids), 1, r.stdout)
        self.assertIn("if exist fs%%i:\\zerobmc\\%s then\r\n" % ids[0], nsh)
        # Control lines are left alone.
        self.assertIn("if exist fs0:\\x then\r\n", nsh)
        self.assertIn("endif\r\n", nsh)
        self.assertLess(nsh.index("bcfg boot mv"), nsh.index("done.txt"))
        self.assertLess(nsh.index("done.txt"), nsh.index("reset"))
        # The server runs it: output first, then the marker.
        out = (b"Option: 00. Variable: Boot0003\r\n"
               b"  Desc    - UEFI Shell\r\n\xff\r\n")
        mput(env.uefi_image, out, "::/zerobmc/out.txt")
        time.sleep(1.2)
        self.assertTrue(env.agent.alive())
        reboots = env.server.reboots
        mput(env.uefi_image, b"done\r\n", "::/zerobmc/done.txt")
        res = env.result(cid, 15)
        # The agent reset the server after the eject and answered once
        # its USB came back: no script is left waiting to reset it.
        self.assertEqual(env.server.reboots, reboots + 1, env.server.all)
        self.assertNotIn("reset", res)
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["output"],
                         "Option: 00. Variable: Boot0003\n"
                         "  Desc    - UEFI Shell\n?\n")
        self.assertEqual(res["boot"]["strategy"], "media-first")
        self.assertEqual(set(res["phases"]),
                         {"build", "boot", "script", "read", "reset"})
        self.assertGreaterEqual(res["phases"]["script"], 1000)
        self.assertEqual(res["image"], "zerobmc-uefi.img")
        # Ejected, so that the shell's reset boots the server normally.
        with open(os.path.join(env.lun, "file")) as f:
            self.assertEqual(f.read().strip(), "")
        env.uefi_state(lambda u: u.get("running") is False)
        # Nothing of the build is left behind but the image.
        self.assertEqual(sorted(os.listdir(env.images)),
                         ["boot.img", "zerobmc-uefi.img"])

    def test_reset_not_seen(self):
        """A server that ignores Ctrl+Alt+Del in the shell and keeps its
        USB configured across the script's own reset: the output still
        comes back ok, with a note that the reset was not seen."""
        env = self.env()
        env.serve(boots=["media-first"])
        cid = env.start_uefi({"script": "ver", "timeout_s": 2})
        env.uefi_state(lambda u: u.get("phase") == "script")
        env.server.honours = set()
        reboots = env.server.reboots
        mput(env.uefi_image, b"UEFI Interactive Shell v2.2\r\n",
             "::/zerobmc/out.txt")
        mput(env.uefi_image, b"done\r\n", "::/zerobmc/done.txt")
        env.uefi_state(lambda u: u.get("phase") == "reset")
        t0 = time.time()
        res = env.result(cid, 30)
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["output"], "UEFI Interactive Shell v2.2\n")
        self.assertRegex(res["reset"], r"^not seen: line 3: WAIT_USB "
                         r"configured: timed out after 12000 ms")
        self.assertGreater(time.time() - t0, 8)
        self.assertEqual(env.server.reboots, reboots)
        with open(os.path.join(env.lun, "file")) as f:
            self.assertEqual(f.read().strip(), "")
        # The keyboard is free again.
        self.assertEqual(env.cmd("key", {"keys": "a"})["status"], "ok")

    def test_cancel_while_waiting_for_the_reset(self):
        env = self.env()
        env.serve(boots=["media-first"])
        cid = env.start_uefi({"script": "ver", "timeout_s": 30})
        env.uefi_state(lambda u: u.get("phase") == "script")
        env.server.honours = set()
        mput(env.uefi_image, b"done\r\n", "::/zerobmc/done.txt")
        env.uefi_state(lambda u: u.get("phase") == "reset")
        r = env.cmd("uefi", {"cancel": True})
        self.assertEqual(r["status"], "ok", r)
        self.assertTrue(r["cancelled"])
        res = env.result(cid)
        self.assertEqual(res["status"], "cancelled", res)
        self.assertEqual(res["phase"], "reset")
        self.assertEqual(res["output"], "")
        env.uefi_state(lambda u: u.get("running") is False)
        self.assertEqual(env.cmd("key", {"keys": "a"})["status"], "ok")

    def test_no_marker_times_out_and_ejects(self):
        env = self.env()
        env.serve(boots=["media-first"])
        res = env.result(env.start_uefi({"script": "ver", "timeout_s": 2}),
                         20)
        self.assertEqual(res["status"], "error", res)
        self.assertIn("no done marker within 2000 ms", res["error"])
        self.assertEqual(res["phase"], "script")
        self.assertIsNone(res["output"])
        with open(os.path.join(env.lun, "file")) as f:
            self.assertEqual(f.read().strip(), "")

    def test_boot_not_proven(self):
        env = self.env()
        env.serve(boots=[])
        res = env.result(env.start_uefi({"script": "ver", "timeout_s": 1}),
                         30)
        self.assertEqual(res["status"], "error", res)
        self.assertEqual(res["phase"], "boot")
        self.assertIn("no strategy booted", res["error"])
        self.assertEqual(len(res["boot"]["attempts"]), 3)

    def test_cancel_and_busy(self):
        env = self.env()
        env.serve(boots=["media-first"])
        cid = env.start_uefi({"script": "ver", "timeout_s": 30})
        env.uefi_state(lambda u: u.get("phase") == "script")
        for name, payload in (("uefi", {"script": "ver"}),
                              ("boot", {"media": "boot.img"}),
                              ("key", {"keys": "a"})):
            r = env.cmd(name, payload)
            self.assertEqual(r["status"], "busy", (name, r))
            self.assertIn("cmd/uefi is running", r["error"])
        r = env.cmd("uefi", {"cancel": True})
        self.assertEqual(r["status"], "ok")
        self.assertTrue(r["cancelled"])
        res = env.result(cid)
        self.assertEqual(res["status"], "cancelled", res)
        with open(os.path.join(env.lun, "file")) as f:
            self.assertEqual(f.read().strip(), "")
        # Cancelled during the boot: the boot's attempt says so.
        env.server.boots = set()
        env.client.clear()
        cid = env.start_uefi({"script": "ver", "timeout_s": 30})
        env.uefi_state(lambda u: u.get("phase") == "boot")
        env.agent.stop()
        res = env.result(cid)
        self.assertEqual(res["status"], "cancelled", res)
        self.assertEqual(res["phase"], "boot")
        self.assertEqual(res["boot"]["attempts"][-1]["outcome"], "cancelled")

    def test_hostile_scripts(self):
        env = self.env()
        cases = [
            ({"script": "reset"}, "must not reset"),
            ({"script": "ver\n  RESET -s"}, "must not reset"),
            ({"script": ""}, "empty"),
            ({"script": 5}, "\"script\""),
            ({"script": "x" * 20000}, "script too long: 20000 bytes"),
            ({"script": "echo " + "a" * 300}, "longer than 256"),
            ({"script": "echo \u00e9"}, "printable ASCII"),
            ({"script": "echo \x1b[2J"}, "byte 0x1b"),
            ({"script": ":zbrun\nver"}, "labels"),
            ({"script": "ver", "timeout_s": -1}, "timeout_s"),
            ({"script": "ver", "media": "x.img"}, "unknown field"),
        ]
        for payload, want in cases:
            r = env.cmd("uefi", payload)
            self.assertEqual(r["status"], "error", (payload, r))
            self.assertIn(want, r["error"], (payload, r))
        self.assertTrue(env.agent.alive())
        self.assertFalse(os.path.exists(env.uefi_image))

    def test_needs_shell_and_writable_media(self):
        env = self.env(shell=False)
        r = env.cmd("uefi", {"script": "ver"})
        self.assertEqual(r["status"], "error")
        self.assertIn("[uefi] shell", r["error"])
        env2 = self.env(writable=False)
        r = env2.cmd("uefi", {"script": "ver"})
        self.assertEqual(r["status"], "error")
        self.assertIn("allow_writable", r["error"])


if __name__ == "__main__":
    unittest.main()
