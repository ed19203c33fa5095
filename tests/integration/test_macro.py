"""Macros through the real agent and a real broker.

A pseudo-terminal stands in for the keyboard (the test reads the reports)
and another for the serial console (the test writes the server's lines);
a plain file stands in for the UDC state file, rewritten in place by the
test (the agent watches it with inotify); a temporary folder is the
[macros] folder.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402

F2, ENTER, DELETE = 0x3b, 0x28, 0x4c
USAGE = {c: 0x04 + i for i, c in enumerate("abcdefghijklmnopqrstuvwxyz")}


def presses(reports, usage):
    """How often usage went down (it is in a report, not in the one before)."""
    n, before = 0, False
    for r in reports:
        now = usage in r[2:]
        if now and not before:
            n += 1
        before = now
    return n


def typed(reports):
    """The lower-case letters and Enters the reports type, in order."""
    names = {v: k for k, v in USAGE.items()}
    names[ENTER] = "\n"
    out, before = [], set()
    for r in reports:
        keys = set(k for k in r[2:] if k)
        for k in r[2:]:
            if k and k not in before and k in names:
                out.append(names[k])
        before = keys
    return "".join(out)


class MacroEnv(zbtest.Env):
    """An Env with a macros folder, a console pty and a UDC state file."""

    def __init__(self, agent_id, keyboard=None):
        self.root = tempfile.mkdtemp(prefix="zbmacro-")
        self.dir = os.path.join(self.root, "macros")
        self.udc = os.path.join(self.root, "udc_state")
        os.makedirs(self.dir)
        with open(self.udc, "w") as f:
            f.write("configured\n")
        super().__init__(agent_id, console=True, sections={
            "macros": {"dir": self.dir},
            "gadget": {"manage": "false", "udc_state": self.udc},
            "keyboard": {"write_timeout_ms": "2000"}})

    def close(self):
        super().close()
        if not os.environ.get("ZB_KEEP_TMP"):
            shutil.rmtree(self.root, ignore_errors=True)

    def set_udc(self, text):
        # In place, as sysfs changes: the same inode, rewritten.
        with open(self.udc, "r+") as f:
            f.seek(0)
            f.write(text + "\n")
            f.truncate()

    def write_macro(self, name, text, mode="w"):
        path = os.path.join(self.dir, name + ".txt")
        with open(path, mode) as f:
            f.write(text)
        return path

    def macro_state(self, pred, timeout=10, what="state.macro"):
        m = self.client.wait(zbtest.state_of(self.id, "macro", pred), timeout,
                             what)
        return json.loads(m["payload"])["macro"]

    def start(self, payload, cid):
        """Publish a macro command without waiting for its result."""
        self.client.publish(f"zerobmc/{self.id}/cmd/macro",
                            json.dumps(dict(payload, id=cid)))

    def result(self, cid, timeout=10):
        m = self.client.wait(zbtest.result_for(self.id, cid), timeout,
                             f"result {cid}")
        return json.loads(m["payload"])


class Macros(unittest.TestCase):
    def setUp(self):
        self.env = MacroEnv("mac1")
        self.addCleanup(self.env.close)
        self.env.wait_online()
        self.kb = self.env.agent.keyboard

    def test_file_macro_and_plain_payload(self):
        env = self.env
        env.write_macro("hello", "REM says hello\nSTRING hello\nENTER\n")
        env.macro_state(lambda s: "hello" in s.get("available", []))
        res = env.cmd("macro", {"name": "hello"})
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["name"], "hello")
        self.assertEqual(res["steps"], 2)
        reps = self.kb.reports(until_idle=0.3)
        self.assertEqual(typed(reps), "hello\n")
        self.assertEqual(reps[-1], bytes(8))
        # The plain form: the name alone.
        env.client.clear()
        env.client.publish(f"zerobmc/{env.id}/cmd/macro", "hello")
        m = env.client.wait(
            lambda m: m["topic"] == f"zerobmc/{env.id}/result"
            and json.loads(m["payload"]).get("cmd") == "macro", 10)
        self.assertEqual(json.loads(m["payload"])["status"], "ok")
        self.assertEqual(typed(self.kb.reports(until_idle=0.3)), "hello\n")
        st = env.macro_state(lambda s: s.get("last", {}).get("name") ==
                             "hello" and not s["running"])
        self.assertEqual(st["last"]["status"], "ok")

    def test_inline_script(self):
        res = self.env.cmd("macro", {"script": "GUI r\r\nSTRING cmd\r\n"
                                     "DELAY 100\r\nENTER\r\n"})
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["name"], "inline")
        reps = self.kb.reports(until_idle=0.3)
        self.assertEqual(reps[0][0], 0x08)  # GUI first, alone
        self.assertEqual(reps[1][0], 0x08)
        self.assertEqual(reps[1][2], USAGE["r"])
        self.assertEqual(typed(reps), "rcmd\n")
        # A label for an inline script.
        res = self.env.cmd("macro", {"script": "TAB", "name": "tabber"})
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["name"], "tabber")

    def test_builtins_and_override(self):
        env = self.env
        st = env.macro_state(lambda s: "available" in s)
        for name in ("enter_setup", "boot_menu", "ctrl_alt_del",
                     "sysrq_reboot"):
            self.assertIn(name, st["available"])
        res = env.cmd("macro", {"name": "ctrl_alt_del"})
        self.assertEqual(res["status"], "ok", res)
        reps = self.kb.reports(until_idle=0.3)
        self.assertIn(bytes([0x05, 0, DELETE, 0, 0, 0, 0, 0]), reps)
        # A file of the same name wins over the built-in.
        env.write_macro("ctrl_alt_del", "STRING override\n")
        res = env.cmd("macro", {"name": "ctrl_alt_del"})
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(typed(self.kb.reports(until_idle=0.3)), "override")

    def test_unknown_command_types_nothing(self):
        env = self.env
        env.write_macro("typo", "STRING first\nDELAY 10\n\nSTRNG second\n")
        res = env.cmd("macro", {"name": "typo"})
        self.assertEqual(res["status"], "error")
        self.assertEqual(res["line"], 4)
        self.assertIn("line 4: unknown command or key \"STRNG\"", res["error"])
        res = env.cmd("macro", {"script": "ENTER\nWAIT_USB online\n"})
        self.assertEqual(res["status"], "error")
        self.assertEqual(res["line"], 2)
        self.assertEqual(self.kb.reports(timeout=0.7, until_idle=0.5), [])
        res = env.cmd("macro", {"name": "nosuch"})
        self.assertEqual(res["status"], "error")
        self.assertIn("no macro \"nosuch\"", res["error"])

    def test_busy_and_queue(self):
        env = self.env
        env.start({"script": "DELAY 1500\nSTRING one\n"}, "first")
        env.macro_state(lambda s: s.get("running"))
        # The macro owns the keyboard even while it only waits.
        res = env.cmd("key", {"keys": "x"})
        self.assertEqual(res["status"], "busy")
        self.assertIn("macro", res["error"])
        res = env.cmd("type", {"text": "x"})
        self.assertEqual(res["status"], "busy")
        res = env.cmd("macro", {"script": "STRING two"})
        self.assertEqual(res["status"], "busy")
        self.assertIn("queue", res["error"])
        env.start({"script": "STRING two\n", "queue": True}, "second")
        st = env.macro_state(lambda s: s.get("queued") == 1)
        self.assertEqual(st["name"], "inline")
        r1 = env.result("first", 10)
        r2 = env.result("second", 10)
        self.assertEqual(r1["status"], "ok", r1)
        self.assertEqual(r2["status"], "ok", r2)
        self.assertEqual(typed(self.kb.reports(until_idle=0.3)), "onetwo")
        # The queue is bounded.
        env.start({"script": "DELAY 2s\n"}, "long")
        env.macro_state(lambda s: s.get("running"))
        for i in range(8):
            env.start({"script": "DELAY 1", "queue": True}, f"q{i}")
        env.macro_state(lambda s: s.get("queued") == 8)
        res = env.cmd("macro", {"script": "DELAY 1", "queue": True})
        self.assertEqual(res["status"], "busy")
        self.assertIn("queue is full", res["error"])
        for i in range(8):
            self.assertEqual(env.result(f"q{i}", 15)["status"], "ok")

    def test_state_progress(self):
        env = self.env
        env.start({"script": "ENTER\nDELAY 300\nREPEAT 3\nDELAY 2s\nTAB\n",
                   "name": "prog"}, "p")
        st = env.macro_state(lambda s: s.get("running") and
                             s.get("line") == 4, 10)
        self.assertEqual(st["name"], "prog")
        self.assertEqual(st["total"], 7)
        self.assertEqual(st["step"], 5)
        self.assertEqual(st["queued"], 0)
        self.assertEqual(env.result("p", 10)["status"], "ok")
        st = env.macro_state(lambda s: not s.get("running") and
                             s.get("last", {}).get("name") == "prog")
        self.assertNotIn("line", st)

    def test_cancel_mid_macro(self):
        env = self.env
        env.start({"script": "PROFILE bios\nSTRING " + "abc" * 100 + "\n"
                   "ENTER\n", "name": "slow"}, "slow")
        # Wait for typing to be under way.
        self.kb.reports(n=20, timeout=5)
        env.client.publish(f"zerobmc/{env.id}/cmd/macro",
                           json.dumps({"id": "stop", "name": "cancel"}))
        r = env.result("slow", 5)
        self.assertEqual(r["status"], "cancelled", r)
        self.assertEqual(r["line"], 2)
        stop = env.result("stop", 5)
        self.assertEqual(stop["status"], "ok")
        self.assertEqual(stop["cancelled"], "slow")
        reps = self.kb.reports(timeout=3, until_idle=0.5)
        # Everything released at once: the last report is all zero, and
        # nothing of the rest of the text followed.
        self.assertTrue(reps, "no release report")
        self.assertEqual(reps[-1], bytes(8))
        self.assertLess(len(reps), 50)
        # Plain "cancel" with nothing running answers ok.
        env.client.clear()
        env.client.publish(f"zerobmc/{env.id}/cmd/macro", "cancel")
        m = env.client.wait(
            lambda m: m["topic"] == f"zerobmc/{env.id}/result", 5)
        d = json.loads(m["payload"])
        self.assertEqual(d["status"], "ok")
        self.assertIsNone(d["cancelled"])

    def test_cancel_drops_queue_and_held_keys(self):
        env = self.env
        env.start({"script": "HOLD SHIFT\nDELAY 5s\nRELEASE\n"}, "hold")
        env.start({"script": "ENTER", "queue": True}, "waiting")
        reps = self.kb.reports(n=1, timeout=5)
        self.assertEqual(reps[0][0], 0x02)
        env.client.publish(f"zerobmc/{env.id}/cmd/macro", "cancel")
        self.assertEqual(env.result("waiting", 5)["status"], "cancelled")
        self.assertEqual(env.result("hold", 5)["status"], "cancelled")
        reps = self.kb.reports(timeout=2, until_idle=0.5)
        self.assertEqual(reps[-1], bytes(8))
        self.assertNotIn(ENTER, [r[2] for r in reps])

    def test_wait_console(self):
        env = self.env
        env.start({"script": "WAIT_CONSOLE /^server login: ?$/ 10s\n"
                   "STRINGLN root\n"}, "login")
        env.macro_state(lambda s: s.get("running") and s.get("line") == 1)
        env.console.write(b"Debian GNU/Linux 12 server ttyACM0\r\n\r\n")
        time.sleep(0.5)
        self.assertEqual(self.kb.reports(timeout=0.3, until_idle=0.2), [])
        # A prompt has no line ending: the idle flush makes it a line.
        env.console.write(b"server login: ")
        r = env.result("login", 10)
        self.assertEqual(r["status"], "ok", r)
        self.assertEqual(typed(self.kb.reports(until_idle=0.3)), "root\n")
        # And a timeout names the line.
        r = env.cmd("macro", {"script": "\nWAIT_CONSOLE /never/ 500ms\n"})
        self.assertEqual(r["status"], "error")
        self.assertEqual(r["line"], 2)
        self.assertIn("no matching console line within 500 ms", r["error"])

    def test_wait_usb_with_spam(self):
        env = self.env
        env.start({"script": "REBOOT soft\n"
                   "SPAM F2 100ms 20s\n"
                   "WAIT_USB configured 20s\n"
                   "STRING ok\n"}, "usb")
        time.sleep(0.5)
        env.set_udc("not attached")
        time.sleep(1.0)
        env.set_udc("default")
        time.sleep(0.5)
        env.set_udc("configured")
        r = env.result("usb", 10)
        self.assertEqual(r["status"], "ok", r)
        reps = self.kb.reports(until_idle=0.3)
        self.assertIn(bytes([0x05, 0, DELETE, 0, 0, 0, 0, 0]), reps)
        n = presses(reps, F2)
        # About 2 s of presses every 100 ms.
        self.assertGreater(n, 12, n)
        self.assertLess(n, 25, n)
        self.assertTrue(typed(reps).endswith("ok"))
        self.assertEqual(reps[-1], bytes(8))

    def test_wait_usb_timeout(self):
        r = self.env.cmd("macro", {"script": "ENTER\nWAIT_USB suspended "
                                   "700ms\nENTER\n"})
        self.assertEqual(r["status"], "error")
        self.assertEqual(r["line"], 2)
        self.assertIn("timed out after 700 ms", r["error"])
        self.assertIn("state is configured", r["error"])
        self.assertEqual(presses(self.kb.reports(until_idle=0.3), ENTER), 1)

    def test_hostile_names(self):
        env = self.env
        outside = os.path.join(env.root, "outside.txt")
        with open(outside, "w") as f:
            f.write("STRING secret\n")
        os.symlink(outside, os.path.join(env.dir, "evil.txt"))
        os.symlink("/etc/passwd", os.path.join(env.dir, "passwd.txt"))
        os.mkfifo(os.path.join(env.dir, "fifo.txt"))
        os.mkdir(os.path.join(env.dir, "adir.txt"))
        env.write_macro("big", "REM " + "x" * 70000 + "\n")
        for name, text in (("../outside", "bad macro name"),
                           ("/etc/passwd", "bad macro name"),
                           ("a.txt", "bad macro name"),
                           ("x" * 65, "bad macro name"),
                           ("evil", "symbolic link"),
                           ("passwd", "symbolic link"),
                           ("fifo", "not a regular file"),
                           ("adir", "not a regular file"),
                           ("big", "more than 65536")):
            r = env.cmd("macro", {"name": name})
            self.assertEqual(r["status"], "error", (name, r))
            self.assertIn(text, r["error"], name)
        st = env.macro_state(lambda s: "big" in s.get("available", []))
        for name in ("evil", "passwd", "fifo", "adir"):
            self.assertNotIn(name, st["available"])
        self.assertEqual(self.kb.reports(timeout=0.5, until_idle=0.3), [])
        r = env.cmd("macro", {"name": "x", "script": "ENTER", "extra": 1})
        self.assertEqual(r["status"], "error")
        r = env.cmd("macro", {"queue": "yes", "name": "x"})
        self.assertEqual(r["status"], "error")

    def test_folder_changes(self):
        env = self.env
        env.macro_state(lambda s: "available" in s)
        env.write_macro("fresh", "STRING fresh\n")
        env.macro_state(lambda s: "fresh" in s["available"])
        r = env.cmd("macro", {"name": "fresh"})
        self.assertEqual(r["status"], "ok")
        # Edited: the next run reads the file again.
        env.write_macro("fresh", "STRING edited\n")
        r = env.cmd("macro", {"name": "fresh"})
        self.assertEqual(r["status"], "ok")
        self.assertEqual(typed(self.kb.reports(until_idle=0.3)),
                         "freshedited")
        os.rename(os.path.join(env.dir, "fresh.txt"),
                  os.path.join(env.dir, "renamed.txt"))
        env.macro_state(lambda s: "renamed" in s["available"] and
                        "fresh" not in s["available"])
        os.unlink(os.path.join(env.dir, "renamed.txt"))
        env.macro_state(lambda s: "renamed" not in s["available"])
        # The folder goes away and comes back: watched again.
        shutil.rmtree(env.dir)
        env.macro_state(lambda s: "dir_error" in s)
        os.makedirs(env.dir)
        env.write_macro("back", "ENTER\n")
        st = env.macro_state(lambda s: "back" in s["available"], 10)
        self.assertNotIn("dir_error", st)


class Check(unittest.TestCase):
    """`zerobmc macro check FILE`, offline."""

    def run_check(self, *args, stdin=None):
        return subprocess.run([zbtest.ZEROBMC, "macro", "check", *args],
                              capture_output=True, text=True, input=stdin,
                              timeout=10)

    def test_check(self):
        tmp = tempfile.mkdtemp(prefix="zbmcheck-")
        self.addCleanup(shutil.rmtree, tmp, True)
        good = os.path.join(tmp, "good.txt")
        bad = os.path.join(tmp, "bad.txt")
        with open(good, "w") as f:
            f.write("REM ok\nDELAY 100\nGUI r\nSTRING notepad\nENTER\n"
                    "WAIT_USB configured 30s\n")
        with open(bad, "w") as f:
            f.write("ENTER\n\nSPAM F2 5ms 1s\n")
        p = self.run_check(good)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "OK: 6 lines, 5 ops\n")
        p = self.run_check(bad)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr.strip(),
                         f"{bad}:3: SPAM every must be at least 20 ms (a "
                         "host takes keys no faster)")
        p = self.run_check("-", stdin="STRING ä\n")
        self.assertEqual(p.returncode, 1)
        self.assertIn("-:1: character U+00E4", p.stderr)
        p = self.run_check("-l", "de", "-", stdin="STRING ä\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.run_check(good, bad)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"{good}: OK", p.stdout)
        p = self.run_check(os.path.join(tmp, "missing.txt"))
        self.assertEqual(p.returncode, 1)
        p = subprocess.run([zbtest.ZEROBMC, "macro", "show", "enter_setup"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertIn("WAIT_USB configured", p.stdout)
        p = subprocess.run([zbtest.ZEROBMC, "macro"], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
