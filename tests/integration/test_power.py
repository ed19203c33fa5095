"""Power through the real agent and a real broker.

Stand-ins: a plain file for the UDC state (watched with inotify) with an
`srp` file beside it, a plain file as [power] gpio_chip (the fake GPIO
backend appends "<us> <line> req|set <0|1>" records to it and reads the
power LED from "<chip>.led"), and a UDP socket on 127.0.0.1 that receives
the Wake-on-LAN packet.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402

MAC = "52:54:00:ab:cd:ef"


def write_in_place(path, text):
    """Rewrite a file without replacing it (as sysfs changes), never
    leaving it empty in between."""
    with open(path, "r+") as f:
        f.write(text)
        f.truncate()


def records(path):
    """The fake GPIO records: [(seconds, line, kind, value)]."""
    out = []
    with open(path) as f:
        for line in f:
            t, name, kind, value = line.split()
            out.append((int(t) / 1e6, name, kind, int(value)))
    return out


class PowerEnv(zbtest.Env):
    def __init__(self, agent_id, power=None, udc=None, gpio=False):
        self.root = tempfile.mkdtemp(prefix="zbpower-")
        sections = {}
        power = dict(power or {})
        if udc is not None:
            d = os.path.join(self.root, "udc")
            os.makedirs(d)
            self.udc_state = os.path.join(d, "state")
            self.srp = os.path.join(d, "srp")
            with open(self.udc_state, "w") as f:
                f.write(udc + "\n")
            open(self.srp, "w").close()
            sections["gadget"] = {"manage": "false",
                                  "udc_state": self.udc_state}
        if gpio:
            self.chip = os.path.join(self.root, "gpiochip")
            open(self.chip, "w").close()
            power.setdefault("gpio_chip", self.chip)
        if power:
            sections["power"] = power
        super().__init__(agent_id, sections=sections)

    def close(self):
        super().close()
        shutil.rmtree(self.root, ignore_errors=True)

    def power_state(self, pred, timeout=10, what="state.power"):
        def match(m):
            if m["topic"] != f"zerobmc/{self.id}/state":
                return False
            try:
                p = json.loads(m["payload"]).get("power")
            except ValueError:
                return False
            return p is not None and pred(p)
        m = self.client.wait(match, timeout, what)
        return json.loads(m["payload"])["power"]


class WakeOnLan(unittest.TestCase):
    def setUp(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(5)
        self.addCleanup(self.sock.close)
        port = self.sock.getsockname()[1]
        self.env = PowerEnv("pw1", power={
            "wol_mac": MAC, "wol_broadcast": "127.0.0.1",
            "wol_port": str(port)})
        self.addCleanup(self.env.close)
        self.env.wait_online()

    def test_magic_packet_bytes(self):
        res = self.env.cmd("power", {"action": "wake"})
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["sent"], ["wol"])
        self.assertIn("usb", res)  # why USB remote wakeup was not tried
        data, _ = self.sock.recvfrom(1024)
        mac = bytes.fromhex(MAC.replace(":", ""))
        self.assertEqual(data, b"\xff" * 6 + mac * 16)
        self.assertEqual(len(data), 102)

    def test_plain_payload(self):
        self.env.client.publish("zerobmc/pw1/cmd/power", "wake")
        data, _ = self.sock.recvfrom(1024)
        self.assertEqual(len(data), 102)
        m = self.env.client.wait(
            lambda m: m["topic"] == "zerobmc/pw1/result"
            and json.loads(m["payload"]).get("cmd") == "power", 10)
        self.assertEqual(json.loads(m["payload"])["sent"], ["wol"])

    def test_state_says_wol_and_no_wiring(self):
        p = self.env.power_state(lambda p: True)
        self.assertTrue(p["wol"])
        self.assertEqual(p["wired"], {"power": False, "reset": False,
                                      "led": False})
        self.assertEqual(p["state"], "unknown")
        self.assertEqual(p["source"], "none")
        self.assertFalse(p["inferred"])


class NotWired(unittest.TestCase):
    def setUp(self):
        self.env = PowerEnv("pw2")
        self.addCleanup(self.env.close)
        self.env.wait_online()

    def test_clear_errors(self):
        for action in ("on", "off", "force_off", "cycle"):
            res = self.env.cmd("power", {"action": action})
            self.assertEqual(res["status"], "error", res)
            self.assertEqual(res["error"], "no power pin wired: set "
                             "[power] gpio_chip and power_line")
        res = self.env.cmd("power", {"action": "reset"})
        self.assertEqual(res["error"], "no reset pin wired: set "
                         "[power] gpio_chip and reset_line")
        res = self.env.cmd("power", {"action": "wake"})
        self.assertEqual(res["status"], "error")
        self.assertIn("nothing was sent", res["error"])
        self.assertIn("wol_mac", res["error"])

    def test_reboot_hard_suggests_sysrq(self):
        res = self.env.cmd("reboot", {"mode": "hard"})
        self.assertEqual(res["status"], "error")
        self.assertIn("reset pin", res["error"])
        self.assertIn("reboot sysrq", res["error"])

    def test_bad_payloads(self):
        res = self.env.cmd("power", {"action": "explode"})
        self.assertIn("unknown power action", res["error"])
        res = self.env.cmd("power", {"action": "on", "force": "yes"})
        self.assertIn("\"force\"", res["error"])
        res = self.env.cmd("power", {"actoin": "on"})
        self.assertEqual(res["status"], "error")
        res = self.env.cmd("power", {})
        self.assertIn("no action", res["error"])


class Inference(unittest.TestCase):
    def setUp(self):
        self.env = PowerEnv("pw3", udc="configured")
        self.addCleanup(self.env.close)
        self.env.wait_online()

    def test_udc_state_file_drives_state_power(self):
        p = self.env.power_state(lambda p: p["state"] == "on")
        self.assertEqual(p["source"], "usb")
        self.assertTrue(p["inferred"])
        self.assertEqual(p["usb"], "configured")
        write_in_place(self.env.udc_state, "suspended\n")
        p = self.env.power_state(lambda p: p["state"] == "asleep")
        self.assertEqual(p["source"], "usb")
        self.assertTrue(p["inferred"])
        self.assertIn("suspended", p["detail"])
        write_in_place(self.env.udc_state, "not attached\n")
        p = self.env.power_state(lambda p: p["state"] == "off")
        self.assertTrue(p["inferred"])

    def test_usb_wake_writes_srp_and_waits_for_resume(self):
        # Configured: signalled blind, since many UDCs never say
        # "suspended"; the result cannot tell whether the host woke.
        res = self.env.cmd("power", {"action": "wake"})
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["sent"], ["usb"])
        self.assertNotIn("resumed", res)
        self.assertIn("configured", res["usb_note"])
        with open(self.env.srp) as f:
            self.assertEqual(f.read(), "1")
        write_in_place(self.env.srp, "")
        # No host: nothing to wake over USB.
        write_in_place(self.env.udc_state, "not attached\n")
        self.env.power_state(lambda p: p["usb"] == "not attached")
        res = self.env.cmd("power", {"action": "wake"})
        self.assertEqual(res["status"], "error")
        self.assertIn("no host has configured the gadget", res["error"])
        write_in_place(self.env.udc_state, "suspended\n")
        self.env.power_state(lambda p: p["state"] == "asleep")
        self.env.seq += 1
        cid = f"wake-{time.monotonic_ns()}"
        self.env.client.publish("zerobmc/pw3/cmd/power", json.dumps(
            {"id": cid, "action": "wake"}))
        # The agent wrote "1" to srp; the host "resumes".
        end = time.time() + 5
        while time.time() < end:
            with open(self.env.srp) as f:
                if f.read() == "1":
                    break
            time.sleep(0.02)
        else:
            self.fail("srp was not written")
        write_in_place(self.env.udc_state, "configured\n")
        m = self.env.client.wait(zbtest.result_for("pw3", cid), 10)
        res = json.loads(m["payload"])
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["sent"], ["usb"])
        self.assertTrue(res["resumed"])
        self.assertEqual(res["usb_state"], "configured")

    def test_usb_wake_without_resume_says_so(self):
        write_in_place(self.env.udc_state, "suspended\n")
        self.env.power_state(lambda p: p["state"] == "asleep")
        t0 = time.monotonic()
        res = self.env.cmd("power", {"action": "wake"}, timeout=15)
        took = time.monotonic() - t0
        self.assertEqual(res["status"], "ok", res)
        self.assertFalse(res["resumed"])
        self.assertIn("remote wakeup", res["usb_note"])
        self.assertGreater(took, 2.5)

    def test_on_refused_when_usb_says_on(self):
        # No pins: the wiring error comes first, whatever the state.
        res = self.env.cmd("power", {"action": "on"})
        self.assertIn("no power pin wired", res["error"])


class FakePins(unittest.TestCase):
    """The whole path with the fake GPIO backend as the chip stand-in."""

    def setUp(self):
        self.env = PowerEnv("pw4", udc="not attached", gpio=True, power={
            "power_line": "17", "reset_line": "27",
            "power_led_line": "22", "short_press_ms": "100",
            "long_press_ms": "1000", "cycle_wait_ms": "300"})
        self.addCleanup(self.env.close)
        self.env.wait_online()

    def sets(self, line):
        return [r for r in records(self.env.chip)
                if r[1] == line and r[2] == "set"]

    def test_claimed_inactive_and_on_press(self):
        recs = records(self.env.chip)
        self.assertEqual([r[1:] for r in recs],
                         [("power", "req", 0), ("reset", "req", 0)])
        p = self.env.power_state(lambda p: True)
        self.assertEqual(p["wired"], {"power": True, "reset": True,
                                      "led": True})
        # The LED file is missing: dark, a measurement.
        self.assertEqual(p["state"], "off")
        self.assertEqual(p["source"], "power_led")
        self.assertFalse(p["inferred"])
        res = self.env.cmd("power", {"action": "on"})
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["state_before"], "off")
        s = self.sets("power")
        self.assertEqual([v for _, _, _, v in s], [1, 0])
        held = s[1][0] - s[0][0]
        print(f"short press held {held * 1000:.1f} ms (100 configured)")
        self.assertGreaterEqual(held, 0.100)
        self.assertLess(held, 0.200)

    def test_led_and_refusal(self):
        with open(self.env.chip + ".led", "w") as f:
            f.write("1\n")
        p = self.env.power_state(lambda p: p["state"] == "on")
        self.assertEqual(p["source"], "power_led")
        self.assertEqual(p["led"], "lit")
        res = self.env.cmd("power", {"action": "on"})
        self.assertEqual(res["status"], "error")
        self.assertIn("is on (the power LED is lit)", res["error"])
        self.assertEqual(self.sets("power"), [])
        res = self.env.cmd("power", {"action": "on", "force": True})
        self.assertEqual(res["status"], "ok")

    def test_busy_and_reboot_hard(self):
        self.env.client.publish("zerobmc/pw4/cmd/power", json.dumps(
            {"id": "long", "action": "force_off"}))
        self.env.power_state(lambda p: p["busy"] == "force_off")
        res = self.env.cmd("power", {"action": "reset"})
        self.assertEqual(res["status"], "busy", res)
        self.assertIn("force_off is in progress", res["error"])
        res = self.env.cmd("reboot", {"mode": "hard"})
        self.assertEqual(res["status"], "busy", res)
        m = self.env.client.wait(zbtest.result_for("pw4", "long"), 10)
        self.assertEqual(json.loads(m["payload"])["status"], "ok")
        s = self.sets("power")
        held = s[1][0] - s[0][0]
        print(f"long press held {held * 1000:.1f} ms (1000 configured)")
        self.assertGreaterEqual(held, 1.0)
        self.assertLess(held, 1.1)
        self.assertEqual(self.sets("reset"), [])
        res = self.env.cmd("reboot", {"mode": "hard"})
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["action"], "reset")
        self.assertEqual([v for _, _, _, v in self.sets("reset")], [1, 0])

    def test_cycle_and_stop_mid_press(self):
        with open(self.env.chip + ".led", "w") as f:
            f.write("1\n")
        self.env.power_state(lambda p: p["state"] == "on")
        res = self.env.cmd("power", {"action": "cycle"}, timeout=15)
        self.assertEqual(res["status"], "ok", res)
        s = self.sets("power")
        self.assertEqual([v for _, _, _, v in s], [1, 0, 1, 0])
        gaps = [round((s[i + 1][0] - s[i][0]) * 1000) for i in range(3)]
        print(f"cycle: long {gaps[0]} ms, wait {gaps[1]} ms, "
              f"short {gaps[2]} ms")
        self.assertGreaterEqual(gaps[0], 1000)
        self.assertGreaterEqual(gaps[1], 300)
        self.assertGreaterEqual(gaps[2], 100)
        # SIGTERM in the middle of a long press: the line goes inactive.
        self.env.client.publish("zerobmc/pw4/cmd/power", json.dumps(
            {"id": "cut", "action": "force_off"}))
        self.env.power_state(lambda p: p["busy"] == "force_off")
        self.env.agent.stop()
        s = self.sets("power")
        last_press = max(i for i, r in enumerate(s) if r[3] == 1)
        self.assertTrue(all(r[3] == 0 for r in s[last_press + 1:]))
        held = s[last_press + 1][0] - s[last_press][0]
        print(f"force_off cut by SIGTERM after {held * 1000:.0f} ms")
        self.assertLess(held, 0.9)
        m = self.env.client.wait(zbtest.result_for("pw4", "cut"), 5)
        self.assertEqual(json.loads(m["payload"])["status"], "cancelled")

    def test_restart_claims_inactive_again(self):
        self.env.agent.stop()
        before = len(records(self.env.chip))
        self.env.agent.start()
        self.env.client.clear()
        self.env.wait_online()
        new = records(self.env.chip)[before:]
        self.assertEqual([r[1:] for r in new],
                         [("power", "req", 0), ("reset", "req", 0)])


class ConfigCheck(unittest.TestCase):
    def check(self, power):
        text = "[agent]\nid = a\n[power]\n" + "".join(
            f"{k} = {v}\n" for k, v in power.items())
        with tempfile.NamedTemporaryFile("w", suffix=".conf",
                                         delete=False) as f:
            f.write(text)
        try:
            p = subprocess.run([zbtest.ZEROBMC, "-n", "-c", f.name],
                               capture_output=True, text=True)
            return p.returncode, p.stdout + p.stderr
        finally:
            os.unlink(f.name)

    def test_errors(self):
        cases = [
            ({"power_line": "17"}, "[power] gpio_chip"),
            ({"gpio_chip": "/dev/gpiochip0", "power_line": "17",
              "reset_line": "17"}, "must differ"),
            ({"wol_mac": "52:54:00:ab:cd"}, "[power] wol_mac"),
            ({"wol_mac": MAC, "wol_broadcast": "lan.example"},
             "[power] wol_broadcast"),
        ]
        for power, want in cases:
            rc, out = self.check(power)
            self.assertEqual(rc, 1, power)
            self.assertIn(want, out, power)
        rc, out = self.check({"gpio_chip": "/dev/gpiochip0",
                              "power_line": "17", "reset_line": "27",
                              "power_led_line": "22", "active_low": "false",
                              "led_active_low": "true", "wol_mac": MAC,
                              "wol_broadcast": "192.168.1.255"})
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
