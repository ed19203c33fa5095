"""Home Assistant discovery from the real agent and a real broker.

The test client plays Home Assistant: it reads the retained discovery
payloads, announces itself on homeassistant/status, and checks that
entities follow the images folder, the macros folder and the agent's
configuration, including their removal.
"""
import json
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402
from test_reinstall import ReinstallEnv  # noqa: E402

try:
    from jinja2.sandbox import ImmutableSandboxedEnvironment
except ImportError:  # python3-jinja2 (scripts/deps)
    ImmutableSandboxedEnvironment = None

PREFIX = "homeassistant"


def device_topic(agent_id):
    return f"{PREFIX}/device/zerobmc_{agent_id}/config"


class HaEnv:
    """Broker, one agent (restartable with other settings), test client."""

    def __init__(self, agent_id="nuc"):
        self.id = agent_id
        self.tmp = tempfile.mkdtemp(prefix="zbha-")
        self.images = os.path.join(self.tmp, "images")
        self.lun = os.path.join(self.tmp, "lun")
        self.macros = os.path.join(self.tmp, "macros")
        self.udc_state = os.path.join(self.tmp, "udc-state")
        for d in (self.images, self.lun, self.macros):
            os.makedirs(d)
        with open(self.udc_state, "w") as f:
            f.write("configured\n")
        for name, value in (("file", ""), ("ro", "0\n"), ("cdrom", "0\n"),
                            ("forced_eject", "")):
            with open(os.path.join(self.lun, name), "w") as f:
                f.write(value)
        for name, size in (("debian-12.iso", 700 << 20),
                           ("disk.img", 64 << 20)):
            with open(os.path.join(self.images, name), "wb") as f:
                f.truncate(size)
        with open(os.path.join(self.macros, "unlock.txt"), "w") as f:
            f.write("STRING hello\nENTER\n")
        self.broker = zbtest.Broker(self.tmp).start()
        self.client = zbtest.Client(self.broker.port)
        self.client.subscribe(f"zerobmc/{agent_id}/#")
        self.client.subscribe(f"{PREFIX}/#")
        self.agent = None
        self.console = None

    def start(self, console=True, ha=None):
        self.console = zbtest.Pty() if console else None
        sections = {
            "media": {"dir": self.images, "lun": self.lun,
                      "state_file": os.path.join(self.tmp, "media.state")},
            "macros": {"dir": self.macros},
            "gadget": {"manage": "false", "udc_state": self.udc_state},
            "homeassistant": dict(ha or {}),
        }
        if not console:
            sections["console"] = {"device": ""}
        self.agent = zbtest.Agent(self.tmp, self.broker.port, self.id,
                                  sections=sections, console=self.console)
        self.agent.start()
        self.client.wait(lambda m: m["topic"] == f"zerobmc/{self.id}/status"
                         and m["payload"] == b"online" and
                         m["t"] > self.t0, 10, "online")

    def restart(self, **kw):
        self.stop_agent()
        self.mark()
        self.start(**kw)

    def stop_agent(self):
        if self.agent:
            self.agent.stop()
            self.agent.keyboard.close()
        if self.console:
            self.console.close()
        self.agent = None

    @property
    def t0(self):
        return getattr(self, "_t0", 0.0)

    def mark(self):
        self._t0 = time.monotonic()
        return self._t0

    def discovery(self, after, timeout=10, pred=None, what="discovery"):
        """The first device payload published after `after`."""
        def match(m):
            if m["topic"] != device_topic(self.id) or m["t"] <= after:
                return False
            if not m["payload"]:
                return False
            return pred is None or pred(json.loads(m["payload"]))
        m = self.client.wait(match, timeout, what)
        return m, json.loads(m["payload"])

    def retained(self, topic_filter, timeout=1.5):
        """What a client subscribing now finds retained."""
        c = zbtest.Client(self.broker.port)
        try:
            c.subscribe(topic_filter)
            time.sleep(timeout)
            with c.lock:
                return {m["topic"]: m for m in c.msgs if m["retain"]}
        finally:
            c.close()

    def retained_until(self, topic_filter, pred, timeout=15):
        """What is retained once pred holds of it (a slow agent, as under
        qemu-user, publishes its discovery later than a fixed wait)."""
        end = time.time() + timeout
        while True:
            found = self.retained(topic_filter, 1.0)
            if pred(found) or time.time() > end:
                return found

    def close(self):
        try:
            self.client.close()
        except Exception:
            pass
        self.stop_agent()
        self.broker.stop()
        if os.environ.get("ZB_KEEP_TMP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


class DiscoveryTest(unittest.TestCase):
    def setUp(self):
        self.env = HaEnv()
        self.env.mark()
        try:
            self.env.start()
        except Exception:
            self.env.close()
            raise

    def tearDown(self):
        self.env.close()

    def test_retained_at_connect_with_images_and_macros(self):
        e = self.env
        e.discovery(0)
        found = e.retained(device_topic(e.id))
        self.assertIn(device_topic(e.id), found)
        m = found[device_topic(e.id)]
        self.assertTrue(m["retain"])
        doc = json.loads(m["payload"])
        self.assertEqual(doc["dev"]["ids"], [f"zerobmc_{e.id}"])
        self.assertEqual(doc["avty_t"], f"zerobmc/{e.id}/status")
        self.assertEqual(doc["o"]["name"], "zerobmc")
        cmps = doc["cmps"]
        media = cmps["media"]
        self.assertEqual(media["p"], "select")
        self.assertEqual(media["ops"], ["none", "debian-12.iso", "disk.img"])
        self.assertEqual(media["cmd_t"], f"zerobmc/{e.id}/cmd/media")
        # One button per macro: the folder's file and the built-ins.
        for name in ("unlock", "enter_setup", "boot_menu", "sysrq_reboot"):
            self.assertEqual(cmps[f"macro_{name}"]["pl_prs"], name)
        for key in ("ctrl_alt_del", "sysrq_reboot", "type_text",
                    "send_keys", "console_input", "console", "macro",
                    "command_result", "uptime", "keyboard_leds"):
            self.assertIn(key, cmps)
        uids = [c["uniq_id"] for c in cmps.values()]
        self.assertEqual(len(uids), len(set(uids)))
        # Nothing of the per-entity form is left retained.
        per = e.retained(f"{PREFIX}/+/zerobmc_{e.id}/+/config", 1.0)
        self.assertEqual([t for t, m in per.items() if m["payload"]], [])

    def test_entities_drive_the_agent(self):
        """What Home Assistant would send from the discovered entities."""
        e = self.env
        _, doc = e.discovery(0)
        cmps = doc["cmps"]
        # The select: an image, then "none" (the command template turns
        # it into eject; the test applies it as Home Assistant would).
        e.client.publish(cmps["media"]["cmd_t"], "disk.img")
        st = e.client.wait(
            lambda m: m["topic"] == f"zerobmc/{e.id}/state" and
            (json.loads(m["payload"]).get("media") or {}).get("image") ==
            "disk.img", 10, "disk.img inserted")
        self.assertIsNotNone(st)
        e.client.publish(cmps["media"]["cmd_t"], "eject")
        e.client.wait(
            lambda m: m["topic"] == f"zerobmc/{e.id}/state" and
            "media" in json.loads(m["payload"]) and
            json.loads(m["payload"])["media"].get("image") is None,
            10, "ejected")
        # A button press: the Ctrl+Alt+Del chord reaches the keyboard.
        t = e.mark()
        e.client.publish(cmps["ctrl_alt_del"]["cmd_t"],
                         cmps["ctrl_alt_del"]["pl_prs"])
        m = e.client.wait(lambda m: m["topic"] == f"zerobmc/{e.id}/result"
                          and m["t"] > t and b'"reboot"' in m["payload"],
                          10, "reboot result")
        res = json.loads(m["payload"])
        self.assertEqual((res["cmd"], res["status"]), ("reboot", "ok"))
        reports = e.agent.keyboard.reports(until_idle=0.3, timeout=3)
        self.assertTrue(any(r[0] == 0x05 and 0x4c in r[2:] for r in reports),
                        reports)

    def test_birth_message_republishes_after_a_delay(self):
        e = self.env
        e.discovery(0)
        time.sleep(1.5)
        t = e.mark()
        e.client.publish(f"{PREFIX}/status", "online")
        m, _ = e.discovery(t, timeout=10, what="discovery after birth")
        delay = m["t"] - t
        self.assertGreaterEqual(delay, 0.9)
        self.assertLessEqual(delay, 5.5)
        # ... and the state goes out again for the entities' values.
        e.client.wait(lambda x: x["topic"] == f"zerobmc/{e.id}/state" and
                      x["t"] > m["t"], 5, "state after discovery")

    def test_retained_birth_and_offline_are_ignored(self):
        e = self.env
        e.discovery(0)
        time.sleep(1.0)
        t = e.mark()
        e.client.publish(f"{PREFIX}/status", "offline")
        e.client.publish(f"{PREFIX}/status", "online", retain=True)
        time.sleep(5.5)
        e.client.publish(f"{PREFIX}/status", "", retain=True)
        with e.client.lock:
            again = [m for m in e.client.msgs
                     if m["topic"] == device_topic(e.id) and m["t"] > t]
        self.assertEqual(again, [])

    def test_image_added_and_removed(self):
        e = self.env
        e.discovery(0)
        t = e.mark()
        with open(os.path.join(e.images, "ubuntu.iso"), "wb") as f:
            f.truncate(4 << 20)
        _, doc = e.discovery(t, pred=lambda d: "ubuntu.iso" in
                             d["cmps"]["media"]["ops"], what="new image")
        t = e.mark()
        os.unlink(os.path.join(e.images, "disk.img"))
        _, doc = e.discovery(t, pred=lambda d: "disk.img" not in
                             d["cmps"]["media"]["ops"], what="image gone")
        self.assertEqual(doc["cmps"]["media"]["ops"],
                         ["none", "debian-12.iso", "ubuntu.iso"])

    def test_macro_removed_is_removed_in_home_assistant(self):
        e = self.env
        e.discovery(0)
        t = e.mark()
        os.unlink(os.path.join(e.macros, "unlock.txt"))
        _, doc = e.discovery(t, what="removal marker", pred=lambda d:
                             d["cmps"].get("macro_unlock") == {"p": "button"})
        m, final = e.discovery(t, what="final", pred=lambda d:
                               "macro_unlock" not in d["cmps"])
        self.assertIn("macro_enter_setup", final["cmps"])
        time.sleep(0.5)
        found = e.retained(device_topic(e.id), 1.0)
        self.assertNotIn("macro_unlock",
                         json.loads(found[device_topic(e.id)]["payload"])
                         ["cmps"])

    def test_refresh_republishes(self):
        e = self.env
        e.discovery(0)
        t = e.mark()
        e.client.publish(f"zerobmc/{e.id}/cmd/refresh", "")
        m, _ = e.discovery(t, timeout=5, what="discovery after refresh")
        self.assertLess(m["t"] - t, 2.0)

    def test_feature_gone_after_restart(self):
        """The console turned off in the configuration: its entities are
        removed although the new run never published them."""
        e = self.env
        e.discovery(0)
        t = e.mark()
        e.restart(console=False)
        t = min(t, e.t0)
        _, doc = e.discovery(t, what="markers", pred=lambda d:
                             d["cmps"].get("console") == {"p": "sensor"})
        self.assertEqual(doc["cmps"]["console_input"], {"p": "text"})
        _, final = e.discovery(t, what="final", pred=lambda d:
                               "console" not in d["cmps"])
        self.assertNotIn("console_input", final["cmps"])

    def test_per_entity_mode_and_back(self):
        e = self.env
        e.discovery(0)
        e.restart(ha={"per_entity": "true"})
        topic = f"{PREFIX}/select/zerobmc_{e.id}/media/config"
        unlock = f"{PREFIX}/button/zerobmc_{e.id}/macro_unlock/config"
        found = e.retained_until(
            f"{PREFIX}/#", lambda f: device_topic(e.id) not in f
            and topic in f and unlock in f)
        self.assertNotIn(device_topic(e.id), found)
        self.assertIn(topic, found)
        cfg = json.loads(found[topic]["payload"])
        self.assertNotIn("p", cfg)
        self.assertEqual(cfg["dev"]["ids"], [f"zerobmc_{e.id}"])
        self.assertEqual(cfg["avty_t"], f"zerobmc/{e.id}/status")
        self.assertIn(f"{PREFIX}/button/zerobmc_{e.id}/macro_unlock/config",
                      found)
        # A macro removed: its per-entity topic is emptied.
        os.unlink(os.path.join(e.macros, "unlock.txt"))
        gone = f"{PREFIX}/button/zerobmc_{e.id}/macro_unlock/config"
        e.client.wait(lambda m: m["topic"] == gone and m["payload"] == b"",
                      10, "empty retained payload")
        # Back to the device form: the per-entity topics are cleared.
        e.restart()
        found = e.retained_until(
            f"{PREFIX}/#", lambda f: list(f) == [device_topic(e.id)])
        self.assertIn(device_topic(e.id), found)
        self.assertEqual([t for t in found if t != device_topic(e.id)], [])


def render(tpl, payload):
    """A value template as Home Assistant renders it: Jinja in a
    sandbox, with value and value_json."""
    env = ImmutableSandboxedEnvironment()
    try:
        value_json = json.loads(payload)
    except ValueError:
        value_json = None
    return env.from_string(tpl).render(value=payload, value_json=value_json)


@unittest.skipIf(ImmutableSandboxedEnvironment is None,
                 "python3-jinja2 not installed")
class TemplateTest(unittest.TestCase):
    """Every template of the discovery payload against the agent's real
    state documents and results."""

    @classmethod
    def setUpClass(cls):
        cls.env = HaEnv("tpl")
        cls.env.mark()
        try:
            cls.env.start()
            _, cls.doc = cls.env.discovery(0)
        except Exception:
            cls.env.close()
            raise
        cls.cmps = cls.doc["cmps"]

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def state(self, pred=lambda d: True, what="state"):
        e = self.env
        m = e.client.wait(lambda m: m["topic"] == f"zerobmc/{e.id}/state"
                          and pred(json.loads(m["payload"])), 10, what)
        return m["payload"].decode()

    def value(self, key, payload):
        return render(self.cmps[key]["val_tpl"], payload)

    def test_every_template_renders_on_the_state(self):
        st = self.state()
        for key, c in self.cmps.items():
            if c.get("stat_t") == f"zerobmc/{self.env.id}/state":
                out = self.value(key, st)
                self.assertLessEqual(len(out), 255, key)
                if "ops" in c:
                    self.assertIn(out, c["ops"], key)
        self.assertEqual(self.value("media", st), "none")
        self.assertEqual(self.value("macro", st), "idle")
        self.assertEqual(self.value("host_usb", st), "configured")
        self.assertEqual(self.value("host_running", st), "ON")
        self.assertEqual(self.value("keyboard_leds", st), "none")
        self.assertRegex(self.value("uptime", st), r"^\d+$")
        self.assertEqual(self.value("console", st), "")
        # A state without the optional sections: no template fails.
        bare = json.dumps({"uptime_s": 3, "keyboard": {}})
        for key, c in self.cmps.items():
            if "val_tpl" in c:
                render(c["val_tpl"], bare)
        self.assertEqual(self.value("host_usb", bare), "unknown")
        self.assertEqual(self.value("host_running", bare), "OFF")

    def test_state_changes_show(self):
        e = self.env
        e.client.publish(f"zerobmc/{e.id}/cmd/media", "disk.img")
        st = self.state(lambda d: (d.get("media") or {}).get("image") ==
                        "disk.img", "inserted")
        self.assertEqual(self.value("media", st), "disk.img")
        long_line = "x" * 400
        e.console.write(b"kernel: " + long_line.encode() + b"\r\n")
        st = self.state(lambda d: "xxx" in d.get("console", {})
                        .get("last", ""), "console line")
        out = self.value("console", st)
        self.assertEqual(len(out), 255)
        self.assertTrue(out.startswith("kernel: xxx"))
        with open(e.udc_state, "w") as f:
            f.write("not attached\n")
        st = self.state(lambda d: d.get("usb", {}).get("state") ==
                        "not attached", "usb state")
        self.assertEqual(self.value("host_usb", st), "not attached")
        self.assertIn("not attached", self.cmps["host_usb"]["ops"])
        self.assertEqual(self.value("host_running", st), "OFF")
        running = json.dumps({"macro": {"running": True,
                                        "name": "enter_setup"}})
        self.assertEqual(self.value("macro", running), "enter_setup")
        leds = json.dumps({"keyboard": {"leds": {"num": True, "caps": True,
                                                 "scroll": False}}})
        self.assertEqual(self.value("keyboard_leds", leds), "num,caps")

    def test_results_and_commands(self):
        e = self.env
        t = e.mark()
        e.client.publish(f"zerobmc/{e.id}/cmd/media", "nonexistent.iso")
        m = e.client.wait(lambda m: m["topic"] == f"zerobmc/{e.id}/result"
                          and m["t"] > t, 10, "error result")
        ev = json.loads(self.value("command_result", m["payload"].decode()))
        self.assertEqual(ev["event_type"], "error")
        self.assertIn(ev["event_type"], self.cmps["command_result"]["evt_typ"])
        self.assertEqual(ev["command"], "media")
        self.assertTrue(ev["error"])
        ok = json.loads(self.value("command_result",
                                   '{"id":"a","cmd":"key","status":"ok"}'))
        self.assertEqual(ok, {"event_type": "ok", "command": "key",
                              "id": "a", "error": ""})
        for key in ("type_text", "send_keys", "console_input"):
            self.assertEqual(self.value(key, m["payload"].decode()), "")
        cmd = self.cmps["media"]["cmd_tpl"]
        self.assertEqual(render(cmd, "none"), "eject")
        self.assertEqual(render(cmd, "disk.img"), "disk.img")


def command(tpl, value):
    """What Home Assistant publishes for a select option or a text: the
    command template rendered with `value`, or the value itself."""
    if not tpl:
        return value
    return ImmutableSandboxedEnvironment().from_string(tpl).render(
        value=value)


def pressable(cmp, state):
    """The payloads the dashboard can send from one entity now: a
    button's press; a select's options but the one it shows (the
    frontend's select row ignores picking the shown option again)."""
    if cmp["p"] == "button":
        return [cmp.get("pl_prs", "PRESS")]
    if cmp["p"] == "select":
        shown = render(cmp["val_tpl"], state) if "val_tpl" in cmp else None
        return [command(cmp.get("cmd_tpl"), o) for o in cmp["ops"]
                if o != shown]
    return []


@unittest.skipIf(ImmutableSandboxedEnvironment is None,
                 "python3-jinja2 not installed")
class ReinstallFromHaTest(unittest.TestCase):
    """Issue 19: a whole reinstall started from the discovered Reinstall
    select, as Home Assistant sends it, against test_boot's FakeServer
    (it boots the medium after the reboot chord and reads it); the
    installer's and the installed OS's signals are console lines on the
    console pty. The reinstall sensor follows it through its template."""

    def setUp(self):
        self.env = env = ReinstallEnv(
            "hari", firmware="ovmf", positions=1,
            boot_extra={"timeout_s": "5"},
            extra_sections={"reinstall": {
                "done_console": "^zerobmc-installer: done$",
                "os_console": "^OS B .*ttyACM0"}})
        self.addCleanup(env.close)
        env.client.subscribe(f"{PREFIX}/#")
        env.wait_online()
        m = env.client.wait(lambda m: m["topic"] == device_topic(env.id)
                            and m["payload"], 10, "discovery")
        self.cmps = json.loads(m["payload"])["cmps"]
        self.state_topic = f"zerobmc/{env.id}/state"
        self.server = env.serve(boots=["media-first"])

    def publish(self, cmp, payload):
        self.env.client.publish(cmp["cmd_t"], payload, qos=cmp.get("qos", 0),
                                retain=bool(cmp.get("ret", False)))

    def states(self, after):
        with self.env.client.lock:
            return [m["payload"].decode() for m in self.env.client.msgs
                    if m["topic"] == self.state_topic and m["t"] > after]

    def last_state(self):
        m = self.env.client.wait(lambda m: m["topic"] == self.state_topic,
                                 10, "state")
        return self.states(m["t"] - 1e-9)[-1]

    def idle_after(self, t):
        """The first state after t where no reinstall runs."""
        self.env.client.wait(
            lambda m: m["topic"] == self.state_topic and m["t"] > t and
            (json.loads(m["payload"]).get("reinstall") or {})
            .get("running") is False, 10, "reinstall no longer running")

    def check_templates(self, st):
        for key, c in self.cmps.items():
            if c.get("stat_t") == self.state_topic:
                out = render(c["val_tpl"], st)
                self.assertLessEqual(len(out), 255, key)
                if "ops" in c:
                    self.assertIn(out, c["ops"], key)

    def pick(self, key, option):
        c = self.cmps[key]
        self.assertEqual(c["p"], "select")
        self.assertIn(option, c["ops"])
        self.publish(c, command(c.get("cmd_tpl"), option))

    def test_select_reinstalls_and_sensor_follows(self):
        e = self.env
        sel, sensor = self.cmps["reinstall"], self.cmps["reinstall_phase"]
        self.assertEqual((sel["cmd_t"], sensor["stat_t"]),
                         (f"zerobmc/{e.id}/cmd/reinstall", self.state_topic))
        st = self.last_state()
        self.check_templates(st)
        self.assertEqual(render(sensor["val_tpl"], st), "idle")
        self.assertEqual(render(sel["val_tpl"], st), "none")
        t = time.monotonic()
        self.pick("reinstall", "boot.img")
        e.play_console_install(b"OS B on ttyACM0", after=t)
        m = e.client.wait(lambda m: m["topic"] == f"zerobmc/{e.id}/result"
                          and m["t"] > t and b'"reinstall"' in m["payload"],
                          30, "reinstall result")
        res = json.loads(m["payload"])
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(set(res["phases"]),
                         {"boot", "install", "reboot", "os"})
        self.assertEqual(res["boot"]["strategy"], "media-first")
        self.assertEqual(self.server.reboots, 2)
        ev = json.loads(render(self.cmps["command_result"]["val_tpl"],
                               m["payload"].decode()))
        self.assertEqual((ev["event_type"], ev["command"]),
                         ("ok", "reinstall"))
        self.idle_after(m["t"])
        # The sensor, rendered on every state the run published.
        seen = []
        for st in self.states(t):
            self.check_templates(st)
            v = render(sensor["val_tpl"], st)
            if not seen or seen[-1] != v:
                seen.append(v)
        order = ["boot", "install", "reboot", "os"]
        self.assertEqual(seen[-1], "idle", seen)
        run = [v for v in seen if v != "idle"]
        self.assertEqual(run, sorted(run, key=order.index), seen)
        self.assertTrue({"install", "os"} <= set(run), seen)
        self.assertEqual(render(sel["val_tpl"], self.states(t)[-1]), "none")

    def cancel_from_dashboard(self, cmd):
        """Press what the dashboard offers to send cancel to cmd/<cmd>
        now; returns the cancelled result's message."""
        e = self.env
        st = self.last_state()
        topic = f"zerobmc/{e.id}/cmd/{cmd}"
        cancels = [k for k, c in self.cmps.items()
                   if c.get("cmd_t") == topic and
                   "cancel" in pressable(c, st)]
        self.assertTrue(cancels, "no entity the dashboard can use cancels"
                        " cmd/" + cmd)
        t = time.monotonic()
        self.publish(self.cmps[cancels[0]], "cancel")
        key = b'"cmd":"%s"' % cmd.encode()
        return e.client.wait(
            lambda m: m["topic"] == f"zerobmc/{e.id}/result" and m["t"] > t
            and b'"cancelled"' in m["payload"]
            and key in m["payload"].replace(b" ", b""), 10,
            "cancelled result")

    def test_dashboard_cancels_a_running_reinstall(self):
        """The frontend's select row sends nothing when the option picked
        is the one it shows: some entity must still cancel the run."""
        e = self.env
        t = time.monotonic()
        self.pick("reinstall", "boot.img")
        e.reinstall_state(lambda r: r.get("phase") == "install", after=t)
        t = time.monotonic()
        m = self.cancel_from_dashboard("reinstall")
        self.assertEqual(json.loads(m["payload"])["phase"], "install")
        self.idle_after(m["t"])
        self.assertEqual(render(self.cmps["reinstall_phase"]["val_tpl"],
                                self.states(t)[-1]), "idle")

    def test_dashboard_cancels_a_running_boot_once(self):
        """The same for the Boot once select: a boot that the server does
        not take (it never reads the medium) is cancelled from a button."""
        e = self.env
        self.server.boots = set()
        t = time.monotonic()
        self.pick("boot_once", "boot.img")
        e.client.wait(lambda m: m["topic"] == self.state_topic
                      and m["t"] > t and (json.loads(m["payload"])
                                          .get("boot") or {}).get("running"),
                      10, "boot running")
        res = json.loads(self.cancel_from_dashboard("boot")["payload"])
        self.assertEqual(res["cmd"], "boot", res)
        self.assertEqual(res["attempts"][-1]["outcome"], "cancelled", res)


class DiscoveryOffTest(unittest.TestCase):
    def test_nothing_published(self):
        env = HaEnv("off1")
        try:
            env.mark()
            env.start(ha={"discovery": "false"})
            time.sleep(1.5)
            with env.client.lock:
                ha = [m for m in env.client.msgs
                      if m["topic"].startswith(PREFIX + "/")]
            self.assertEqual(ha, [])
            st = env.client.wait(
                lambda m: m["topic"] == "zerobmc/off1/state", 5, "state")
            self.assertNotIn("homeassistant", json.loads(st["payload"]))
        finally:
            env.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
