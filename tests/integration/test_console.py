"""The serial console through the real agent and a real broker.

A pseudo-terminal stands in for the gadget's ttyGS0: the test writes the
server's output into its master side and reads what the agent types.
Console lines are read by a lean paho subscriber; the broker is told not
to drop QoS 0 messages for a subscriber that falls behind
(max_queued_messages 0), so any loss would be the agent's.
"""
import json
import os
import pty
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402
import paho.mqtt.client as paho  # noqa: E402

ID = "con1"
BASE = f"zerobmc/{ID}"
BROKER_CONF = "max_queued_messages 0\n"
# The subscriber keeps its session across a broker restart, and the
# broker keeps QoS 0 messages for it while it is away.
PERSIST_CONF = ("persistence true\n"
                "persistence_location {dir}/\n"
                "queue_qos0_messages true\n"
                "max_queued_messages 0\n")


def write_all(fd, data, timeout=120.0):
    """Write everything to a non-blocking fd, waiting while it is full."""
    view = memoryview(data)
    end = time.time() + timeout
    while view:
        if time.time() > end:
            raise TimeoutError(f"{len(view)} bytes not taken by the pty")
        _, w, _ = select.select([], [fd], [], 0.5)
        if not w:
            continue
        try:
            n = os.write(fd, view[:65536])
        except BlockingIOError:
            continue
        view = view[n:]


def read_for(fd, seconds, until=None):
    """Read a non-blocking fd for a while, or until `until` is seen."""
    out = b""
    end = time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except (BlockingIOError, OSError):
                chunk = b""
            out += chunk
            if until is not None and until in out:
                return out
    return out


class Lines:
    """Payloads of one topic, in arrival order; resubscribes on reconnect."""

    def __init__(self, port, topic, client_id=None, clean=True):
        self.payloads = []
        self.cond = threading.Condition()
        self.topic = topic
        self.subscribed = threading.Event()
        self.c = paho.Client(
            client_id=client_id or f"lines-{os.getpid()}-{time.monotonic_ns()}",
            clean_session=clean, protocol=paho.MQTTv311)
        self.c.on_message = self._on_message
        self.c.on_connect = self._on_connect
        self.c.on_subscribe = lambda *a: self.subscribed.set()
        self.c.reconnect_delay_set(0.2, 1)
        self.c.connect("127.0.0.1", port, keepalive=30)
        self.c.loop_start()
        if not self.subscribed.wait(10):
            raise TimeoutError(f"subscribe {topic}")

    def _on_connect(self, client, userdata, flags, rc):
        client.subscribe(self.topic, 1)

    def _on_message(self, client, userdata, msg):
        with self.cond:
            self.payloads.append(msg.payload)
            self.cond.notify_all()

    def wait_count(self, n, timeout):
        end = time.time() + timeout
        with self.cond:
            while len(self.payloads) < n:
                left = end - time.time()
                if left <= 0:
                    break
                self.cond.wait(min(left, 0.5))
            return list(self.payloads)

    def wait_idle(self, quiet=0.5, timeout=10):
        """All payloads once nothing new came for `quiet` seconds."""
        end = time.time() + timeout
        last = -1
        while time.time() < end:
            with self.cond:
                n = len(self.payloads)
            if n == last:
                break
            last = n
            time.sleep(quiet)
        with self.cond:
            return list(self.payloads)

    def clear(self):
        with self.cond:
            self.payloads.clear()

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


class Control(zbtest.Client):
    """Status, state and results only (not the console flood)."""

    def __init__(self, port):
        super().__init__(port)
        for t in ("status", "state", "result"):
            self.subscribe(f"{BASE}/{t}")
        # After a broker restart the subscriptions are made again.
        self.c.on_connect = self._again

    def _again(self, client, *a):
        self.connected.set()
        for t in ("status", "state", "result"):
            client.subscribe(f"{BASE}/{t}", 1)


class ConsoleEnv:
    """A broker, the agent with a pty console, a control client."""

    def __init__(self, console=None, agent=None, broker_conf=BROKER_CONF,
                 sections=None, device=None):
        self.tmp = tempfile.mkdtemp(prefix="zbcon-")
        self.broker = zbtest.Broker(self.tmp, broker_conf.format(dir=self.tmp))
        self.pty = zbtest.Pty()
        sec = {"console": {"device": device or self.pty.path}}
        sec["console"].update(console or {})
        sec["agent"] = agent or {}
        sec.update(sections or {})
        self.agent = zbtest.Agent(self.tmp, self.broker.port, ID,
                                  sections=sec)
        self.ctl = self.lines = None
        self.seq = 0
        try:
            self.broker.start()
            self.ctl = Control(self.broker.port)
            self.lines = Lines(self.broker.port, f"{BASE}/console")
            self.agent.start()
            self.wait_online()
        except BaseException:
            # A failed start must not leave the broker and agent behind.
            self.close()
            raise

    def wait_online(self, timeout=10):
        self.ctl.wait(lambda m: m["topic"] == f"{BASE}/status"
                      and m["payload"] == b"online", timeout, "online")

    def cmd(self, payload, timeout=10):
        self.seq += 1
        if isinstance(payload, dict):
            cid = f"k{self.seq}-{time.monotonic_ns()}"
            payload = json.dumps(dict(payload, id=cid))
            self.ctl.publish(f"{BASE}/cmd/console", payload)
            m = self.ctl.wait(zbtest.result_for(ID, cid), timeout,
                              "console result")
            return json.loads(m["payload"])
        self.ctl.clear()
        self.ctl.publish(f"{BASE}/cmd/console", payload)
        m = self.ctl.wait(lambda m: m["topic"] == f"{BASE}/result",
                          timeout, "console result")
        return json.loads(m["payload"])

    def state(self, pred=lambda s: True, timeout=10):
        """The console section of the next state that satisfies pred."""
        def match(m):
            if m["topic"] != f"{BASE}/state":
                return False
            st = json.loads(m["payload"]).get("console")
            return st is not None and pred(st)
        m = self.ctl.wait(match, timeout, "console state")
        return json.loads(m["payload"])["console"]

    def wait_log(self, text, timeout=15):
        end = time.time() + timeout
        while time.time() < end:
            if text in self.agent.log_text():
                return
            time.sleep(0.05)
        raise TimeoutError(f"agent log has no {text!r}")

    def broker_down(self):
        """Stop the broker and wait until the agent has noticed."""
        before = self.agent.log_text().count(
            f"broker 127.0.0.1:{self.broker.port}:")
        self.broker.stop()
        end = time.time() + 15
        while self.agent.log_text().count(
                f"broker 127.0.0.1:{self.broker.port}:") == before:
            if time.time() > end:
                raise TimeoutError("the agent did not notice the broker stop")
            time.sleep(0.05)

    def close(self):
        for c in (self.lines, self.ctl):
            try:
                if c:
                    c.close()
            except Exception:
                pass
        self.agent.stop()
        if getattr(self.agent, "logf", None):
            self.agent.logf.close()
        self.broker.stop()
        self.agent.keyboard.close()
        self.pty.close()
        if os.environ.get("ZB_KEEP_TMP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def numbered(n, prefix="line"):
    return [b"%s %06d the quick brown fox jumps over the lazy dog" % (
        prefix.encode(), i) for i in range(n)]


class Output(unittest.TestCase):
    def setUp(self):
        self.env = ConsoleEnv()

    def tearDown(self):
        self.env.close()

    def test_burst_100k_lines_in_order(self):
        n = 100000
        want = numbered(n)
        data = b"\n".join(want) + b"\n"
        t0 = time.monotonic()
        write_all(self.env.pty.fd, data)
        t_written = time.monotonic() - t0
        got = self.env.lines.wait_count(n, 120)
        t_all = time.monotonic() - t0
        if got != want:
            extra = [(i, g) for i, g in enumerate(got[:n + 5])
                     if i >= n or g != want[i]][:5]
            self.fail(f"{len(got)} lines for {n}; first differences {extra}")
        self.assertEqual(got, want)
        st = self.env.state(lambda s: s["lines"] == n)
        self.assertEqual(st["lost"], 0)
        print(f"\n  100000 lines ({len(data)} bytes): written in "
              f"{t_written:.2f} s, all received in {t_all:.2f} s = "
              f"{n / t_all:.0f} lines/s", file=sys.stderr)

    def test_line_endings_split_and_utf8(self):
        big = b"x" * 10000
        self.env.pty.write(b"a\rb\nc\r\nd\r\r\n" + big + b"\n"
                           + b"caf\xe9 \xe2\x82\xac \xf0\x9f\x98\x80 \xff\xfe\n")
        got = self.env.lines.wait_count(9, 10)
        self.assertEqual(got[:5], [b"a", b"b", b"c", b"d", b""])
        self.assertEqual(got[5:8], [b"x" * 4096, b"x" * 4096, b"x" * 1808])
        self.assertEqual(got[8].decode("utf-8"),
                         "caf\ufffd \u20ac \U0001F600 \ufffd\ufffd")
        self.assertEqual(len(got), 9)

    def test_prompt_flushed_after_idle(self):
        t0 = time.monotonic()
        self.env.pty.write(b"\r\nDebian GNU/Linux 12 srv ttyACM0\r\n\r\n"
                           b"srv login: ")
        got = self.env.lines.wait_count(4, 5)
        dt = time.monotonic() - t0
        self.assertEqual(got, [b"", b"Debian GNU/Linux 12 srv ttyACM0",
                               b"", b"srv login: "])
        self.assertGreater(dt, 0.15)
        self.assertLess(dt, 2.0)
        st = self.env.state(lambda s: s["last"] == "srv login: ")
        self.assertTrue(st["open"])

    def test_last_line_for_the_sensor(self):
        self.env.pty.write(b"\x1b[1;32m[  OK  ]\x1b[0m Started " +
                           "é".encode() * 300 + b"\r\n\r\n")
        st = self.env.state(lambda s: s["lines"] == 2)
        self.assertEqual(st["last"], "[  OK  ] Started " + "é" * 238)
        self.assertEqual(len(st["last"]), 255)
        # The topic keeps the raw line.
        got = self.env.lines.wait_count(1, 5)
        self.assertTrue(got[0].startswith(b"\x1b[1;32m"))

    def test_history(self):
        want = numbered(30, "h")
        self.env.pty.write(b"\r\n".join(want) + b"\r\n")
        self.env.lines.wait_count(30, 10)
        res = self.env.cmd({"history": 5})
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["lines"], [w.decode() for w in want[-5:]])
        res = self.env.cmd({"history": 1000})
        self.assertEqual(len(res["lines"]), 30)
        res = self.env.cmd({"history": 0})
        self.assertEqual(res["status"], "error", res)

    def test_raw_stream(self):
        raw = Lines(self.env.broker.port, f"{BASE}/console/raw")
        try:
            self.env.pty.write(b"\x1b[2J$ ls\r\nfoo  bar\r\n$ ")
            got = raw.wait_idle(0.5)
            self.assertEqual(b"".join(got),
                             b"\x1b[2J$ ls\r\nfoo  bar\r\n$ ")
        finally:
            raw.close()


class Input(unittest.TestCase):
    def setUp(self):
        self.env = ConsoleEnv(console={"write_timeout_ms": "400"},
                              agent={"max_payload": "1048576"})

    def tearDown(self):
        self.env.close()

    def test_plain_text_gets_enter(self):
        res = self.env.cmd("root")
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["written"], 5)
        self.assertEqual(read_for(self.env.pty.fd, 3, b"\r"), b"root\r")

    def test_json_raw_bytes_without_enter(self):
        res = self.env.cmd({"data": "\u0003", "enter": False})
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(read_for(self.env.pty.fd, 1), b"\x03")
        res = self.env.cmd({"data": "y\u00e9s"})
        self.assertEqual(read_for(self.env.pty.fd, 1), b"y\xc3\xa9s\r")

    def test_bad_requests(self):
        res = self.env.cmd({"data": 5})
        self.assertEqual(res["status"], "error")
        res = self.env.cmd({"enter": False})
        self.assertEqual(res["status"], "error")
        res = self.env.cmd({"data": "x", "history": 3})
        self.assertEqual(res["status"], "error")
        res = self.env.cmd({"data": "x", "colour": "red"})
        self.assertIn("colour", res["error"])

    def test_host_not_reading_gets_error_after_deadline(self):
        total = 200000
        t0 = time.monotonic()
        res = self.env.cmd({"data": "z" * total, "enter": False})
        dt = time.monotonic() - t0
        self.assertEqual(res["status"], "error", res)
        self.assertLess(res["written"], total)
        self.assertEqual(res["total"], total)
        self.assertIn(f"{res['written']} of {total} bytes written",
                      res["error"])
        self.assertGreater(dt, 0.35)
        # What did go out is exactly what the result says.
        got = read_for(self.env.pty.fd, 1)
        self.assertEqual(len(got), res["written"])
        # And the console still works.
        res = self.env.cmd("ok")
        self.assertEqual(res["status"], "ok", res)


class Outage(unittest.TestCase):
    def test_broker_down_10k_lines_then_back(self):
        env = ConsoleEnv(broker_conf=PERSIST_CONF)
        sub = None
        try:
            # A subscriber whose session (and queue) survives the restart.
            sub = Lines(env.broker.port, f"{BASE}/console",
                        client_id=f"keep-{os.getpid()}", clean=False)
            env.pty.write(b"before\n")
            self.assertEqual(sub.wait_count(1, 5), [b"before"])
            env.broker_down()
            want = numbered(10000, "down")
            write_all(env.pty.fd, b"\r\n".join(want) + b"\r\n")
            st_lines = None
            time.sleep(0.5)
            env.broker.start()
            got = sub.wait_count(10001, 60)
            # QoS 1 is at least once: when the broker stopped before it
            # had taken this subscriber's ack of "before", its persisted
            # session sends "before" again (seen under qemu-aarch64 at -j5).
            again = 0
            while got[again + 1:again + 2] == [b"before"]:
                again += 1
            got = sub.wait_count(10001 + again, 60)[again:]
            self.assertEqual(len(got), 10001)
            self.assertEqual(got[0], b"before")
            self.assertEqual(got[1:], want)
            st_lines = env.state(lambda s: s["lines"] == 10001, 15)
            self.assertEqual(st_lines["lost"], 0)
        finally:
            if sub:
                sub.close()
            env.close()

    def test_ring_overflow_marker_and_count(self):
        # ring_bytes is raised to hold one longest line (12 KiB): lines
        # of 12 bytes take 16 in the ring, so about 768 of 2000 stay.
        env = ConsoleEnv(broker_conf=PERSIST_CONF,
                         console={"ring_bytes": "4096"})
        sub = None
        try:
            sub = Lines(env.broker.port, f"{BASE}/console",
                        client_id=f"keep2-{os.getpid()}", clean=False)
            env.broker_down()
            want = [b"ovf %07d" % i for i in range(2000)]
            write_all(env.pty.fd, b"\n".join(want) + b"\n")
            time.sleep(0.5)
            env.broker.start()
            sub.wait_count(1, 30)
            got = sub.wait_idle(1.0, 60)
            self.assertTrue(got[0].startswith(b"[zerobmc: "), got[:2])
            lost = int(got[0].split()[1])
            self.assertGreater(lost, 0)
            self.assertEqual(got[0], b"[zerobmc: %d lines lost]" % lost)
            self.assertEqual(got[1:], want[lost:])
            st = env.state(lambda s: s["lost"] == lost, 15)
            self.assertLessEqual(st["ring_bytes"], st["ring_capacity"])
        finally:
            if sub:
                sub.close()
            env.close()


class SmallRing(unittest.TestCase):
    def test_small_ring_loses_nothing_while_online(self):
        # The smallest ring (one longest line): a burst of 20,000 short
        # lines waits in the pty while Paho pushes back, none dropped.
        env = ConsoleEnv(console={"ring_bytes": "4096"})
        try:
            want = [b"s%d" % i for i in range(20000)]
            write_all(env.pty.fd, b"\n".join(want) + b"\n")
            got = env.lines.wait_count(len(want), 60)
            self.assertEqual(got, want)
            self.assertEqual(env.state(lambda s: s["lines"] == 20000)
                             ["lost"], 0)
        finally:
            env.close()


class Reopen(unittest.TestCase):
    def test_reopen_by_timer_after_hangup(self):
        tmp = tempfile.mkdtemp(prefix="zbcon-link-")
        link = os.path.join(tmp, "ttyGS0")
        env = None
        try:
            first = zbtest.Pty()
            os.symlink(first.path, link)
            env = ConsoleEnv(device=link)
            first.write(b"one\n")
            self.assertEqual(env.lines.wait_count(1, 5), [b"one"])
            # The host detaches: the pty's master side goes away.
            first.close()
            env.pty.close()
            env.state(lambda s: not s["open"])
            second = zbtest.Pty()
            env.pty = second
            os.unlink(link)
            os.symlink(second.path, link)
            env.state(lambda s: s["open"], 5)
            second.write(b"two\n")
            self.assertEqual(env.lines.wait_count(2, 5), [b"one", b"two"])
        finally:
            if env:
                env.close()
            shutil.rmtree(tmp, ignore_errors=True)

    def test_reopen_when_host_configured(self):
        tmp = tempfile.mkdtemp(prefix="zbcon-udc-")
        link = os.path.join(tmp, "ttyGS0")
        udc = os.path.join(tmp, "state")
        env = None
        try:
            with open(udc, "w") as f:
                f.write("configured\n")
            first = zbtest.Pty()
            os.symlink(first.path, link)
            env = ConsoleEnv(device=link,
                             sections={"gadget": {"manage": "false",
                                                  "udc_state": udc}})
            with open(udc, "w") as f:
                f.write("not attached\n")
            first.close()
            env.pty.close()
            env.state(lambda s: not s["open"])
            second = zbtest.Pty()
            env.pty = second
            os.unlink(link)
            os.symlink(second.path, link)
            # The host is away: no reopen by timer.
            time.sleep(2.0)
            self.assertFalse(env.state()["open"])
            with open(udc, "w") as f:
                f.write("configured\n")
            env.state(lambda s: s["open"], 5)
            second.write(b"back\n")
            self.assertEqual(env.lines.wait_count(1, 5), [b"back"])
        finally:
            if env:
                env.close()
            shutil.rmtree(tmp, ignore_errors=True)


class Client(unittest.TestCase):
    """`zerobmc console` driven through a pseudo-terminal."""

    def spawn(self, env, *args):
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.execv(zbtest.ZEROBMC, [zbtest.ZEROBMC, "-c",
                                          env.agent.conf, "console"]
                         + list(args))
            finally:
                os._exit(127)
        os.set_blocking(fd, False)
        self.addCleanup(self.reap, pid, fd)
        return pid, fd

    def reap(self, pid, fd):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        os.close(fd)

    def wait_exit(self, pid, timeout=5):
        end = time.time() + timeout
        while time.time() < end:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.05)
        raise TimeoutError("the console client did not exit")

    def test_interactive_session(self):
        env = ConsoleEnv()
        try:
            pid, fd = self.spawn(env, ID)
            out = read_for(fd, 10, b"escape ~.")
            self.assertIn(b"[zerobmc: console of zerobmc/con1", out)
            env.pty.write(b"Debian GNU/Linux 12\r\nsrv login: ")
            out = read_for(fd, 5, b"login: ")
            self.assertIn(b"Debian GNU/Linux 12\r\nsrv login: ", out)
            # Keystrokes typed quickly go out together, without Enter.
            os.write(fd, b"root")
            self.assertEqual(read_for(env.pty.fd, 3, b"root"), b"root")
            os.write(fd, b"\r")
            self.assertEqual(read_for(env.pty.fd, 3, b"\r"), b"\r")
            # Ctrl+C is a byte for the server, not a signal here.
            os.write(fd, b"\x03")
            self.assertEqual(read_for(env.pty.fd, 3, b"\x03"), b"\x03")
            # ~~ at the start of a line sends one ~; ~. leaves.
            os.write(fd, b"\r~~x\r")
            self.assertEqual(read_for(env.pty.fd, 3, b"x\r"), b"\r~x\r")
            os.write(fd, b"~.")
            self.assertEqual(self.wait_exit(pid), 0)
        finally:
            env.close()

    def test_lines_only_agent_and_other_escape(self):
        env = ConsoleEnv(console={"raw_topic": "false"})
        try:
            pid, fd = self.spawn(env, "-e", "%")
            out = read_for(fd, 10, b"escape %.")
            self.assertIn(b"escape %.", out)
            env.pty.write(b"first\r\nlogin: ")
            out = read_for(fd, 5, b"login: ")
            self.assertIn(b"first\r\nlogin: ", out)
            # ~. is no escape now.
            os.write(fd, b"~.\r")
            self.assertEqual(read_for(env.pty.fd, 3, b"\r"), b"~.\r")
            os.write(fd, b"%.")
            self.assertEqual(self.wait_exit(pid), 0)
        finally:
            env.close()

    def test_error_result_is_shown(self):
        env = ConsoleEnv(device="/nonexistent/ttyGS9")
        try:
            pid, fd = self.spawn(env)
            read_for(fd, 10, b"escape ~.")
            os.write(fd, b"x")
            out = read_for(fd, 5, b"not open")
            self.assertIn(b"[zerobmc: the console device is not open", out)
            os.write(fd, b"\r~.")
            self.assertEqual(self.wait_exit(pid), 0)
        finally:
            env.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
