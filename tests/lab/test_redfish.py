#!/usr/bin/python3
"""The Redfish gateway in the lab (issue 20): a Redfish client boots the
real UEFI server (OVMF) from virtual media given by URL, with a
ForceRestart through the server's reset pin.

A private lab: the Pi runs zerobmc-fakegpio, the agent with its GPIO
backend writing to a plain file (the Debian kernel has no gpio-sim), and
lab.ResetPin wires that file's reset line to the server VM's reset. The
lab serves images over HTTP (the Pi reaches the host as 10.0.2.2; the
agent's [media] url_allow lists it). zerobmc-redfish runs on the host
against the lab's broker. The client:
  - InsertMedia with the image's URL: the agent downloads it with libcurl
    and the gateway echoes the exact URL as Image;
  - sets a one-time Cd boot override;
  - resets the system with ForceRestart (allowed: the reset pin is wired).
The gateway turns that reset into cmd/boot {"target":"media"} with a hard
reboot (issue 19); the reset pin is pressed, the server resets, the
agent's state.phase reaches `booting-media` and the server's console shows
the medium's Linux (the lab's linux.img) says it is up.

Run: /usr/bin/python3 tests/lab/test_redfish.py (ZB_BUILD names the build).
"""
import json
import os
import random
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import lab as labmod  # noqa: E402
import labbuild  # noqa: E402
import rfenv  # noqa: E402
import zbtest  # noqa: E402

SYS = "/redfish/v1/Systems/" + labmod.AGENT_ID


class Gateway(rfenv.RedfishEnv):
    """The gateway alone, on the lab's broker (no agents of its own)."""

    def __init__(self, broker_port, tmp):
        self.tmp = tmp
        self.agents, self.chips, self.luns, self.images = {}, {}, {}, {}
        self.broker = None
        self.tls = False
        self.users = os.path.join(tmp, "redfish.users")
        with open(self.users, "w") as f:
            f.write(f"admin:{rfenv.crypt_hash(rfenv.PASSWORDS['admin'])}"
                    ":*\n")
        self.port = zbtest.free_port()
        self.conf = os.path.join(tmp, "redfish.conf")
        self.state_dir = os.path.join(tmp, "rfstate")
        with open(self.conf, "w") as f:
            f.write(f"[mqtt]\nuri = tcp://127.0.0.1:{broker_port}\n"
                    f"[redfish]\nlisten = 127.0.0.1\nport = {self.port}\n"
                    f"tls = false\nusers_file = {self.users}\n"
                    f"state_dir = {self.state_dir}\naccept_s = 5\n")
        self.log = os.path.join(tmp, "redfish.log")
        self.start_gateway()

    def close(self):
        self.stop_gateway()


def docs_since(client, seen):
    """(kind, doc) of the agent's state and event messages after message
    number seen: kind is "state" or "event"."""
    base = "zerobmc/%s/" % labmod.AGENT_ID
    with client.lock:
        msgs = list(client.msgs[seen:])
    for m in msgs:
        kind = m["topic"][len(base):]
        if not m["topic"].startswith(base) or kind not in ("state",
                                                            "event"):
            continue
        try:
            yield kind, json.loads(m["payload"])
        except ValueError:
            continue


def phase_since(client, seen, want):
    """The first phase change to `want` after message number `seen`: an
    event on the event topic, or a state document in that phase. (A
    state is a snapshot published at most every so often: a medium that
    boots Linux passes through booting-media faster than that.)"""
    for kind, doc in docs_since(client, seen):
        if kind == "event":
            if doc.get("what") == "phase" and doc.get("to") == want:
                return {"phase": doc}
        elif (doc.get("phase") or {}).get("phase") == want:
            return doc
    return None


def phases_since(client, seen):
    """The events and state phases after message number seen, as text."""
    out = []
    for kind, doc in docs_since(client, seen):
        if kind == "event" and doc.get("what") == "phase":
            out.append("event %s->%s" % (doc.get("from"), doc.get("to")))
        elif kind == "event":
            out.append("event %s %s %s" % (doc.get("source"),
                                           doc.get("what"),
                                           doc.get("to") or doc.get("reads")
                                           or ""))
        else:
            out.append("state %s" % (doc.get("phase") or {}).get("phase"))
    return out


class LabRedfish(unittest.TestCase):
    def test_url_insert_cd_override_force_restart_boots_media(self):
        build = os.environ.get("ZB_BUILD", "build")
        fake = os.path.join(build, "tests", "fake", "zerobmc-fakegpio")
        if not os.path.exists(fake):
            self.fail("no %s: build the tests first" % fake)
        lab = labmod.Lab(tempfile.mkdtemp(prefix="zblab-redfish-"),
                         owner=True)
        lab.own()
        self.addCleanup(lab.stop)
        os.makedirs(lab.share, exist_ok=True)
        chip = os.path.join(lab.share, "gpiochip")
        open(chip, "w").close()
        with open(chip + ".led", "w") as f:
            f.write("1")  # the server is on: its power LED is lit
        t0 = time.monotonic()
        lab.boot(server="uefi", zerobmc=fake, sections={"power": {
            "gpio_chip": "/lab/gpiochip", "power_line": "17",
            "reset_line": "27", "power_led_line": "22"}})
        print("lab up after %.0f s" % (time.monotonic() - t0))
        pin = labmod.ResetPin(lab, chip)
        pin.start()
        self.addCleanup(pin.stop)
        lab.wait_for(labmod.SHELL_PROMPT, 300)

        gw = Gateway(lab.state["broker_port"], lab.path(""))
        self.addCleanup(gw.close)
        # The lab's Linux as the medium: its boot reads megabytes, enough
        # for the proof (proof_reads 30), so the first attempt proves
        # itself and the reset pin is pressed once. (A marker image's
        # startup.nsh gives some ten reads: no proof, a second attempt.)
        name = "rf-%06x.img" % random.randrange(1 << 24)
        labbuild.linux_img(lab.path(os.path.join("web", name)),
                           work=lab.path(""))
        url = "http://10.0.2.2:%d/%s" % (lab.state["web_port"], name)
        gw.wait(lambda: gw.system(labmod.AGENT_ID)[0] == 200, 60,
                "the lab's agent in the gateway")
        vm = "/redfish/v1/Managers/%s/VirtualMedia/Cd" % labmod.AGENT_ID
        c = lab.mqtt()
        with c.lock:
            seen_insert = len(c.msgs)
        t0 = time.monotonic()
        st, _, b = gw.request("POST", vm + "/Actions/VirtualMedia."
                              "InsertMedia", {"Image": url})
        self.assertEqual(st, 204, b)
        print("InsertMedia by URL answered after %.1f s"
              % (time.monotonic() - t0))
        st, _, b = gw.request("GET", vm)
        self.assertEqual((b["Image"], b["ImageName"], b["Inserted"]),
                         (url, name, True), b)
        doc = lab.agent_state(lambda d: d["media"].get("image") == name)
        self.assertEqual(doc["media"]["image"], name)

        st, _, _ = gw.request("PATCH", SYS, {"Boot": {
            "BootSourceOverrideEnabled": "Once",
            "BootSourceOverrideTarget": "Cd"}})
        self.assertEqual(st, 204)
        allowed = gw.system(labmod.AGENT_ID)[2]["Actions"][
            "#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"]
        self.assertIn("ForceRestart", allowed)
        mark = lab.mark()
        c = lab.mqtt()
        with c.lock:
            seen = len(c.msgs)
        t0 = time.monotonic()
        st, _, b = gw.request(
            "POST", SYS + "/Actions/ComputerSystem.Reset",
            {"ResetType": "ForceRestart"})
        self.assertIn(st, (202, 204), b)
        print("Reset ForceRestart answered %d after %.1f s" % (
            st, time.monotonic() - t0))
        try:
            doc = gw.wait(lambda: phase_since(c, seen, "booting-media"),
                          300, "phase booting-media")
        except AssertionError:
            self.fail("no phase booting-media; phases since the reset: %s"
                      % phases_since(c, seen_insert))
        print("phase booting-media after %.1f s: %s" % (
            time.monotonic() - t0, json.dumps(doc["phase"])))
        lab.wait_for(r"zerobmc-lab-linux: up", timeout=300, since=mark)
        print("the medium's Linux up on the server's console after %.1f s"
              % (time.monotonic() - t0))
        lab.agent_state(lambda d: not d["boot"]["running"], 120)
        print("boot done after %.1f s; reset pin presses: %d"
              % (time.monotonic() - t0, pin.presses))
        self.assertEqual(pin.presses, 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
