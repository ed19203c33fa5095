"""Secrets guarded, with the real agent: password_file, psk_file and
key_file are refused unless they belong to the agent's user and nobody
else may read or change them, with an error naming the file and the fix;
an over-long password is an error, not cut; a password over tcp:// to a
host that is not loopback is refused unless [mqtt]
allow_plaintext_password = true; and the id "group" is reserved.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402


class Secrets(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zbsecret-")
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def secret(self, content, mode=0o600, owner=None):
        Secrets.n += 1
        path = os.path.join(self.tmp, f"secret{self.n}")
        with open(path, "w") as f:
            f.write(content)
        os.chmod(path, mode)
        if owner is not None:
            os.chown(path, owner, -1)
        return path

    def run_agent(self, mqtt):
        """The agent's exit code and log: it must stop at start."""
        Secrets.n += 1
        a = zbtest.Agent(self.tmp, 1, f"s{self.n}", sections={"mqtt": mqtt})
        a.start()
        try:
            rc = a.proc.wait(10)
        finally:
            a.stop()
            a.keyboard.close()
            a.logf.close()
        return rc, a.log_text()

    def check(self, conf):
        """zerobmc -n on a configuration text: (exit code, output)."""
        Secrets.n += 1
        path = os.path.join(self.tmp, f"check{self.n}.conf")
        with open(path, "w") as f:
            f.write(conf)
        r = subprocess.run([zbtest.ZEROBMC, "-n", "-c", path],
                           capture_output=True, text=True, timeout=10)
        return r.returncode, r.stdout + r.stderr

    def test_password_file_readable_by_others_refused(self):
        for mode in (0o644, 0o640, 0o604, 0o620):
            pw = self.secret("pw\n", mode)
            rc, log = self.run_agent({"username": "u", "password_file": pw})
            self.assertNotEqual(rc, 0)
            self.assertIn(f"password_file {pw}: mode 0{mode:o} lets others "
                          f"read or change it: refused (fix: chmod 600 "
                          f"{pw})", log)

    def test_password_file_of_another_user_refused(self):
        if os.geteuid() != 0:
            self.skipTest("chown to another user needs root")
        pw = self.secret("pw\n", 0o600, owner=65534)
        rc, log = self.run_agent({"username": "u", "password_file": pw})
        self.assertNotEqual(rc, 0)
        self.assertIn(f"password_file {pw}: owned by uid 65534, not by the "
                      "agent's user", log)
        self.assertIn(f"(fix: chown root {pw})", log)

    def test_overlong_password_is_an_error(self):
        pw = self.secret("x" * 300 + "\n")
        rc, log = self.run_agent({"username": "u", "password_file": pw})
        self.assertNotEqual(rc, 0)
        self.assertIn(f"password_file {pw}: longer than 255 bytes: refused "
                      "rather than cut", log)
        # 255 bytes and a newline fit: the agent runs (and retries the
        # absent broker).
        pw = self.secret("x" * 255 + "\n")
        Secrets.n += 1
        a = zbtest.Agent(self.tmp, 1, f"s{self.n}", sections={
            "mqtt": {"username": "u", "password_file": pw}}).start()
        try:
            with self.assertRaises(subprocess.TimeoutExpired):
                a.proc.wait(1.5)
        finally:
            a.stop()
            a.keyboard.close()
            a.logf.close()
        self.assertNotIn("password_file", a.log_text())

    def test_psk_file_readable_by_others_refused(self):
        psk = self.secret("00112233445566778899aabbccddeeff\n", 0o644)
        rc, log = self.run_agent({"uri": "mqtts://127.0.0.1:1",
                                  "psk_identity": "x", "psk_file": psk})
        self.assertNotEqual(rc, 0)
        self.assertIn(f"psk_file {psk}: mode 0644 lets others read or "
                      f"change it: refused (fix: chmod 600 {psk})", log)

    def test_key_file_readable_by_others_refused(self):
        key = os.path.join(self.tmp, "client.key")
        crt = os.path.join(self.tmp, "client.crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", crt, "-subj", "/CN=t",
                        "-days", "1"], check=True, capture_output=True)
        os.chmod(key, 0o640)
        rc, log = self.run_agent({"uri": "mqtts://127.0.0.1:1",
                                  "cert_file": crt, "key_file": key})
        self.assertNotEqual(rc, 0)
        self.assertIn(f"key_file {key}: mode 0640 lets others read or "
                      f"change it: refused (fix: chmod 600 {key})", log)

    def test_plaintext_password_off_loopback_refused(self):
        pw = self.secret("pw\n")
        base = f"[agent]\nid = a\n[mqtt]\npassword_file = {pw}\n"
        for uri in ("tcp://192.0.2.1:1883", "mqtt://broker.example:1883",
                    "tcp://[2001:db8::1]:1883"):
            rc, out = self.check(base + f"uri = {uri}\n")
            self.assertNotEqual(rc, 0, uri)
            self.assertIn("password_file: refused: the password would "
                          "cross the network in clear", out)
            self.assertIn("allow_plaintext_password = true", out)
            rc, out = self.check(base + f"uri = {uri}\n"
                                 "allow_plaintext_password = true\n")
            self.assertEqual(rc, 0, out)
        for uri in ("tcp://127.0.0.1:1883", "tcp://127.1.2.3",
                    "tcp://localhost:1883", "tcp://[::1]:1883",
                    "mqtts://broker.example:8883"):
            rc, out = self.check(base + f"uri = {uri}\n")
            self.assertEqual(rc, 0, f"{uri}: {out}")
        # No password: nothing to protect.
        rc, out = self.check("[agent]\nid = a\n[mqtt]\n"
                             "uri = tcp://192.0.2.1:1883\n")
        self.assertEqual(rc, 0, out)

    def test_id_group_reserved(self):
        rc, out = self.check("[agent]\nid = group\n")
        self.assertNotEqual(rc, 0)
        self.assertIn('"group" is reserved', out)
        rc, out = self.check("[agent]\nid = groups\n")
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    unittest.main()
