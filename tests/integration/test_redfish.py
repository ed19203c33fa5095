"""The Redfish gateway (zerobmc-redfish) driven by real clients.

One broker, one gateway over HTTPS (its certificate made by --make-cert)
and real agents for the whole suite: s1 and s2 with power pins wired to
the fake GPIO chip, s3 with none. Systems without an agent ("ghost",
"other1") are published by the test itself (rfenv.Stand) to check what
the gateway sends and its error paths.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import warnings

sys.path.insert(0, os.path.dirname(__file__))
import rfenv  # noqa: E402

import sushy  # noqa: E402
from sushy import auth as sushy_auth  # noqa: E402

SYS = "/redfish/v1/Systems"
# A loaded CI machine (2 cores, parallel builds) can take seconds for a
# 1 s long press; 504 only after this.
TIMEOUT_S = "8"


class RedfishTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(rfenv.REDFISH):
            raise unittest.SkipTest(f"no {rfenv.REDFISH} (a cross build)")
        warnings.simplefilter("ignore", ResourceWarning)
        # requests lets these override the verify= a client passes.
        for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            os.environ.pop(k, None)
        cls.www = tempfile.mkdtemp(prefix="zbrf-www-")
        for d in ("ok", "other"):
            os.makedirs(os.path.join(cls.www, d))
            rfenv.sparse(os.path.join(cls.www, d, "netboot.iso"), 1 << 20)
        cls.files = rfenv.Files(cls.www)
        cls.url = f"http://127.0.0.1:{cls.files.port}"
        cls.env = rfenv.RedfishEnv(
            agents=("s1", "s2"), tls=True,
            extra_redfish={"timeout_s": TIMEOUT_S, "accept_s": "2"},
            media_extra={"s2": {"url_allow": cls.url + "/ok/"}})
        cls.env.add_agent("s3", wired=False)
        cls.ghost = rfenv.Stand(cls.env, "ghost")
        cls.other = rfenv.Stand(cls.env, "other1")
        cls.env.wait_systems(["s1", "s2", "s3", "ghost"], timeout=15)

    @classmethod
    def tearDownClass(cls):
        cls.ghost.close()
        cls.other.close()
        cls.env.close()
        cls.files.close()
        shutil.rmtree(cls.www, ignore_errors=True)

    def sushy(self, session=False):
        a = (sushy_auth.SessionAuth if session else sushy_auth.BasicAuth)(
            "admin", rfenv.PASSWORDS["admin"])
        return sushy.Sushy(self.env.url() + "/redfish/v1", auth=a,
                           verify=os.path.join(self.env.tmp, "rf.crt"))

    def reset(self, sid, rtype, user="admin"):
        return self.env.request(
            "POST", f"{SYS}/{sid}/Actions/ComputerSystem.Reset",
            {"ResetType": rtype}, user=user)

    def new_sets(self, sid, before):
        return self.env.gpio_sets(sid)[len(before):]

    # -- sushy ----------------------------------------------------------

    def test_sushy_basic_every_reset_type(self):
        s = self.sushy()
        system = s.get_system(f"{SYS}/s1")
        self.assertEqual(system.identity, "s1")
        self.assertEqual(system.name, "s1")
        self.assertEqual(system.uuid, s.get_system(f"{SYS}/s1").uuid)
        allowed = system.get_allowed_reset_system_values()
        self.assertIn(sushy.RESET_TYPE_POWER_CYCLE, allowed)
        # What each reset type does to the pins (LED dark = off).
        cases = [
            (sushy.RESET_TYPE_ON, False, [("power", 1), ("power", 0)]),
            (sushy.RESET_TYPE_FORCE_ON, True, [("power", 1), ("power", 0)]),
            (sushy.RESET_TYPE_PUSH_POWER_BUTTON, True,
             [("power", 1), ("power", 0)]),
            (sushy.RESET_TYPE_FORCE_OFF, True, [("power", 1), ("power", 0)]),
            (sushy.RESET_TYPE_GRACEFUL_SHUTDOWN, True,
             [("power", 1), ("power", 0)]),
            (sushy.RESET_TYPE_FORCE_RESTART, True,
             [("reset", 1), ("reset", 0)]),
            (sushy.RESET_TYPE_POWER_CYCLE, True,
             [("power", 1), ("power", 0), ("power", 1), ("power", 0)]),
        ]
        for rtype, lit, pins in cases:
            with self.subTest(rtype=rtype):
                self.env.set_led("s1", lit)
                want = sushy.POWER_STATE_ON if lit else sushy.POWER_STATE_OFF
                self.env.wait(lambda: (system.refresh(), system.power_state)
                              [1] == want, what=f"PowerState {want}")
                before = self.env.gpio_sets("s1")
                system.reset_system(rtype)
                self.assertEqual(self.new_sets("s1", before), pins)
        # GracefulRestart is Ctrl+Alt+Delete on the USB keyboard.
        kb = self.env.agents["s1"].keyboard
        kb.reports(until_idle=0.05, timeout=0.2)
        system.reset_system(sushy.RESET_TYPE_GRACEFUL_RESTART)
        reps = kb.reports(until_idle=0.3, timeout=3)
        self.assertTrue(any(r[0] == 0x05 and 0x4c in r[2:] for r in reps),
                        reps)
        self.env.set_led("s1", False)

    def test_sushy_session_power_state_follows_led(self):
        s = self.sushy(session=True)
        system = s.get_system(f"{SYS}/s2")
        for lit, want in ((True, sushy.POWER_STATE_ON),
                          (False, sushy.POWER_STATE_OFF)):
            self.env.set_led("s2", lit)
            self.env.wait(lambda: (system.refresh(), system.power_state)[1]
                          == want, what=f"PowerState {want}")

    def test_sushy_insert_eject_on_the_lun(self):
        for session in (False, True):
            s = self.sushy(session=session)
            vm = s.get_manager("/redfish/v1/Managers/s2").virtual_media.get_member(
                "/redfish/v1/Managers/s2/VirtualMedia/Cd")
            self.assertIn(sushy.VIRTUAL_MEDIA_CD, vm.media_types)
            vm.insert_media("debian-12.iso")
            self.assertEqual(self.env.lun("s2"), os.path.join(
                self.env.images["s2"], "debian-12.iso"))
            self.assertEqual(self.env.lun("s2", "cdrom"), "1")
            vm.refresh()
            self.assertTrue(vm.inserted)
            self.assertEqual(vm.image, "debian-12.iso")
            self.assertEqual(vm.image_name, "debian-12.iso")
            vm.eject_media()
            self.assertEqual(self.env.lun("s2"), "")
            vm.refresh()
            self.assertFalse(vm.inserted)

    def test_sushy_boot_override_cd_sends_boot(self):
        """A Cd override makes the next starting Reset cmd/boot (issue 19's
        command): the ghost answers, and the override is used up."""
        s = self.sushy()
        system = s.get_system(f"{SYS}/ghost")
        system.set_system_boot_options(
            sushy.BOOT_SOURCE_TARGET_CD,
            enabled=sushy.BOOT_SOURCE_ENABLED_ONCE,
            mode=sushy.BOOT_SOURCE_MODE_UEFI)
        system.refresh()
        self.assertEqual(system.boot.target, sushy.BOOT_SOURCE_TARGET_CD)
        self.assertEqual(system.boot.enabled, sushy.BOOT_SOURCE_ENABLED_ONCE)
        n = len(self.ghost.cmds)
        system.reset_system(sushy.RESET_TYPE_ON)
        c = self.ghost.cmds[n]
        self.assertEqual(c["topic"], "zerobmc/ghost/cmd/boot")
        self.assertEqual(c["payload"]["target"], "media")
        self.assertEqual(c["correlation"], c["payload"]["id"].encode())
        self.assertTrue(c["response_topic"].startswith("zerobmc-redfish/"))
        system.refresh()
        self.assertEqual(system.boot.enabled,
                         sushy.BOOT_SOURCE_ENABLED_DISABLED)
        # Then a plain power on; BiosSetup is the enter_setup macro.
        system.reset_system(sushy.RESET_TYPE_ON)
        self.assertEqual(self.ghost.cmds[n + 1]["payload"]["action"], "on")
        system.set_system_boot_options(
            sushy.BOOT_SOURCE_TARGET_BIOS_SETUP,
            enabled=sushy.BOOT_SOURCE_ENABLED_ONCE)
        system.reset_system(sushy.RESET_TYPE_FORCE_RESTART)
        c = self.ghost.cmds[n + 2]
        self.assertEqual(c["topic"], "zerobmc/ghost/cmd/macro")
        self.assertEqual(c["payload"]["name"], "enter_setup")
        # Pxe cannot be honoured: accepted and stored, the reset is plain.
        system.set_system_boot_options(
            sushy.BOOT_SOURCE_TARGET_PXE,
            enabled=sushy.BOOT_SOURCE_ENABLED_CONTINUOUS)
        system.refresh()
        self.assertEqual(system.boot.target, sushy.BOOT_SOURCE_TARGET_PXE)
        system.reset_system(sushy.RESET_TYPE_ON)
        self.assertEqual(self.ghost.cmds[n + 3]["topic"],
                         "zerobmc/ghost/cmd/power")
        system.set_system_boot_options(
            sushy.BOOT_SOURCE_TARGET_NONE,
            enabled=sushy.BOOT_SOURCE_ENABLED_DISABLED)

    def test_insert_by_url_sends_media_url(self):
        url = "https://images.example/debian-12.5.iso"
        st, _, _ = self.env.request(
            "POST", "/redfish/v1/Managers/ghost/VirtualMedia/Cd/Actions/"
            "VirtualMedia.InsertMedia", {"Image": url})
        self.assertEqual(st, 204)
        c = self.ghost.cmds[-1]
        self.assertEqual(c["topic"], "zerobmc/ghost/cmd/media")
        self.assertEqual(c["payload"]["url"], url)

    def test_insert_by_url_real_agent(self):
        """InsertMedia with a URL: the agent downloads it (wip-20b's
        cmd/media url) and the Image is echoed exactly."""
        vm = "/redfish/v1/Managers/s2/VirtualMedia/Cd"
        url = self.url + "/ok/netboot.iso"
        st, _, b = self.env.request(
            "POST", vm + "/Actions/VirtualMedia.InsertMedia", {"Image": url})
        self.assertEqual(st, 204, b)
        self.assertEqual(self.env.lun("s2"), os.path.join(
            self.env.images["s2"], "netboot.iso"))
        st, _, b = self.env.request("GET", vm)
        self.assertEqual((b["Image"], b["ImageName"], b["Inserted"]),
                         (url, "netboot.iso", True))
        # A prefix outside [media] url_allow: the agent's refusal, 400.
        st, _, b = self.env.request(
            "POST", vm + "/Actions/VirtualMedia.InsertMedia",
            {"Image": self.url + "/other/netboot.iso"})
        self.assertEqual(st, 400, b)
        self.assertIn("url_allow",
                      b["error"]["@Message.ExtendedInfo"][0]["Message"])
        st, _, _ = self.env.request(
            "POST", vm + "/Actions/VirtualMedia.EjectMedia", {})
        self.assertEqual(st, 204)
        self.assertEqual(self.env.lun("s2"), "")

    def test_override_real_agent_boot_refusal(self):
        """A Cd override on a real agent sends issue 19's cmd/boot: this
        agent has no UDC state to watch, so it refuses; the client gets
        its words and the override stays pending."""
        st, _, _ = self.env.request("PATCH", SYS + "/s3", {"Boot": {
            "BootSourceOverrideEnabled": "Once",
            "BootSourceOverrideTarget": "Cd"}})
        self.assertEqual(st, 204)
        st, _, b = self.reset("s3", "GracefulRestart")
        self.assertEqual(st, 400, b)
        self.assertIn("refused: cmd/boot needs", b["error"]["message"])
        boot = self.env.system("s3")[2]["Boot"]
        self.assertEqual(boot["BootSourceOverrideEnabled"], "Once")
        self.env.request("PATCH", SYS + "/s3", {"Boot": {
            "BootSourceOverrideEnabled": "Disabled"}})

    def test_nmi_is_sysrq_and_unwired_types_refused(self):
        n = len(self.ghost.cmds)
        st, _, _ = self.reset("ghost", "Nmi")
        self.assertEqual(st, 204)
        self.assertEqual(self.ghost.cmds[n]["payload"], {
            "mode": "sysrq", "id": self.ghost.cmds[n]["payload"]["id"]})
        st, _, b = self.env.system("s3")
        allowed = b["Actions"]["#ComputerSystem.Reset"][
            "ResetType@Redfish.AllowableValues"]
        self.assertEqual(allowed, ["GracefulRestart", "Nmi"])
        st, _, b = self.reset("s3", "ForceOff")
        self.assertEqual(st, 400)
        self.assertIn("not wired", b["error"]["message"])

    # -- Ansible (community.general) ------------------------------------

    def playbook(self, name, tasks):
        rf = (f"baseuri: 127.0.0.1:{self.env.port}\n"
              "        username: admin\n"
              f"        password: {rfenv.PASSWORDS['admin']}\n")
        body = "".join(
            f"    - community.general.{mod}:\n        {rf}"
            + ("        resource_id: s1\n" if mod == "redfish_command"
               else "")
            + "".join(f"        {line}\n" for line in args)
            for mod, args in tasks)
        path = os.path.join(self.env.tmp, name + ".yml")
        with open(path, "w") as f:
            f.write("- hosts: localhost\n  gather_facts: false\n"
                    "  tasks:\n" + body)
        return path

    def ansible(self, path):
        """Runs a playbook; returns how many tasks changed something."""
        env = dict(os.environ, HOME=self.env.tmp,
                   ANSIBLE_LOCAL_TEMP=os.path.join(self.env.tmp, "ans"),
                   ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3",
                   ANSIBLE_NOCOLOR="1")
        r = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c",
                            "local", path], capture_output=True, text=True,
                           env=env, timeout=300)
        self.assertIn("PLAY RECAP", r.stdout, r.stderr[-2000:])
        recap = r.stdout[r.stdout.rindex("PLAY RECAP"):]
        changed = int(re.search(r"changed=(\d+)", recap).group(1))
        failed = int(re.search(r"failed=(\d+)", recap).group(1))
        self.assertEqual((r.returncode, failed), (0, 0), r.stdout[-3000:])
        return changed

    def test_ansible_redfish_command_and_info(self):
        cmd = "redfish_command"
        up = self.playbook("up", [
            (cmd, ["category: Systems", "command: PowerOn"]),
            (cmd, ["category: Systems", "command: SetOneTimeBoot",
                   "bootdevice: Cd"]),
            (cmd, ["category: Manager", "command: VirtualMediaInsert",
                   "virtual_media:", "  image_url: debian-12.iso",
                   "  media_types: [CD, DVD]"]),
            ("redfish_info", ["category: Systems",
                              "command: GetSystemInventory"])])
        down = self.playbook("down", [
            (cmd, ["category: Systems", "command: PowerReboot"]),
            (cmd, ["category: Systems", "command: PowerForceOff"]),
            (cmd, ["category: Manager", "command: VirtualMediaEject",
                   "virtual_media:", "  image_url: debian-12.iso"])])
        # Ansible's VirtualMediaEject fails when the image is not in, so
        # the second run of the way down is the power part.
        off = self.playbook("off", [
            (cmd, ["category: Systems", "command: PowerForceOff"])])
        self.env.set_led("s1", False)
        self.env.wait(lambda: self.env.system("s1")[2]["PowerState"]
                      == "Off", what="s1 off")
        before = self.env.gpio_sets("s1")
        self.assertEqual(self.ansible(up), 3)
        self.assertEqual(self.new_sets("s1", before),
                         [("power", 1), ("power", 0)])
        b = self.env.system("s1")[2]["Boot"]
        self.assertEqual((b["BootSourceOverrideEnabled"],
                          b["BootSourceOverrideTarget"]), ("Once", "Cd"))
        self.assertTrue(self.env.lun("s1").endswith("/debian-12.iso"))
        # The server came on: a second run has nothing to do.
        self.env.set_led("s1", True)
        self.env.wait(lambda: self.env.system("s1")[2]["PowerState"]
                      == "On", what="s1 on")
        self.assertEqual(self.ansible(up), 0)
        self.env.request("PATCH", SYS + "/s1", {"Boot": {
            "BootSourceOverrideEnabled": "Disabled",
            "BootSourceOverrideTarget": "None"}})
        # PowerReboot is GracefulRestart: Ctrl+Alt+Delete.
        kb = self.env.agents["s1"].keyboard
        kb.reports(until_idle=0.05, timeout=0.2)
        before = self.env.gpio_sets("s1")
        self.assertEqual(self.ansible(down), 3)
        reps = kb.reports(until_idle=0.3, timeout=3)
        self.assertTrue(any(r[0] == 0x05 and 0x4c in r[2:] for r in reps))
        self.assertEqual(self.new_sets("s1", before),
                         [("power", 1), ("power", 0)])
        self.assertEqual(self.env.lun("s1"), "")
        self.env.set_led("s1", False)
        self.env.wait(lambda: self.env.system("s1")[2]["PowerState"]
                      == "Off", what="s1 off")
        self.assertEqual(self.ansible(off), 0)

    # -- redfishtool -----------------------------------------------------

    def redfishtool(self, *args):
        r = subprocess.run(
            ["redfishtool", "-r", f"127.0.0.1:{self.env.port}", "-u",
             "admin", "-p", rfenv.PASSWORDS["admin"], "-S", "Always"]
            + list(args), capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_redfishtool(self):
        out = json.loads(self.redfishtool("Systems", "-I", "s1"))
        self.assertEqual(out["Id"], "s1")
        out = json.loads(self.redfishtool("-A", "Session", "Systems", "-I",
                                          "s1", "get"))
        self.assertEqual(out["Id"], "s1")
        self.env.set_led("s1", False)
        self.env.wait(lambda: self.env.system("s1")[2]["PowerState"]
                      == "Off", what="s1 off")
        before = self.env.gpio_sets("s1")
        self.redfishtool("Systems", "-I", "s1", "reset", "On")
        self.assertEqual(self.new_sets("s1", before),
                         [("power", 1), ("power", 0)])
        out = json.loads(self.redfishtool("Systems", "-I", "s1",
                                          "setBootOverride", "Once", "Cd"))
        self.assertEqual(out["Boot"]["BootSourceOverrideTarget"], "Cd")
        self.assertEqual(out["Boot"]["BootSourceOverrideEnabled"], "Once")
        self.redfishtool("Systems", "-I", "s1", "setBootOverride",
                         "Disabled", "None")
        vm = "/redfish/v1/Managers/s1/VirtualMedia/Cd/Actions/VirtualMedia."
        self.redfishtool("raw", "POST", vm + "InsertMedia", "-d",
                         '{"Image":"debian-12.iso"}')
        self.assertEqual(self.env.lun("s1"), os.path.join(
            self.env.images["s1"], "debian-12.iso"))
        self.redfishtool("raw", "POST", vm + "EjectMedia", "-d", "{}")
        self.assertEqual(self.env.lun("s1"), "")

    # -- ipmitool through ipmi_sim and the hook ---------------------------

    def test_ipmitool_power_and_bootdev(self):
        sim = rfenv.IpmiSim(self.env, "s2")
        self.addCleanup(sim.close)
        self.env.wait(lambda: sim.ipmitool("power", "status")[0] == 0,
                      what="ipmi_sim up")
        self.env.set_led("s2", False)
        self.env.wait(lambda: "is off" in sim.ipmitool("power", "status")[1],
                      what="power status off")
        # The hook answers from the gateway's state file, at once.
        t0 = time.monotonic()
        out = subprocess.run([rfenv.REDFISH, "-c", self.env.conf,
                              "--ipmi-hook", "s2", "0x20", "get", "power"],
                             capture_output=True, text=True).stdout
        print(f"hook 'get power' took {(time.monotonic() - t0) * 1000:.1f}"
              " ms (one process run, wall clock)")
        self.assertEqual(out, "power:0\n")
        sets = self.env.gpio_sets("s2")
        self.assertEqual(sim.ipmitool("power", "on")[0], 0)
        self.env.wait(lambda: self.new_sets("s2", sets) ==
                      [("power", 1), ("power", 0)], what="power on press")
        self.env.set_led("s2", True)
        self.env.wait(lambda: "is on" in sim.ipmitool("power", "status")[1],
                      what="power status on")
        for verb, pins in (("reset", [("reset", 1), ("reset", 0)]),
                           ("soft", [("power", 1), ("power", 0)]),
                           ("off", [("power", 1), ("power", 0)])):
            sets = self.env.gpio_sets("s2")
            rc, out = sim.ipmitool("power", verb)
            self.assertEqual(rc, 0, out)
            self.env.wait(lambda: self.new_sets("s2", sets) == pins,
                          what=f"power {verb} pins")
        for dev, enabled, target in (("cdrom", "Once", "Cd"),
                                     ("bios", "Once", "BiosSetup"),
                                     ("disk", "Disabled", "None")):
            rc, out = sim.ipmitool("chassis", "bootdev", dev)
            self.assertEqual(rc, 0, out)
            b = self.env.wait(lambda: (lambda b: b if b[
                "BootSourceOverrideTarget"] == target else None)(
                self.env.system("s2")[2]["Boot"]), what=f"bootdev {dev}")
            self.assertEqual(b["BootSourceOverrideEnabled"], enabled)
        self.env.set_led("s2", False)
        # Garbage on the hook's socket and bad hook arguments: refused,
        # the gateway keeps running.
        import socket
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        for junk in (b"", b"x", b"s2", b"nobody power-on", b"s2 explode",
                     b"s2 boot floppy", b"\xff" * 255, b"s2 " + b"a" * 250):
            sock.sendto(junk, os.path.join(self.env.state_dir, "ipmi.sock"))
        sock.close()
        for args in ([], ["s2"], ["bad id", "get", "power"],
                     ["s2", "get", "temperature"], ["s2", "set", "fan", "1"]):
            r = subprocess.run([rfenv.REDFISH, "-c", self.env.conf,
                                "--ipmi-hook"] + args, capture_output=True,
                               text=True)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertTrue(r.stderr, args)
        self.assertEqual(self.env.system("s2")[2]["Boot"][
            "BootSourceOverrideTarget"], "None")
        self.assertEqual(self.env.gw.poll(), None)

    # -- errors, as curl sees them ---------------------------------------

    def curl(self, *args, user="admin"):
        cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
               "--cacert", os.path.join(self.env.tmp, "rf.crt")]
        if user:
            cmd += ["-u", f"{user}:{rfenv.PASSWORDS.get(user, 'nope')}"]
        out = subprocess.run(cmd + list(args), capture_output=True,
                             text=True, timeout=30).stdout
        return int(out)

    def test_curl_errors(self):
        u = self.env.url()
        self.assertEqual(self.curl(u + "/redfish/v1/", user=None), 200)
        self.assertEqual(self.curl(u + SYS, user=None), 401)
        self.assertEqual(self.curl(u + SYS, user="mallory"), 401)
        self.assertEqual(self.curl(u + SYS + "/s1", user="bob"), 404)
        self.assertEqual(self.curl(u + SYS + "/other1", user="bob"), 200)
        st, _, b = self.env.request("GET", SYS, user="bob")
        self.assertEqual([m["@odata.id"] for m in b["Members"]],
                         [SYS + "/other1"])
        # The agent's refusal: 400 with its words.
        st, _, b = self.env.request(
            "POST", "/redfish/v1/Managers/s1/VirtualMedia/Cd/Actions/"
            "VirtualMedia.InsertMedia", {"Image": "../etc/passwd"})
        self.assertEqual(st, 400)
        info = b["error"]["@Message.ExtendedInfo"][0]["Message"]
        self.assertIn("refused by rule slash", info)
        # Bad input never reaches an agent.
        for body in ('{"ResetType": 5}', '{"ResetType": "Explode"}', '[',
                     '{}'):
            st, _, b = self.env.request(
                "POST", SYS + "/s1/Actions/ComputerSystem.Reset", body)
            self.assertEqual(st, 400, body)
            self.assertTrue(b["error"]["message"], body)
        st, _, _ = self.env.request("PATCH", SYS + "/s1", {"Boot": {
            "BootSourceOverrideTarget": "Floppy"}})
        self.assertEqual(st, 400)
        st, _, _ = self.env.request("DELETE", SYS + "/s1")
        self.assertEqual(st, 405)
        self.assertEqual(self.env.gw.poll(), None)

    def test_hostile_input(self):
        """Bad requests and bad retained documents get clear errors; the
        gateway keeps running."""
        cases = [
            ("POST", SYS + "/s3/Actions/ComputerSystem.Reset",
             '{"ResetType":"' + "x" * 70000 + '"}', 413),
            ("GET", SYS + "/" + "a" * 600, None, 414),
            ("GET", SYS + "/s3%00", None, 404),
            ("GET", SYS + "/../Managers", None, 404),
            ("PATCH", SYS + "/s3", {"Boot": "Cd"}, 400),
            ("PATCH", SYS + "/s3", {"Boot": {"BootSourceOverrideTarget":
                                             ["Cd"]}}, 400),
            ("PATCH", SYS + "/s3", {"AssetTag": "x"}, 400),
            ("PATCH", SYS + "/s3", '"just a string"', 400),
            ("POST", "/redfish/v1/Managers/s3/VirtualMedia/Cd/Actions/"
             "VirtualMedia.InsertMedia", {"Image": 7}, 400),
            ("POST", "/redfish/v1/Managers/s3/VirtualMedia/Cd/Actions/"
             "VirtualMedia.InsertMedia", {"Image": "h" * 2000}, 400),
            ("POST", "/redfish/v1/Managers/s3/VirtualMedia/Cd/Actions/"
             "VirtualMedia.InsertMedia", {"Image": "a.iso",
                                          "Inserted": False}, 400),
            ("POST", "/redfish/v1/SessionService/Sessions",
             {"UserName": ["admin"], "Password": 1}, 400),
            ("POST", SYS + "/s3/Actions/ComputerSystem.Reset",
             "{" * 5000, 400),
        ]
        for method, path, body, want in cases:
            with self.subTest(method=method, path=path[:60]):
                st, _, b = self.env.request(method, path, body)
                self.assertEqual(st, want, b)
                self.assertTrue(b["error"]["message"])
        for hdr in ({"Authorization": "Basic !!!"},
                    {"Authorization": "Bearer x"},
                    {"X-Auth-Token": "0" * 32},
                    {"X-Auth-Token": "x" * 5000}):
            st, _, _ = self.env.request("GET", SYS, user=None, headers=hdr)
            self.assertEqual(st, 401, hdr)
        c = self.ghost.client
        c.publish("zerobmc/evil/state", "not json", retain=True)
        c.publish("zerobmc/evil/status", "online", retain=True)
        c.publish("zerobmc/ba d/status", "online", retain=True)
        self.addCleanup(c.publish, "zerobmc/ba d/status", "", retain=True)
        self.addCleanup(c.publish, "zerobmc/evil/status", "", retain=True)
        self.addCleanup(c.publish, "zerobmc/evil/state", "", retain=True)
        st, _, b = self.env.wait(lambda: (lambda r: r if r[0] == 200 else
                                          None)(self.env.system("evil")),
                                 what="evil listed")
        self.assertIsNone(b["PowerState"])
        self.assertEqual(b["Actions"]["#ComputerSystem.Reset"][
            "ResetType@Redfish.AllowableValues"], ["GracefulRestart", "Nmi"])
        st, _, b = self.env.request("GET", SYS)
        self.assertNotIn(SYS + "/ba d",
                         [m["@odata.id"] for m in b["Members"]])
        # An empty retained status retires the system.
        c.publish("zerobmc/evil/status", "", retain=True)
        self.env.wait(lambda: self.env.system("evil")[0] == 404,
                      what="evil gone")
        self.assertEqual(self.env.gw.poll(), None)

    def test_busy_is_503_with_retry_after(self):
        self.env.set_led("s2", True)
        first = {}
        before = self.env.gpio_sets("s2")

        def long_press():
            first["r"] = self.reset("s2", "ForceOff")
        t = threading.Thread(target=long_press)
        t.start()
        # The second request must meet the press under way, however long
        # the first takes to reach the agent on a loaded machine.
        self.env.wait(lambda: self.new_sets("s2", before), 10,
                      "the long press to start")
        st, h, b = self.reset("s2", "ForceRestart")
        t.join()
        self.assertEqual(first["r"][0], 204)
        self.assertEqual(st, 503, b)
        self.assertIn("retry-after", h)
        self.assertIn("busy", b["error"]["message"])
        self.env.set_led("s2", False)

    def test_timeout_is_504(self):
        self.ghost.answer = None
        try:
            t0 = time.monotonic()
            st, _, b = self.reset("ghost", "ForceOff")
            took = time.monotonic() - t0
        finally:
            self.ghost.answer = {"status": "ok"}
        self.assertEqual(st, 504)
        self.assertIn("no answer", b["error"]["message"])
        self.assertGreater(took, int(TIMEOUT_S) - 0.5)

    def test_long_boot_is_202_accepted(self):
        """A boot still running after accept_s is 202 Accepted, not a
        client timeout; the override stays until it works."""
        self.ghost.answer = None
        try:
            self.env.request("PATCH", SYS + "/ghost", {"Boot": {
                "BootSourceOverrideEnabled": "Once",
                "BootSourceOverrideTarget": "Usb"}})
            t0 = time.monotonic()
            st, _, _ = self.reset("ghost", "ForceRestart")
            took = time.monotonic() - t0
        finally:
            self.ghost.answer = {"status": "ok"}
        self.assertEqual(st, 202)
        self.assertGreater(took, 1.5)
        self.assertEqual(self.ghost.cmds[-1]["topic"],
                         "zerobmc/ghost/cmd/boot")
        self.env.request("PATCH", SYS + "/ghost", {"Boot": {
            "BootSourceOverrideEnabled": "Disabled"}})

    def test_zy_broker_down_is_503_then_back(self):
        """Without the broker the gateway still serves what it knows and
        answers actions 503 + Retry-After; it reconnects by itself."""
        self.env.broker.stop()
        try:
            st, _, b = self.env.system("s3")
            self.assertEqual(st, 200)
            st, h, b = self.env.wait(
                lambda: (lambda r: r if r[0] == 503 else None)(
                    self.reset("s3", "GracefulRestart")),
                what="503 while the broker is down")
            self.assertIn("not connected to the broker",
                          b["error"]["message"])
            self.assertIn("retry-after", h)
        finally:
            self.env.broker.start()
        self.env.wait(lambda: self.reset("s3", "GracefulRestart")[0] == 204,
                      timeout=60, what="actions work again")

    def test_zz_agent_stopped_is_503(self):
        a = self.env.agents["s3"]
        a.stop()
        self.env.wait(lambda: self.env.system("s3")[2]["Status"]["State"]
                      == "UnavailableOffline", what="s3 offline")
        st, h, b = self.reset("s3", "GracefulRestart")
        self.assertEqual(st, 503)
        self.assertIn("offline", b["error"]["message"])

    # -- sessions and ETags ----------------------------------------------

    def test_session_token_and_delete(self):
        st, h, b = self.env.request(
            "POST", "/redfish/v1/SessionService/Sessions",
            {"UserName": "admin", "Password": rfenv.PASSWORDS["admin"]},
            user=None)
        self.assertEqual(st, 201)
        tok, loc = h["x-auth-token"], h["location"]
        self.assertEqual(len(tok), 32)
        st, _, _ = self.env.request("GET", SYS, user=None,
                                    headers={"X-Auth-Token": tok})
        self.assertEqual(st, 200)
        st, _, _ = self.env.request("DELETE", loc, user=None,
                                    headers={"X-Auth-Token": tok})
        self.assertEqual(st, 204)
        st, _, _ = self.env.request("GET", SYS, user=None,
                                    headers={"X-Auth-Token": tok})
        self.assertEqual(st, 401)
        st, _, _ = self.env.request(
            "POST", "/redfish/v1/SessionService/Sessions",
            {"UserName": "admin", "Password": "wrong"}, user=None)
        self.assertEqual(st, 401)

    def test_etags(self):
        st, h, _ = self.env.request("GET", SYS + "/s3")
        tag = h["etag"]
        self.assertEqual(h["odata-version"], "4.0")
        st, _, _ = self.env.request("GET", SYS + "/s3",
                                    headers={"If-None-Match": tag})
        self.assertEqual(st, 304)
        st, _, _ = self.env.request("PATCH", SYS + "/s3", {"Boot": {
            "BootSourceOverrideMode": "Legacy"}},
            headers={"If-Match": 'W/"0000000000000000"'})
        self.assertEqual(st, 412)
        st, _, _ = self.env.request("PATCH", SYS + "/s3", {"Boot": {
            "BootSourceOverrideMode": "Legacy"}}, headers={"If-Match": tag})
        self.assertEqual(st, 204)


if __name__ == "__main__":
    unittest.main(verbosity=2)
