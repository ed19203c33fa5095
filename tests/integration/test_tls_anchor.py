"""The trust store is parsed once (issue 17): a reconnect does not read
and parse the CA bundle again. Shown by spoiling ca_file after the first
connection: the agent still comes back over TLS after a broker restart,
trusting the anchor that verified the broker the first time."""
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import tlspki  # noqa: E402
import zbtest  # noqa: E402


class Anchor(unittest.TestCase):
    def test_reconnect_does_not_reparse_the_ca_file(self):
        tmp = tempfile.mkdtemp(prefix="zbtls-")
        self.addCleanup(shutil.rmtree, tmp, True)
        pki = tlspki.Pki(tmp)
        ca = os.path.join(tmp, "ca-copy.crt")
        shutil.copy(pki.path("ca.crt"), ca)
        port = zbtest.free_port()
        env = zbtest.Env("anchor1", broker_conf=pki.listener(port),
                         sections={"mqtt": {
                             "uri": f"mqtts://127.0.0.1:{port}",
                             "ca_file": ca}})
        self.addCleanup(env.close)
        env.wait_online()
        with open(ca, "w") as f:
            f.write("not a certificate\n")
        env.client.close()
        env.broker.stop()
        env.broker.start()
        zbtest.wait_port(port)
        env.client = zbtest.Client(env.broker.port)
        env.client.subscribe("zerobmc/anchor1/#")
        env.wait_online(timeout=20)
        self.assertNotIn("ca_file", env.agent.log_text().split(
            "connected to", 1)[1])
        self.assertEqual(env.cmd("key", {"keys": "a"})["status"], "ok")


if __name__ == "__main__":
    unittest.main()
