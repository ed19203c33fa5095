"""The example mosquitto ACL, for real: mosquitto with
ha-integration/examples/mosquitto-acl and a password file made with
mosquitto_passwd, two real agents logged in as their ids, Home Assistant
and a rogue client. A device cannot command another device's server, nor
speak in its name; Home Assistant commands both; and the ACL lets the
agents make every subscription they need (else they never come online).
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

SOURCE = os.environ.get("ZB_SOURCE") or os.path.join(
    os.path.dirname(__file__), "..", "..")
EXAMPLES = os.path.join(SOURCE, "ha-integration", "examples")
PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
USERS = {"alpha": "pw-alpha", "bravo": "pw-bravo",
         "homeassistant": "pw-ha", "nodered": "pw-nr"}


class AclBroker(zbtest.Broker):
    """mosquitto with the example mosquitto.conf lines and ACL file."""

    def start(self):
        acl = os.path.join(self.tmp, "zerobmc.acl")
        passwd = os.path.join(self.tmp, "passwd")
        shutil.copy(os.path.join(EXAMPLES, "mosquitto-acl"), acl)
        first = True
        for user, pw in USERS.items():
            subprocess.run([PASSWD] + (["-c"] if first else []) +
                           ["-b", passwd, user, pw], check=True,
                           stdout=subprocess.DEVNULL)
            first = False
        os.chmod(passwd, 0o600)
        lines = []
        with open(os.path.join(EXAMPLES, "mosquitto.conf")) as f:
            for line in f:
                word = line.split("#")[0].split()
                if not word:
                    continue
                if word[0] == "listener":
                    line = f"listener {self.port} 127.0.0.1\n"
                elif word[0] == "password_file":
                    line = f"password_file {passwd}\n"
                elif word[0] == "acl_file":
                    line = f"acl_file {acl}\n"
                elif word[0] == "persistence":
                    line = "persistence false\n"
                lines.append(line)
        with open(self.conf, "w") as f:
            f.write("".join(lines))
            f.write(f"user root\nlog_dest file {self.log}\n")
        self.proc = subprocess.Popen([zbtest.MOSQUITTO, "-c", self.conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        zbtest.wait_port(self.port)
        return self


class AclTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zbacl-")
        cls.broker = AclBroker(cls.tmp).start()
        cls.agents = {}
        try:
            cls.ha = zbtest.Client(cls.broker.port, username="homeassistant",
                                   password=USERS["homeassistant"])
            cls.ha.subscribe("zerobmc/#")
            cls.ha.subscribe("homeassistant/#")
            for name in ("alpha", "bravo"):
                pwfile = os.path.join(cls.tmp, f"{name}.pw")
                with open(pwfile, "w") as f:
                    f.write(USERS[name] + "\n")
                a = zbtest.Agent(cls.tmp, cls.broker.port, name, sections={
                    "mqtt": {"username": name, "password_file": pwfile},
                    "macros": {"dir": os.path.join(cls.tmp, "none")}})
                cls.agents[name] = a.start()
            for name in cls.agents:
                cls.ha.wait(lambda m, n=name: m["topic"] ==
                            f"zerobmc/{n}/status" and
                            m["payload"] == b"online", 15, f"{name} online")
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for a in cls.agents.values():
            a.stop()
            a.keyboard.close()
        try:
            cls.ha.close()
        except Exception:
            pass
        cls.broker.stop()
        if os.environ.get("ZB_KEEP_TMP"):
            print("kept", cls.tmp)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def rogue(self, user="alpha"):
        """A client with an agent's credentials (a stolen Pi)."""
        c = zbtest.Client(self.broker.port, username=user,
                          password=USERS[user])
        self.addCleanup(c.close)
        return c

    def typed(self, name, timeout):
        return self.agents[name].keyboard.reports(until_idle=0.3,
                                                  timeout=timeout)

    def command(self, client, target, text, cid):
        client.publish(f"zerobmc/{target}/cmd/type",
                       json.dumps({"text": text, "id": cid}))

    def test_agents_online_with_discovery(self):
        """Every subscription the agent makes is allowed, and its
        discovery payload reaches Home Assistant."""
        for name in self.agents:
            self.ha.wait(lambda m, n=name: m["topic"] ==
                         f"homeassistant/device/zerobmc_{n}/config" and
                         m["payload"], 10, f"{name} discovery")

    def test_device_cannot_command_another(self):
        self.typed("bravo", 0.2)
        rogue = self.rogue("alpha")
        self.command(rogue, "bravo", "evil", "rogue-1")
        time.sleep(2.0)
        self.assertEqual(self.typed("bravo", 0.5), [])
        with self.ha.lock:
            seen = [m for m in self.ha.msgs if b"rogue-1" in m["payload"]]
        self.assertEqual(seen, [])

    def test_device_cannot_speak_for_another(self):
        rogue = self.rogue("alpha")
        t = time.monotonic()
        rogue.publish("zerobmc/bravo/status", "offline")
        rogue.publish("zerobmc/bravo/result", '{"status":"ok","id":"fake"}')
        rogue.publish("homeassistant/device/zerobmc_bravo/config", "{}")
        time.sleep(1.5)
        with self.ha.lock:
            seen = [(m["topic"], m["payload"]) for m in self.ha.msgs
                    if m["t"] > t and m["payload"] in
                    (b"offline", b"{}", b'{"status":"ok","id":"fake"}')]
        self.assertEqual(seen, [])

    def test_device_cannot_read_another(self):
        rogue = self.rogue("alpha")
        rogue.subscribe("zerobmc/bravo/#")
        rogue.subscribe("zerobmc/+/cmd/#")
        time.sleep(0.5)
        self.ha.publish("zerobmc/bravo/cmd/refresh", '{"id":"ha-r"}')
        self.ha.wait(zbtest.result_for("bravo", "ha-r"), 10, "refresh")
        time.sleep(0.5)
        with rogue.lock:
            seen = [m["topic"] for m in rogue.msgs]
        self.assertEqual(seen, [])

    def test_home_assistant_commands_both(self):
        for name in self.agents:
            self.typed(name, 0.2)
            cid = f"ha-{name}-{time.monotonic_ns()}"
            self.command(self.ha, name, "ok", cid)
            m = self.ha.wait(zbtest.result_for(name, cid), 10,
                             f"result from {name}")
            self.assertEqual(json.loads(m["payload"])["status"], "ok")
            self.assertTrue(self.typed(name, 3.0))

    def test_device_commands_itself_and_node_red_all(self):
        own = self.rogue("alpha")
        cid = f"self-{time.monotonic_ns()}"
        self.command(own, "alpha", "x", cid)
        self.ha.wait(zbtest.result_for("alpha", cid), 10, "own command")
        nr = zbtest.Client(self.broker.port, username="nodered",
                           password=USERS["nodered"])
        self.addCleanup(nr.close)
        cid = f"nr-{time.monotonic_ns()}"
        self.command(nr, "bravo", "y", cid)
        self.ha.wait(zbtest.result_for("bravo", cid), 10, "node-red command")

    def test_cli_as_node_red(self):
        """`zerobmc send` and `list` with the example ACL: the probe on
        zerobmc/_reply/<client id>, the answer to a plain payload on
        zerobmc/<id>/reply/<client id>."""
        pw = os.path.join(self.tmp, "nodered.pw")
        with open(pw, "w") as f:
            f.write(USERS["nodered"] + "\n")
        uri = f"tcp://127.0.0.1:{self.broker.port}"
        for args in (("send", "bravo", "type", "z"),
                     ("send", "--group", "nogroup", "key", "{}"),
                     ("list",)):
            p = subprocess.run([zbtest.ZEROBMC, args[0], "-b", uri, "-u",
                                "nodered", "-P", pw, "-t", "10"]
                               + list(args[1:]), capture_output=True,
                               text=True, timeout=30)
            want = 2 if "--group" in args else 0
            self.assertEqual(p.returncode, want, f"{args}: {p.stdout} "
                             f"{p.stderr}")
        self.assertIn("bravo", p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
