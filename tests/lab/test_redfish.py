#!/usr/bin/python3
"""The Redfish gateway in the lab (issue 20): a Redfish client boots the
real UEFI server (OVMF) from virtual media. zerobmc-redfish runs on the
host against the lab's broker; the client inserts a FAT image whose
startup.nsh prints a marker (InsertMedia with a bare image name: the Pi
VM has no libcurl for a URL download), sets a one-time Cd boot override
and resets the system. The gateway turns that reset into cmd/boot
{"target":"media"} (issue 19); the agent's state.phase reaches
`booting-media` and the server's console shows the marker.

Run: /usr/bin/python3 tests/lab/test_redfish.py (ZB_BUILD names the
build; ZB_LAB_RUN attaches to a running lab, else a private one is booted
and stopped at the end).
"""
import json
import os
import random
import subprocess
import sys
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


def phase_since(client, seen, want):
    """The first state after message number `seen` in phase `want`."""
    topic = "zerobmc/%s/state" % labmod.AGENT_ID
    with client.lock:
        msgs = list(client.msgs[seen:])
    for m in msgs:
        if m["topic"] != topic:
            continue
        try:
            doc = json.loads(m["payload"])
        except ValueError:
            continue
        if (doc.get("phase") or {}).get("phase") == want:
            return doc
    return None


class LabRedfish(unittest.TestCase):
    def test_cd_override_reset_boots_media(self):
        lab = labmod.Lab.for_test(server="uefi")
        if lab.owner:
            self.addCleanup(lab.stop)
        else:
            self.addCleanup(lab.close_clients)
        lab.ensure_server("uefi")
        # Last of the cleanups: the server booted the marker image, so the
        # next test of the suite gets a fresh one (ensure_server starts it).
        self.addCleanup(lab.kill_server)
        gw = Gateway(lab.state["broker_port"], lab.path(""))
        self.addCleanup(gw.close)
        tag = "%06x" % random.randrange(1 << 24)
        marker = "zerobmc-redfish-%s" % tag
        name = "rf-%s.img" % tag
        labbuild.marker_img(os.path.join(lab.share, "images", name), marker)
        self.addCleanup(lambda: lab.cmd("media", {"image": "eject"},
                                        timeout=30))
        # The boot the Reset started may still be proving itself (the lab's
        # proof_reads is high): it owns the keyboard until cancelled, and
        # the suite's next tests share this agent.
        self.addCleanup(lambda: lab.cmd("boot", {"cancel": True},
                                        timeout=60))
        gw.wait(lambda: gw.system(labmod.AGENT_ID)[0] == 200, 60,
                "the lab's agent in the gateway")
        vm = "/redfish/v1/Managers/%s/VirtualMedia/Cd" % labmod.AGENT_ID
        st, _, b = gw.request("POST", vm + "/Actions/VirtualMedia."
                              "InsertMedia", {"Image": name})
        self.assertEqual(st, 204, b)
        st, _, _ = gw.request("PATCH", SYS, {"Boot": {
            "BootSourceOverrideEnabled": "Once",
            "BootSourceOverrideTarget": "Cd"}})
        self.assertEqual(st, 204)
        allowed = gw.system(labmod.AGENT_ID)[2]["Actions"][
            "#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"]
        rtype = "ForceRestart" if "ForceRestart" in allowed \
            else "GracefulRestart"
        mark = lab.mark()
        c = lab.mqtt()
        with c.lock:
            seen = len(c.msgs)
        t0 = time.monotonic()
        st, _, b = gw.request(
            "POST", SYS + "/Actions/ComputerSystem.Reset",
            {"ResetType": rtype})
        self.assertIn(st, (202, 204), b)
        print("Reset %s answered %d after %.1f s" % (
            rtype, st, time.monotonic() - t0))
        doc = gw.wait(lambda: phase_since(c, seen, "booting-media"), 300,
                      "phase booting-media")
        print("phase booting-media after %.1f s: %s" % (
            time.monotonic() - t0, json.dumps(doc["phase"])))
        lab.wait_for(marker, timeout=300, since=mark)
        print("marker on the server's console after %.1f s" % (
            time.monotonic() - t0))


if __name__ == "__main__":
    unittest.main(verbosity=2)
