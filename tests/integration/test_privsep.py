"""Started as root outside systemd, the real agent sets up and then runs
as [agent] user for good: every uid and gid of the process (real,
effective, saved, filesystem) and its groups are the user's, it still
types on the keyboard it opened, and a secret file that belongs to root
is then refused because the agent's user does not own it. The lab
(tests/lab/test_gadget.py) does the same with the real kernel gadget.
"""
import os
import pwd
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402

USER = "nobody"


def ids(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Uid", "Gid", "Groups"):
                out[k] = v.split()
    return out


@unittest.skipUnless(os.geteuid() == 0, "dropping privileges needs root")
class Privsep(unittest.TestCase):
    def setUp(self):
        self.pw = pwd.getpwnam(USER)

    def test_drops_to_user_and_still_types(self):
        kb = zbtest.Keyboard()
        # The keyboard is the user's, as `zerobmc gadget up` leaves it.
        os.chown(kb.path, self.pw.pw_uid, self.pw.pw_gid)
        tmp = tempfile.mkdtemp(prefix="zbpriv-")
        os.chmod(tmp, 0o755)
        broker = zbtest.Broker(tmp).start()
        agent = zbtest.Agent(tmp, broker.port, "priv1", keyboard=kb,
                             sections={"agent": {"user": USER},
                                       "macros": {"dir": tmp}})
        client = zbtest.Client(broker.port)
        client.subscribe("zerobmc/priv1/#")
        agent.start()
        try:
            client.wait(lambda m: m["topic"] == "zerobmc/priv1/status"
                        and m["payload"] == b"online", 10, "online")
            got = ids(agent.proc.pid)
            uid, gid = str(self.pw.pw_uid), str(self.pw.pw_gid)
            self.assertEqual(got["Uid"], [uid] * 4, got)
            self.assertEqual(got["Gid"], [gid] * 4, got)
            self.assertEqual(got["Groups"], [gid], got)
            self.assertIn(f"running as user {USER}", agent.log_text())
            client.publish("zerobmc/priv1/cmd/key", '{"id":"p1","keys":"a"}')
            m = client.wait(zbtest.result_for("priv1", "p1"), 5)
            self.assertIn(b'"status":"ok"', m["payload"])
            reps = [r for r in kb.reports(until_idle=0.3) if any(r)]
            self.assertTrue(reps and reps[0][2] == 0x04, reps)
        finally:
            client.close()
            agent.stop()
            agent.logf.close()
            broker.stop()
            kb.close()
            shutil.rmtree(tmp, ignore_errors=True)

    def test_root_secret_refused_after_drop(self):
        tmp = tempfile.mkdtemp(prefix="zbpriv-")
        self.addCleanup(shutil.rmtree, tmp, True)
        os.chmod(tmp, 0o755)
        pw = os.path.join(tmp, "pw")
        with open(pw, "w") as f:
            f.write("secret\n")
        os.chmod(pw, 0o600)
        kb = zbtest.Keyboard()
        os.chown(kb.path, self.pw.pw_uid, self.pw.pw_gid)
        agent = zbtest.Agent(tmp, 1, "priv2", keyboard=kb, sections={
            "agent": {"user": USER},
            "mqtt": {"username": "u", "password_file": pw}}).start()
        try:
            self.assertNotEqual(agent.proc.wait(10), 0)
        finally:
            agent.stop()
            agent.logf.close()
            kb.close()
        # A root-owned 0600 file cannot even be opened: the error says
        # whose it must be.
        self.assertIn(f"password_file {pw}: Permission denied for the "
                      f"agent's user {USER} (fix: chown {USER} {pw} and "
                      f"chmod 600 {pw})", agent.log_text())

    def test_unknown_user_is_an_error(self):
        tmp = tempfile.mkdtemp(prefix="zbpriv-")
        self.addCleanup(shutil.rmtree, tmp, True)
        agent = zbtest.Agent(tmp, 1, "priv3", sections={
            "agent": {"user": "zb-no-such-user"}}).start()
        try:
            self.assertNotEqual(agent.proc.wait(10), 0)
        finally:
            agent.stop()
            agent.logf.close()
            agent.keyboard.close()
        self.assertIn("user zb-no-such-user: no such user (create it: "
                      "adduser --system --group zb-no-such-user, or set "
                      "[agent] user)", agent.log_text())


if __name__ == "__main__":
    unittest.main()
