"""Shared helpers for zerobmc integration tests.

Everything here is real: a mosquitto broker on a free loopback port, the
zerobmc binary built by CMake, pseudo-terminals standing in for the HID
keyboard and the serial console, and a paho-mqtt client for the test.
"""
import json
import os
import pty
import queue
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import tty

import paho.mqtt.client as paho

ZEROBMC = os.environ.get("ZEROBMC") or os.path.join(
    os.environ.get("ZB_BUILD", "build"), "firmware", "zerobmc")
# The agent built with the fake GPIO backend (tests/fake): a plain file
# stands in for the chip. The shipped agent has no fake backend.
ZEROBMC_FAKEGPIO = os.environ.get("ZEROBMC_FAKEGPIO") or os.path.join(
    os.environ.get("ZB_BUILD", "build"), "tests", "fake", "zerobmc-fakegpio")


def wrap_binary(binary, wrapper):
    """A cross-built agent runs under an emulator: ZEROBMC_WRAPPER is the
    command put before it ("qemu-aarch64-static -cpu cortex-a53"). Tests
    exec ZEROBMC in several ways, so it becomes a script that execs the
    wrapper: the process the tests see is the emulator running the agent."""
    import atexit
    import shlex
    d = tempfile.mkdtemp(prefix="zbwrap-")
    atexit.register(shutil.rmtree, d, True)
    script = os.path.join(d, "zerobmc")
    with open(script, "w") as f:
        f.write("#!/bin/sh\nexec %s %s \"$@\"\n" % (
            " ".join(shlex.quote(w) for w in shlex.split(wrapper)),
            shlex.quote(os.path.abspath(binary))))
    os.chmod(script, 0o755)
    return script


if os.environ.get("ZEROBMC_WRAPPER"):
    ZEROBMC = wrap_binary(ZEROBMC, os.environ["ZEROBMC_WRAPPER"])
    ZEROBMC_FAKEGPIO = wrap_binary(ZEROBMC_FAKEGPIO,
                                   os.environ["ZEROBMC_WRAPPER"])
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def media_dirs(root):
    """An images folder and a stand-in LUN (the attribute files of a
    mass storage function, as plain files) under root; files already
    there are kept. Returns (images, lun)."""
    images = os.path.join(root, "images")
    lun = os.path.join(root, "lun")
    os.makedirs(images, exist_ok=True)
    os.makedirs(lun, exist_ok=True)
    for name, value in (("file", ""), ("ro", "0\n"), ("cdrom", "0\n"),
                        ("forced_eject", "")):
        p = os.path.join(lun, name)
        if not os.path.exists(p):
            with open(p, "w") as f:
                f.write(value)
    return images, lun


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return True
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


class Broker:
    """A real mosquitto on a free loopback port, restartable on that port."""

    def __init__(self, tmp, extra_conf="", port=None):
        self.tmp = tmp
        self.port = port or free_port()
        self.extra_conf = extra_conf
        self.proc = None
        self.conf = os.path.join(tmp, f"mosquitto-{self.port}.conf")
        self.log = os.path.join(tmp, f"mosquitto-{self.port}.log")

    def start(self):
        with open(self.conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\n"
                    "allow_anonymous true\n"
                    "persistence false\n"
                    "set_tcp_nodelay true\n"
                    "user root\n"
                    f"log_dest file {self.log}\n"
                    + self.extra_conf)
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Pty:
    """A pseudo-terminal: the agent opens `path`, the test uses `fd`."""

    def __init__(self):
        self.fd, slave = pty.openpty()
        tty.setraw(self.fd)
        self.path = os.ttyname(slave)
        # Keep the slave open so the pty survives the agent's reopen.
        self.slave = slave
        os.set_blocking(self.fd, False)
        self.buf = b""

    def read_some(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return b""
        try:
            return os.read(self.fd, 65536)
        except (BlockingIOError, OSError):
            return b""

    def write(self, data):
        os.write(self.fd, data)

    def close(self):
        for fd in (self.fd, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


class Keyboard(Pty):
    """Reads 8-byte boot keyboard reports the agent writes."""

    def reports(self, n=None, timeout=5.0, until_idle=None):
        """Collect reports: n of them, or until idle for until_idle s."""
        out = []
        end = time.time() + timeout
        while time.time() < end:
            while len(self.buf) >= 8:
                out.append(self.buf[:8])
                self.buf = self.buf[8:]
                if n is not None and len(out) >= n:
                    return out
            chunk = self.read_some(until_idle if until_idle else 0.05)
            if not chunk and until_idle and out:
                return out
            self.buf += chunk
        return out


class Agent:
    """The real zerobmc binary with a generated configuration."""

    def __init__(self, tmp, broker_port, agent_id="t1", extra="",
                 sections=None, keyboard=None, console=None, args=(),
                 env=None):
        self.tmp = tmp
        # Variables added to the agent's environment (e.g. LD_PRELOAD).
        self.env = dict(os.environ, **env) if env else None
        self.id = agent_id
        self.keyboard = keyboard or Keyboard()
        self.console = console
        self.conf = os.path.join(tmp, f"zerobmc-{agent_id}.conf")
        self.log = os.path.join(tmp, f"zerobmc-{agent_id}.log")
        sections = dict(sections or {})
        agent = {"id": agent_id, "log_level": "debug"}
        agent.update(sections.pop("agent", {}))
        mqtt = {"uri": f"tcp://127.0.0.1:{broker_port}", "keepalive": "5"}
        mqtt.update(sections.pop("mqtt", {}))
        keyboard_s = {"device": self.keyboard.path}
        keyboard_s.update(sections.pop("keyboard", {}))
        all_sections = {"agent": agent, "mqtt": mqtt,
                        "gadget": {"manage": "false"},
                        "keyboard": keyboard_s}
        if console:
            all_sections["console"] = {"device": console.path}
        all_sections.update(sections)
        self.binary = ZEROBMC_FAKEGPIO if all_sections.get(
            "power", {}).get("gpio_chip") else ZEROBMC
        with open(self.conf, "w") as f:
            for name, keys in all_sections.items():
                f.write(f"[{name}]\n")
                for k, v in keys.items():
                    f.write(f"{k} = {v}\n")
            f.write(extra)
        self.args = list(args)
        self.proc = None

    def start(self):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen([self.binary, "-c", self.conf] + self.args,
                                     stdout=self.logf, stderr=self.logf,
                                     env=self.env)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if not self.alive():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def log_text(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")


class Client:
    """A paho-mqtt client that records every message it receives."""

    def __init__(self, port, protocol=paho.MQTTv5, client_id=None,
                 username=None, password=None):
        self.q = queue.Queue()
        self.msgs = []
        self.lock = threading.Lock()
        self.protocol = protocol
        self.c = paho.Client(client_id=client_id or f"test-{os.getpid()}-"
                             f"{time.monotonic_ns()}", protocol=protocol)
        if username:
            self.c.username_pw_set(username, password)
        self.c.on_message = self._on_message
        self.port = port
        self.connected = threading.Event()
        self.c.on_connect = lambda *a: self.connected.set()
        self.c.connect("127.0.0.1", port, keepalive=30)
        self.c.loop_start()
        if not self.connected.wait(10):
            raise TimeoutError("test client could not connect")
        # The test's own client must not add Nagle delays to what it
        # measures.
        sock = self.c.socket()
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _on_message(self, client, userdata, msg):
        props = getattr(msg, "properties", None)
        m = {"topic": msg.topic, "payload": msg.payload,
             "retain": bool(msg.retain), "t": time.monotonic(),
             "props": props}
        with self.lock:
            self.msgs.append(m)
        self.q.put(m)

    def subscribe(self, topic, qos=1):
        done = threading.Event()
        self.c.on_subscribe = lambda *a: done.set()
        self.c.subscribe(topic, qos)
        if not done.wait(10):
            raise TimeoutError(f"subscribe {topic}")

    def publish(self, topic, payload, qos=1, retain=False, properties=None):
        info = self.c.publish(topic, payload, qos=qos, retain=retain,
                              properties=properties)
        info.wait_for_publish(10)
        return info

    def wait(self, pred, timeout=10.0, what="message"):
        """Wait for a message (seen before or after the call) matching."""
        end = time.time() + timeout
        seen = 0
        while True:
            with self.lock:
                msgs = list(self.msgs)
            for m in msgs[seen:]:
                if pred(m):
                    return m
            seen = len(msgs)
            left = end - time.time()
            if left <= 0:
                raise TimeoutError(f"no {what} within {timeout} s; got "
                                   f"{[(m['topic'], m['payload'][:200]) for m in msgs[-10:]]}")
            try:
                self.q.get(timeout=min(left, 0.2))
            except queue.Empty:
                pass

    def clear(self):
        with self.lock:
            self.msgs.clear()

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def topic_is(topic):
    return lambda m: m["topic"] == topic


def state_of(agent_id, section, pred):
    """A state message whose `section` ({} when absent) satisfies pred."""
    def match(m):
        if m["topic"] != f"zerobmc/{agent_id}/state":
            return False
        try:
            return pred(json.loads(m["payload"]).get(section) or {})
        except ValueError:
            return False
    return match


def result_for(agent_id, cmd_id):
    def pred(m):
        if m["topic"] != f"zerobmc/{agent_id}/result":
            return False
        try:
            return json.loads(m["payload"]).get("id") == cmd_id
        except ValueError:
            return False
    return pred


class Env:
    """A broker, an agent and a client, torn down in reverse order."""

    def __init__(self, agent_id="t1", sections=None, console=False,
                 broker_conf="", extra=""):
        self.tmp = tempfile.mkdtemp(prefix="zbtest-")
        self.broker = Broker(self.tmp, broker_conf).start()
        self.console = Pty() if console else None
        self.agent = Agent(self.tmp, self.broker.port, agent_id,
                           sections=sections, console=self.console,
                           extra=extra)
        self.id = agent_id
        self.client = Client(self.broker.port)
        self.client.subscribe(f"zerobmc/{agent_id}/#")
        self.agent.start()
        self.seq = 0

    def wait_online(self, timeout=10):
        return self.client.wait(
            lambda m: m["topic"] == f"zerobmc/{self.id}/status"
            and m["payload"] == b"online", timeout, "status online")

    def cmd(self, name, payload, retain=False, wait=True, timeout=10,
            properties=None):
        """Publish a JSON command with a fresh id; return its result."""
        self.seq += 1
        cid = f"c{self.seq}-{time.monotonic_ns()}"
        if isinstance(payload, dict):
            payload = dict(payload, id=cid)
            data = json.dumps(payload)
        else:
            data = payload
            cid = None
        self.client.publish(f"zerobmc/{self.id}/cmd/{name}", data,
                            retain=retain, properties=properties)
        if not wait or cid is None:
            return None
        m = self.client.wait(result_for(self.id, cid), timeout,
                             f"result of {name}")
        return json.loads(m["payload"])

    def close(self):
        try:
            self.client.close()
        except Exception:
            pass
        self.agent.stop()
        self.broker.stop()
        self.agent.keyboard.close()
        if self.console:
            self.console.close()
        if os.environ.get("ZB_KEEP_TMP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
