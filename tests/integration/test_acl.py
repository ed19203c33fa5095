"""The example mosquitto ACL, for real: mosquitto with
ha-integration/examples/mosquitto-acl and mosquitto.conf, a password file
made with mosquitto_passwd, two real agents logged in as their ids (in
groups rack1 and rack2, with the per-agent group lines the example
shows), Home Assistant publishing their discovery as an operator (the
output of `zerobmc discovery ID`), and a second agent's credentials
("charlie", a stolen Pi) trying each escape: commanding, reading or
speaking for another server, reading another group's commands, a user
called "group" commanding the groups, rewriting discovery (the confused
deputy), kicking an agent off with its client id. The broker refuses
each; Home Assistant commands both; and the ACL lets the agents make
every subscription they need (else they never come online).
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
USERS = {"alpha": "pw-alpha", "bravo": "pw-bravo", "charlie": "pw-charlie",
         "group": "pw-group", "homeassistant": "pw-ha", "nodered": "pw-nr"}
GROUPS = {"alpha": "rack1", "bravo": "rack2"}


class AclBroker(zbtest.Broker):
    """mosquitto with the example mosquitto.conf lines and ACL file."""

    def start(self):
        acl = os.path.join(self.tmp, "zerobmc.acl")
        passwd = os.path.join(self.tmp, "passwd")
        shutil.copy(os.path.join(EXAMPLES, "mosquitto-acl"), acl)
        # The per-agent group lines, as the example's comment shows them.
        with open(acl, "a") as f:
            for name, group in GROUPS.items():
                f.write(f"user {name}\ntopic read zerobmc/group/{group}"
                        "/cmd/#\n")
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
                os.chmod(pwfile, 0o600)
                a = zbtest.Agent(cls.tmp, cls.broker.port, name, sections={
                    "agent": {"groups": GROUPS[name]},
                    "mqtt": {"username": name, "password_file": pwfile},
                    "macros": {"dir": os.path.join(cls.tmp, "none")},
                    "homeassistant": {"discovery": "false"}})
                cls.agents[name] = a.start()
                cls.publish_discovery(a)
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

    @classmethod
    def publish_discovery(cls, agent):
        """The operator's step: `zerobmc discovery ID`, published by Home
        Assistant's user."""
        r = subprocess.run([zbtest.ZEROBMC, "-c", agent.conf, "discovery",
                            agent.id], capture_output=True, text=True,
                           timeout=10, check=True)
        for line in r.stdout.splitlines():
            topic, _, payload = line.partition(" ")
            cls.ha.publish(topic, payload, retain=True)

    def rogue(self, user="charlie", client_id=None):
        """A client with another agent's credentials (a stolen Pi)."""
        c = zbtest.Client(self.broker.port, username=user,
                          password=USERS[user], client_id=client_id)
        self.addCleanup(c.close)
        return c

    def typed(self, name, timeout):
        return self.agents[name].keyboard.reports(until_idle=0.3,
                                                  timeout=timeout)

    def command(self, client, target, text, cid):
        client.publish(f"zerobmc/{target}/cmd/type",
                       json.dumps({"text": text, "id": cid}))

    def test_agents_online_with_discovery(self):
        """Every subscription the agent makes is allowed, and the
        discovery the operator published is there."""
        for name in self.agents:
            self.ha.wait(lambda m, n=name: m["topic"] ==
                         f"homeassistant/device/zerobmc_{n}/config" and
                         m["payload"], 10, f"{name} discovery")

    def test_device_cannot_command_another(self):
        self.typed("bravo", 0.2)
        rogue = self.rogue()
        self.command(rogue, "bravo", "evil", "rogue-1")
        time.sleep(2.0)
        self.assertEqual(self.typed("bravo", 0.5), [])
        with self.ha.lock:
            seen = [m for m in self.ha.msgs if b"rogue-1" in m["payload"]]
        self.assertEqual(seen, [])

    def test_device_cannot_speak_for_another(self):
        rogue = self.rogue()
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
        rogue = self.rogue()
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

    def test_device_reads_its_commands_and_node_red_all(self):
        own = self.rogue()
        own.subscribe("zerobmc/charlie/cmd/#")
        self.ha.publish("zerobmc/charlie/cmd/type", '{"id":"own"}')
        own.wait(zbtest.topic_is("zerobmc/charlie/cmd/type"), 5,
                 "its own command")
        nr = zbtest.Client(self.broker.port, username="nodered",
                           password=USERS["nodered"])
        self.addCleanup(nr.close)
        cid = f"nr-{time.monotonic_ns()}"
        self.command(nr, "bravo", "y", cid)
        self.ha.wait(zbtest.result_for("bravo", cid), 10, "node-red command")
        self.typed("bravo", 3.0)

    def test_device_cannot_read_other_groups(self):
        """alpha (rack1) reads its group's commands, never rack2's."""
        rogue = self.rogue("charlie")
        rogue.subscribe("zerobmc/group/#")
        self.typed("bravo", 0.2)
        cid = f"g2-{time.monotonic_ns()}"
        self.ha.publish("zerobmc/group/rack2/cmd/type",
                        json.dumps({"text": "g", "id": cid}))
        self.ha.wait(zbtest.result_for("bravo", cid), 10, "group command")
        self.assertTrue(self.typed("bravo", 3.0))
        self.assertEqual(self.typed("alpha", 0.5), [])
        with rogue.lock:
            self.assertEqual([m["topic"] for m in rogue.msgs], [])

    def test_user_called_group_cannot_command_groups(self):
        rogue = self.rogue("group")
        self.typed("bravo", 0.2)
        rogue.publish("zerobmc/group/rack2/cmd/type",
                      '{"text":"evil","id":"grp-1"}')
        time.sleep(1.5)
        self.assertEqual(self.typed("bravo", 0.5), [])
        with self.ha.lock:
            seen = [m["topic"] for m in self.ha.msgs
                    if b"grp-1" in m["payload"]]
        self.assertEqual(seen, [])

    def test_device_cannot_rewrite_discovery(self):
        """The confused deputy: a Pi re-pointing Home Assistant's buttons
        at another server's commands. It has no write on the prefix."""
        topic = "homeassistant/device/zerobmc_charlie/config"
        evil = json.dumps({"dev": {"ids": ["x"]}, "o": {"name": "x"},
                           "cmps": {"b": {"p": "button",
                                          "cmd_t": "zerobmc/bravo/cmd/key",
                                          "uniq_id": "x"}}})
        for t in (topic, "homeassistant/device/zerobmc_bravo/config"):
            self.rogue().publish(t, evil, retain=True)
        time.sleep(1.0)
        with self.ha.lock:
            seen = [m["topic"] for m in self.ha.msgs
                    if m["payload"] == evil.encode()]
        self.assertEqual(seen, [])

    def test_client_id_cannot_kick_an_agent(self):
        """use_username_as_clientid: connecting with alpha's client id
        (the default zerobmc-alpha, or alpha) is charlie's own session."""
        t = time.monotonic()
        for cid in ("zerobmc-alpha", "alpha"):
            self.rogue(client_id=cid)
        time.sleep(1.5)
        with self.ha.lock:
            offline = [m for m in self.ha.msgs if m["t"] > t and
                       m["topic"] == "zerobmc/alpha/status"]
        self.assertEqual(offline, [])
        cid = f"kick-{time.monotonic_ns()}"
        self.command(self.ha, "alpha", "k", cid)
        self.ha.wait(zbtest.result_for("alpha", cid), 10, "alpha answers")
        self.typed("alpha", 3.0)

    def test_response_topic_where_the_acl_allows(self):
        """Answers go to reply/<agent id>/...; the agent refuses its own
        tree, and the broker keeps it out of other agents' replies."""
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties
        self.ha.subscribe("reply/#")
        for n, (topic, ok) in enumerate((("reply/alpha/ha", True),
                                         ("reply/bravo/ha", False),
                                         ("zerobmc/bravo/cmd/key", False))):
            props = Properties(PacketTypes.PUBLISH)
            props.ResponseTopic = topic
            cid = f"rt-{n}-{time.monotonic_ns()}"
            self.ha.publish("zerobmc/alpha/cmd/refresh",
                            json.dumps({"id": cid}), properties=props)
            self.ha.wait(zbtest.result_for("alpha", cid), 10, "result")
            time.sleep(0.3)
            with self.ha.lock:
                got = [m for m in self.ha.msgs if m["topic"] == topic
                       and cid.encode() in m["payload"]]
            self.assertEqual(bool(got), ok, topic)

    def test_cli_as_node_red(self):
        """`zerobmc send` and `list` with the example ACL: the probe on
        zerobmc/_reply/<user>/<client id>, the answer to a plain payload on
        reply/<id>/<client id>."""
        pw = os.path.join(self.tmp, "nodered.pw")
        with open(pw, "w") as f:
            f.write(USERS["nodered"] + "\n")
        os.chmod(pw, 0o600)  # the client refuses a secret others can read
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
