"""SIGTERM while jobs run: the agent winds every job down and says so.

The contract, for each kind of job that can be under way when the agent
is told to stop (SIGTERM):
  - the process exits with status 0 (an AddressSanitizer abort, or any
    crash, is a non-zero status and fails the case);
  - every pending command (each running or queued job's command, sent
    with a JSON "id") gets a result on zerobmc/<id>/result with
    "status": "cancelled", and it arrives before "offline";
  - "offline" is published, retained, on zerobmc/<id>/status.

Stand-ins, as in the other integration tests: a real mosquitto on a free
loopback port, the real binary, a pty for /dev/hidg0 (the test reads it
slowly, or stops reading), a pty for the console tty (nobody reads its
other end, so a long write blocks once the pty's buffers are full), a
plain file for the UDC state, a temporary folder for [macros] dir and a
plain file as [power] gpio_chip (the fake GPIO backend, as in
test_power.py).

Every case checks everything and reports all that is wrong at once, with
the agent's log (its stdout and stderr) when anything is.
"""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402

# How long the agent may take to stop (it allows itself 2 s for the broker).
EXIT_TIMEOUT = 15.0
# How long a result or the status may take to reach the test's subscriber
# once the agent has exited.
LATE = 5.0


class ShutdownEnv:
    """Broker, agent (keyboard pty, console pty, macros folder, UDC state
    file, fake GPIO chip with the reset pin wired) and a control client
    subscribed to zerobmc/<id>/#."""

    def __init__(self, agent_id):
        self.id = agent_id
        self.base = f"zerobmc/{agent_id}"
        self.tmp = tempfile.mkdtemp(prefix="zbshut-")
        self.dir = os.path.join(self.tmp, "macros")
        os.makedirs(self.dir)
        self.udc = os.path.join(self.tmp, "udc_state")
        with open(self.udc, "w") as f:
            f.write("configured\n")
        self.chip = os.path.join(self.tmp, "gpiochip")
        open(self.chip, "w").close()
        self.broker = zbtest.Broker(self.tmp)
        self.console = zbtest.Pty()
        self.client = None
        self.agent = None
        try:
            self.broker.start()
            self.agent = zbtest.Agent(
                self.tmp, self.broker.port, agent_id, sections={
                    # Room for a console write bigger than the pty holds.
                    "agent": {"max_payload": "1048576"},
                    # Jobs that wait on a device wait longer than a case.
                    "keyboard": {"write_timeout_ms": "60000"},
                    "console": {"device": self.console.path,
                                "write_timeout_ms": "60000"},
                    "macros": {"dir": self.dir},
                    "gadget": {"manage": "false", "udc_state": self.udc},
                    # The longest short press there is: REBOOT hard holds
                    # the reset button for 10 s.
                    "power": {"gpio_chip": self.chip, "reset_line": "27",
                              "short_press_ms": "10000"},
                })
            self.client = zbtest.Client(self.broker.port)
            self.client.subscribe(f"{self.base}/#")
            self.agent.start()
            self.client.wait(
                lambda m: m["topic"] == f"{self.base}/status"
                and m["payload"] == b"online", 10, "status online")
        except BaseException:
            self.close()
            raise

    # ---- commands ----

    def send(self, name, payload, cid):
        """Publish a JSON command with id cid; do not wait for a result."""
        self.client.publish(f"{self.base}/cmd/{name}",
                            json.dumps(dict(payload, id=cid)))

    def result(self, cid, timeout=10):
        m = self.client.wait(zbtest.result_for(self.id, cid), timeout,
                             f"result {cid}")
        return json.loads(m["payload"])

    def section(self, name, pred, timeout=10):
        """The `name` section of the next state message satisfying pred."""
        def match(m):
            if m["topic"] != f"{self.base}/state":
                return False
            try:
                s = json.loads(m["payload"]).get(name)
            except ValueError:
                return False
            return s is not None and pred(s)
        m = self.client.wait(match, timeout, f"state.{name}")
        return json.loads(m["payload"])[name]

    def probe(self):
        """A command the agent answers at once (console history): once its
        result is in, every command published before it has been taken
        (commands are handled in order)."""
        cid = f"probe-{time.monotonic_ns()}"
        self.send("console", {"history": 1}, cid)
        return self.result(cid)

    def results_so_far(self):
        out = {}
        with self.client.lock:
            msgs = list(self.client.msgs)
        for m in msgs:
            if m["topic"] == f"{self.base}/result":
                try:
                    d = json.loads(m["payload"])
                except ValueError:
                    continue
                out.setdefault(d.get("id"), d)
        return out

    def log_excerpt(self, lines=60):
        try:
            text = self.agent.log_text()
        except OSError:
            return "(no agent log)"
        parts = []
        # An AddressSanitizer report, whole, if there is one.
        m = re.search(r"=+\n==\d+==ERROR: AddressSanitizer.*", text, re.S)
        if m:
            parts.append(m.group(0)[:12000])
            text = text[:m.start()]
        tail = text.splitlines()[-lines:]
        parts.insert(0, "\n".join(tail))
        return "\n--- agent log (tail) ---\n" + "\n---\n".join(parts)

    def close(self):
        if self.client:
            try:
                self.client.close()
            except Exception:
                pass
        if self.agent:
            self.agent.stop(signal.SIGKILL, 5)
            if getattr(self.agent, "logf", None):
                self.agent.logf.close()
            self.agent.keyboard.close()
        self.broker.stop()
        self.console.close()
        if os.environ.get("ZB_KEEP_TMP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


class Shutdown(unittest.TestCase):
    def setUp(self):
        self.env = ShutdownEnv("shut1")
        self.addCleanup(self.env.close)
        self.kb = self.env.agent.keyboard

    def write_macro(self, name, text):
        with open(os.path.join(self.env.dir, name + ".txt"), "w") as f:
            f.write(text)

    def sigterm_and_check(self, pending):
        """SIGTERM the agent and check the contract for the commands
        `pending` (their ids): exit status 0, each one "cancelled" on
        result before "offline" on status, "offline" retained."""
        env = self.env
        c = env.client
        problems = []
        # None of them may have finished before the signal: else the case
        # did not test a running job.
        early = env.results_so_far()
        for cid in pending:
            if cid in early:
                problems.append(f"{cid}: answered before SIGTERM, so the "
                                f"case did not set up a pending job: "
                                f"{early[cid]}")
        with c.lock:
            mark = len(c.msgs)
        t0 = time.monotonic()
        env.agent.proc.send_signal(signal.SIGTERM)
        try:
            rc = env.agent.proc.wait(EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            env.agent.proc.kill()
            env.agent.proc.wait()
            rc = None
            problems.append(f"the agent did not exit within {EXIT_TIMEOUT} "
                            "s of SIGTERM (killed)")
        took = time.monotonic() - t0
        if rc is not None and rc != 0:
            how = (f"killed by signal {-rc} ({signal.Signals(-rc).name})"
                   if rc < 0 else f"exit status {rc}")
            problems.append(f"the agent ended with {how}, not exit status 0")

        # Let the subscriber catch up: the results and the status, or a
        # deadline. Positions in arrival order tell which came first.
        def wait_after(pred, what):
            end = time.time() + LATE
            while True:
                with c.lock:
                    msgs = list(c.msgs)
                for i in range(mark, len(msgs)):
                    if pred(msgs[i]):
                        return i, msgs[i]
                if time.time() > end:
                    raise TimeoutError(what)
                try:
                    c.q.get(timeout=0.2)
                except Exception:
                    pass

        offline_i = None
        try:
            offline_i, _ = wait_after(
                lambda m: m["topic"] == f"{env.base}/status"
                and m["payload"] == b"offline", "status offline")
        except TimeoutError:
            problems.append("no \"offline\" on status after SIGTERM")
        for cid in pending:
            try:
                i, m = wait_after(zbtest.result_for(env.id, cid),
                                  f"result {cid}")
            except TimeoutError:
                problems.append(f"{cid}: no result at all (the command "
                                "was left unanswered)")
                continue
            d = json.loads(m["payload"])
            if d.get("status") != "cancelled":
                problems.append(f"{cid}: status {d.get('status')!r}, not "
                                f"\"cancelled\": {d}")
            if offline_i is not None and i > offline_i:
                problems.append(f"{cid}: its result came after \"offline\"")

        # The status a newcomer sees: "offline", retained.
        late = None
        try:
            late = zbtest.Client(env.broker.port)
            late.subscribe(f"{env.base}/status")
            m = late.wait(zbtest.topic_is(f"{env.base}/status"), LATE,
                          "retained status")
            if m["payload"] != b"offline" or not m["retain"]:
                problems.append(f"retained status is {m['payload']!r} "
                                f"(retain={m['retain']}), not \"offline\"")
        except TimeoutError:
            problems.append("no retained status after the agent stopped")
        finally:
            if late:
                late.close()
        print(f"\n  stopped in {took:.2f} s, rc={rc}", file=sys.stderr)
        if problems:
            self.fail("\n".join(["after SIGTERM:"] + [" - " + p for p in
                                                      problems])
                      + env.log_excerpt())

    # ---- a. a macro waiting for a USB state that never comes ----

    def test_a_macro_in_wait_usb(self):
        env = self.env
        # The UDC says "configured" and stays so: WAIT_USB suspended waits.
        env.send("macro", {"script": "WAIT_USB suspended 60s\n"
                           "STRING never\n", "name": "waitusb"}, "usb")
        env.section("macro", lambda s: s.get("running")
                    and s.get("name") == "waitusb" and s.get("line") == 1)
        self.sigterm_and_check(["usb"])

    # ---- b. a running macro and one queued behind it ----

    def test_b_macro_running_and_queued(self):
        env = self.env
        env.send("macro", {"script": "DELAY 30s\nSTRING one\n",
                           "name": "first"}, "first")
        env.section("macro", lambda s: s.get("running")
                    and s.get("name") == "first")
        env.send("macro", {"script": "STRING two\n", "name": "second",
                           "queue": True}, "second")
        env.section("macro", lambda s: s.get("queued") == 1)
        self.sigterm_and_check(["first", "second"])

    # ---- c. console writes the server does not read ----

    def test_c_console_writes_blocked(self):
        env = self.env
        # Far more than a pty buffers: the write blocks once it is full,
        # and nobody reads the other end. The second write queues behind.
        env.send("console", {"data": "z" * 200000, "enter": False}, "big")
        env.send("console", {"data": "echo after"}, "next")
        # The agent has taken both commands (the probe's result comes
        # after theirs would have, had they been answered at once) ...
        env.probe()
        # ... and has started writing: bytes wait on the unread side.
        r, _, _ = select.select([env.console.fd], [], [], 5)
        self.assertTrue(r, "the agent wrote nothing to the console pty")
        self.sigterm_and_check(["big", "next"])

    # ---- d. a long bios-profile typing job, keyboard read slowly ----

    def test_d_bios_typing_slow_reader(self):
        env = self.env
        text = "the quick brown fox jumps over the lazy dog " * 20
        env.send("type", {"text": text, "profile": "bios"}, "type")
        # Typing is under way: a few reports come, then nobody reads.
        got = self.kb.reports(n=10, timeout=10)
        self.assertEqual(len(got), 10, "typing did not start")
        self.sigterm_and_check(["type"])

    # ---- e. a power press started by a macro ----

    def test_e_macro_reboot_hard_press_held(self):
        env = self.env
        # REBOOT hard presses reset for short_press_ms (10 s); the macro
        # goes on waiting while the button is held.
        env.send("macro", {"script": "REBOOT hard\nDELAY 30s\n",
                           "name": "hard"}, "hard")
        env.section("power", lambda p: p.get("busy") == "reset")
        env.section("macro", lambda s: s.get("running")
                    and s.get("name") == "hard")
        with open(env.chip) as f:
            recs = f.read().split("\n")
        self.assertTrue(any(r.split()[1:] == ["reset", "set", "1"]
                            for r in recs if r.strip()),
                        f"reset was not pressed: {recs}")
        self.sigterm_and_check(["hard"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
