"""The systemd side: `systemd-analyze verify` passes on the unit without a
single warning, and the real agent speaks the notify protocol (READY=1,
STATUS=, WATCHDOG=1 at half the interval, STOPPING=1) on a
$NOTIFY_SOCKET the test owns, as systemd would see it.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402

SOURCE = os.path.abspath(os.environ.get("ZB_SOURCE") or os.path.join(
    os.path.dirname(__file__), "..", ".."))
UNIT = os.path.join(SOURCE, "packaging", "zerobmc.service")


def built_with_systemd():
    cache = os.path.join(os.environ.get("ZB_BUILD", ""), "CMakeCache.txt")
    try:
        with open(cache) as f:
            return "ZB_SYSTEMD:BOOL=OFF" not in f.read()
    except OSError:
        return True


class UnitTest(unittest.TestCase):
    def test_verify(self):
        sa = shutil.which("systemd-analyze")
        if not sa:
            self.skipTest("systemd-analyze not installed")
        tmp = tempfile.mkdtemp(prefix="zbunit-")
        self.addCleanup(shutil.rmtree, tmp, True)
        # verify checks that ExecStart= exists: point it at the build.
        with open(UNIT) as f:
            text = f.read().replace("/usr/bin/zerobmc", zbtest.ZEROBMC)
        path = os.path.join(tmp, "zerobmc.service")
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([sa, "verify", "--man=no", path],
                           capture_output=True, text=True, timeout=120)
        out = (r.stdout + r.stderr).strip()
        self.assertEqual(r.returncode, 0, out)
        # verify exits 0 on unknown keys and bad values: any line about
        # the unit is a failure.
        self.assertNotIn("zerobmc.service", out, out)

    def test_hardening(self):
        with open(UNIT) as f:
            text = f.read()
        for line in ("Type=notify", "WatchdogSec=", "Restart=always",
                     "ProtectSystem=strict", "ProtectHome=yes",
                     "PrivateTmp=yes", "NoNewPrivileges=yes",
                     "ReadWritePaths=/var/lib/zerobmc /sys/kernel/config",
                     "CapabilityBoundingSet="):
            self.assertIn("\n" + line, text)


class NotifyTest(unittest.TestCase):
    def setUp(self):
        if not built_with_systemd():
            self.skipTest("built with -DZB_SYSTEMD=OFF: notify is a no-op")
        self.tmp = tempfile.mkdtemp(prefix="zbnotify-")
        self.sock_path = os.path.join(self.tmp, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        self.sock.settimeout(0.2)
        self.broker = zbtest.Broker(self.tmp).start()

    def tearDown(self):
        self.broker.stop()
        self.sock.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def messages(self, until, timeout):
        got = []
        end = time.time() + timeout
        while time.time() < end:
            try:
                data = self.sock.recv(4096).decode()
            except socket.timeout:
                continue
            got.append((time.monotonic(), data))
            if until(data):
                break
        return got

    def test_ready_watchdog_stopping(self):
        agent = zbtest.Agent(self.tmp, self.broker.port, "sd1")
        env = dict(os.environ, NOTIFY_SOCKET=self.sock_path,
                   WATCHDOG_USEC="1000000")
        agent.logf = open(agent.log, "ab")
        agent.proc = subprocess.Popen([zbtest.ZEROBMC, "-c", agent.conf],
                                      stdout=agent.logf,
                                      stderr=agent.logf, env=env)
        try:
            got = self.messages(lambda d: "READY=1" in d, 10)
            self.assertTrue(any("READY=1" in d for _, d in got), got)
            got = self.messages(lambda d: d.startswith("STATUS=connected"),
                                10)
            self.assertTrue(got and got[-1][1].startswith(
                "STATUS=connected to 127.0.0.1"), got)
            # WatchdogSec=1 s: a ping every half second.
            got = [t for t, d in self.messages(lambda d: False, 2.6)
                   if d == "WATCHDOG=1"]
            self.assertGreaterEqual(len(got), 4)
            gaps = [b - a for a, b in zip(got, got[1:])]
            self.assertTrue(all(0.35 < g < 0.75 for g in gaps), gaps)
            # The broker goes away: the status says so.
            self.broker.stop()
            got = self.messages(lambda d: d.startswith("STATUS=broker"), 15)
            self.assertTrue(got and got[-1][1].startswith("STATUS=broker"),
                            got)
            agent.proc.terminate()
            got = self.messages(lambda d: d == "STOPPING=1", 10)
            self.assertEqual(got[-1][1], "STOPPING=1")
            self.assertEqual(agent.proc.wait(10), 0)
        finally:
            agent.stop()
            agent.keyboard.close()

    def test_no_socket_no_noise(self):
        """Outside systemd (no NOTIFY_SOCKET) the agent runs as before."""
        env = zbtest.Env("sd2")
        try:
            env.wait_online()
            self.assertNotIn("READY=1 could not", env.agent.log_text())
        finally:
            env.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
