#!/usr/bin/python3
"""The USB gadget against a real kernel: the lab's Pi VM (Debian's kernel,
dummy_hcd), with the gadget's host side in the same VM (no usbredirect, no
server VM), so the host's view (enumeration, evdev, LED reports) is
readable there.

What is checked: `zerobmc gadget up` composes and binds (the UDC reads
configured); a second `up` keeps the binding (same device number on the
host, no new enumeration); status; a report written to the hidg device
arrives on the host's evdev; the host's Caps Lock comes back as a 1-byte
LED output report; a host that stops polling gives EAGAIN on the second
non-blocking write; the UDC state file signals POLLPRI; a changed layout is
rebuilt; `down` removes; the before_bind hook runs before the UDC is
written; a busy UDC is named; the agent (manage = true) binds and a restart
of the agent does not re-enumerate the keyboard.

Run: /usr/bin/python3 tests/lab/test_gadget.py (ZEROBMC or ZB_BUILD names
the binary). Boots a private lab (about 20 s) and stops it at the end.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import lab as labmod  # noqa: E402

UDC = "dummy_udc.0"
STATE = "/sys/class/udc/%s/state" % UDC
GADGET = "/sys/kernel/config/usb_gadget/zerobmc"
LUN0 = GADGET + "/functions/mass_storage.media/lun.0"
PROBE = "/lab/gadget_probe"
ZB = "zerobmc -c /lab/gadget.conf"
ZB2 = "zerobmc -c /lab/gadget2.conf"

# Shell helpers prepended to the scripts that need them.
SH = r"""
evdev() {
	for e in /sys/class/input/event*; do
		if [ "$(cat $e/device/id/vendor 2>/dev/null)" = 1d6b ]; then
			echo /dev/input/${e##*/}; return 0
		fi
	done
	return 1
}
wait_state() { # wait_state STATE TENTHS: prints how many tenths it took
	# The verdict comes from the same read that ended the loop: a freshly
	# bound gadget can read configured, then default (the host's reset
	# that enumerates it), so a second read may disagree with the first.
	i=0
	while s=$(cat %s 2>/dev/null); [ "$s" != "$1" ] && [ $i -lt $2 ]; do
		sleep 0.1; i=$((i+1))
	done
	echo "waited $i"
	[ "$s" = "$1" ]
}
wait_host() { # wait_host TENTHS: until the host has had the device, its
	# evdev and the configured state for a second on end (a freshly bound
	# gadget can read configured before the host's reset that enumerates
	# it: configured, default, then configured again)
	i=0 ok=0
	while [ $ok -lt 10 ] && [ $i -lt $1 ]; do
		if [ -f /sys/bus/usb/devices/1-1/devnum ] && evdev >/dev/null &&
			[ "$(cat %s 2>/dev/null)" = configured ]; then
			ok=$((ok+1))
		else
			ok=0
		fi
		sleep 0.1; i=$((i+1))
	done
	[ $ok -ge 10 ]
}
enumerations() { dmesg | grep -c 'new high-speed USB device'; }
""" % (STATE, STATE)


def build_probe(out):
    """The probe runs in the VM, which has no Python; static, so it needs
    none of the host's libraries there."""
    src = [os.path.join(HERE, "gadget_probe.c"),
           os.path.join(SOURCE, "gadget", "lun.c"),
           os.path.join(SOURCE, "gadget", "udc.c")]
    # compose.c and the files it was split into (compose_*.c).
    src += sorted(glob.glob(os.path.join(SOURCE, "gadget", "compose*.c")))
    # The Pi's compiler: the arm64 lab's Pi runs arm64 programs.
    cc = labmod.labbuild.ARCHES[labmod.labbuild.lab_arch()]["cc"]
    subprocess.run([cc, "-std=c11", "-D_GNU_SOURCE", "-O1", "-static",
                    "-I", SOURCE, "-o", out] + src +
                   ["-lusbgx", "-lconfig"], check=True)


def usb_state(doc):
    """The host USB state wherever the state document keeps it."""
    if isinstance(doc, dict):
        usb = doc.get("usb")
        if isinstance(usb, dict) and "state" in usb:
            return usb["state"]
        for v in doc.values():
            st = usb_state(v)
            if st:
                return st
    return None


class Gadget(unittest.TestCase):
    lab = None

    @classmethod
    def setUpClass(cls):
        lab = labmod.Lab(tempfile.mkdtemp(prefix="zblab-gadget-"))
        lab.own()
        cls.lab = lab
        build_probe(os.path.join(lab.share, "gadget_probe"))
        lab.start_broker()
        for name, sections in (
                ("gadget.conf", None),
                ("gadget2.conf", {"gadget": {
                    "luns": "2", "product": "zerobmc lab rebuilt"}})):
            with open(os.path.join(lab.share, name), "w") as f:
                f.write(lab.agent_config(sections))
        t0 = time.time()
        lab.start_pi(gadget="none", redirect=False)
        print("\nlab: Pi booted in %.1f s (%s)" % (time.time() - t0, lab.run),
              file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        if cls.lab:
            cls.lab.stop()
            # The logs stay for a failed run (or with ZB_KEEP_TMP).
            if not os.environ.get("ZB_KEEP_TMP") and cls.passed:
                shutil.rmtree(cls.lab.run, ignore_errors=True)

    passed = True

    def run(self, result=None):
        result = super().run(result)
        if result is not None and not result.wasSuccessful():
            type(self).passed = False
        return result

    def sh(self, cmd, timeout=60, check=True):
        return self.lab.pi_shell(SH + cmd, timeout=timeout, check=check)

    def rc(self, cmd, timeout=60):
        """Output and exit status of cmd."""
        out = self.sh(cmd + '\necho "rc=$?"', timeout)
        m = re.search(r"rc=(\d+)\s*$", out)
        return out[:m.start()], int(m.group(1))

    def devnum(self):
        return int(self.sh("cat /sys/bus/usb/devices/1-1/devnum").strip())

    def up_bound(self):
        """Makes sure the configured gadget is up and the host has it."""
        out, rc = self.rc(ZB + " gadget up")
        self.assertEqual(rc, 0, out)
        self.sh("wait_state configured 200 && wait_host 200")

    # --- zerobmc gadget up|status|down ------------------------------------

    def test_01_status_without_gadget(self):
        out, rc = self.rc(ZB + " gadget status")
        self.assertEqual(rc, 1, out)
        self.assertIn("does not exist", out)

    def test_02_up_composes_and_binds(self):
        t0 = time.time()
        out, rc = self.rc(ZB + " gadget up")
        self.assertEqual(rc, 0, out)
        self.assertIn("created, bound to " + UDC, out)
        self.assertIn("/dev/hidg", out)
        self.assertIn("/dev/ttyGS", out)
        waited = self.sh("wait_state configured 200")
        print("\ngadget up to configured: %.1f s (%s)"
              % (time.time() - t0, waited.strip()), file=sys.stderr)
        self.sh("wait_host 200")
        ids = self.sh("cat /sys/bus/usb/devices/1-1/idVendor "
                      "/sys/bus/usb/devices/1-1/idProduct "
                      "/sys/bus/usb/devices/1-1/product "
                      "/sys/bus/usb/devices/1-1/bConfigurationValue "
                      "/sys/bus/usb/devices/1-1/bmAttributes "
                      "/sys/bus/usb/devices/1-1/bMaxPower").split("\n")
        self.assertEqual(ids[:2], ["1d6b", "0104"])
        self.assertEqual(ids[2], "zerobmc keyboard, storage and console")
        self.assertEqual(ids[3], "1")
        self.assertEqual(ids[4], "a0")  # remote wakeup
        self.assertEqual(ids[5], "250mA")
        # Interface 0 is the boot keyboard: class 3, subclass 1, protocol 1.
        iface = self.sh("cd /sys/bus/usb/devices/1-1:1.0 && cat "
                        "bInterfaceClass bInterfaceSubClass "
                        "bInterfaceProtocol").split()
        self.assertEqual(iface, ["03", "01", "01"])
        # The host found all three: a disk (usb-storage waits a second
        # before it scans), a keyboard, a serial port.
        host = self.sh("i=0; while ! ls /sys/class/block | grep -q '^sd' && "
                       "[ $i -lt 150 ]; do sleep 0.1; i=$((i+1)); done\n"
                       "ls /sys/class/block /sys/class/tty | "
                       "grep -E '^(sd|ttyACM)'; evdev")
        self.assertRegex(host, r"sd[a-z]")
        self.assertIn("ttyACM0", host)
        self.assertIn("/dev/input/event", host)

    def test_03_up_again_keeps_binding(self):
        self.up_bound()
        before, n0 = self.devnum(), self.sh("enumerations").strip()
        out, rc = self.rc(ZB + " gadget up")
        self.assertEqual(rc, 0, out)
        self.assertIn("left as it was", out)
        time.sleep(1)
        self.assertEqual(self.devnum(), before)
        self.assertEqual(self.sh("enumerations").strip(), n0)
        self.assertEqual(self.sh("cat " + STATE).strip(), "configured")

    def test_03b_unbound_gadget_is_reused(self):
        self.up_bound()
        self.sh("echo '' >%s/UDC" % GADGET)
        out, rc = self.rc(ZB + " gadget status")
        self.assertEqual(rc, 1, out)
        self.assertIn("not bound to a UDC", out)
        out, rc = self.rc(ZB + " gadget up")
        self.assertEqual(rc, 0, out)
        self.assertIn("reused, bound to " + UDC, out)
        self.sh("wait_state configured 200 && wait_host 200")

    def test_04_status_bound(self):
        self.up_bound()
        out, rc = self.rc(ZB + " gadget status")
        self.assertEqual(rc, 0, out)
        self.assertIn("bound to " + UDC, out)
        self.assertIn("matches the configuration", out)
        self.assertIn("host state configured", out)
        self.assertIn(LUN0 + ": empty", out)
        # The layout of another configuration does not match.
        out, rc = self.rc(ZB2 + " gadget status")
        self.assertEqual(rc, 1, out)
        self.assertIn("differs from the configuration", out)

    # --- the keyboard -------------------------------------------------------

    def test_05_report_reaches_host_evdev(self):
        self.up_bound()
        out = self.sh(PROBE + " evdev-read $(evdev) 2000 >/tmp/ev.txt &\n"
                      "sleep 0.5\n" + PROBE +
                      " hid-write /dev/hidg0 0000040000000000 "
                      "0000000000000000\nwait\ncat /tmp/ev.txt")
        self.assertIn("write 1 ok", out)
        # EV_KEY (1) KEY_A (30) pressed, then released.
        self.assertRegex(out, r"(?m)^1 30 1\n1 30 0$")

    def test_06_led_output_report(self):
        self.up_bound()
        out = self.sh(PROBE + " hid-read /dev/hidg0 2500 >/tmp/led.txt &\n"
                      "sleep 0.5\n" + PROBE + " evdev-led $(evdev) 1 1\n"
                      "sleep 0.5\n" + PROBE + " evdev-led $(evdev) 1 0\n"
                      "wait\ncat /tmp/led.txt")
        self.assertIn("led ok", out)
        reports = re.findall(r"(?m)^report((?: [0-9a-f]{2})+)$", out)
        self.assertTrue(reports, out)
        # One byte each; Caps Lock is bit 1 (0x02), then cleared again.
        self.assertTrue(all(len(r.split()) == 1 for r in reports), out)
        leds = [int(r, 16) for r in reports]
        self.assertIn(0x02, [v & 0x02 for v in leds])
        self.assertEqual(leds[-1] & 0x02, 0)

    def test_07_eagain_when_host_stops_polling(self):
        self.up_bound()
        # In this VM the kernel's own VT keyboard handler keeps the input
        # device open, so usbhid polls even when nobody reads the evdev
        # node: spaced writes all go through.
        spaced = self.sh(PROBE + " hid-write /dev/hidg0 0000000000000000\n"
                         "sleep 0.2\n" + PROBE +
                         " hid-write /dev/hidg0 0000000000000000\n"
                         "grep -A8 'Vendor=1d6b' /proc/bus/input/devices | "
                         "grep Handlers")
        print("\nno evdev reader, writes 200 ms apart: %s"
              % " / ".join(spaced.split("\n")), file=sys.stderr)
        # A host that stops polling: the host's HID driver let go of the
        # interface. One report is taken into the one request in flight,
        # the next non-blocking write gets EAGAIN.
        out = self.sh("echo 1-1:1.0 >/sys/bus/usb/drivers/usbhid/unbind\n" +
                      PROBE + " hid-write /dev/hidg0 0000050000000000 "
                      "0000000000000000 0000000000000000\n"
                      "echo 1-1:1.0 >/sys/bus/usb/drivers/usbhid/bind\n"
                      "wait_host 100")
        self.assertIn("write 1 ok", out)
        self.assertIn("write 2 EAGAIN", out)
        self.assertIn("write 3 EAGAIN", out)
        # Polling again: the stuck report drains, writes go through.
        out = self.sh("sleep 1\n" + PROBE +
                      " hid-write /dev/hidg0 0000000000000000")
        self.assertIn("write 1 ok", out)

    # --- the host's USB state -----------------------------------------------

    def test_08_udc_state_pollpri(self):
        self.up_bound()
        out = self.sh(PROBE + " udc-wait %s 8000 >/tmp/udc.txt &\n"
                      "sleep 0.5\n"
                      "echo '' >%s/UDC\nsleep 1\n"
                      "echo %s >%s/UDC\n"
                      "wait_state configured 200\nwait\ncat /tmp/udc.txt"
                      % (STATE, GADGET, UDC, GADGET), timeout=90)
        self.assertIn("initial configured", out)
        events = re.findall(r"(?m)^event (\S+(?: \S+)?) after (\d+) ms", out)
        self.assertTrue(events, out)
        # The rebind enumerates again: the last change is "configured".
        self.assertEqual(events[-1][0], "configured", out)
        print("\nUDC state changes seen with POLLPRI: %s"
              % ", ".join("%s@%sms" % e for e in events), file=sys.stderr)

    # --- layout changes, removal --------------------------------------------

    def test_09_changed_layout_is_rebuilt(self):
        self.up_bound()
        out, rc = self.rc(ZB2 + " gadget up")
        self.assertEqual(rc, 0, out)
        self.assertIn("rebuilt (product string differs)", out)
        self.assertIn("lun.1", out)
        self.sh("wait_state configured 200 && wait_host 200")
        self.assertEqual(
            self.sh("cat /sys/bus/usb/devices/1-1/product").strip(),
            "zerobmc lab rebuilt")
        out, rc = self.rc(ZB2 + " gadget status")
        self.assertEqual(rc, 0, out)
        # And back.
        out, rc = self.rc(ZB + " gadget up")
        self.assertEqual(rc, 0, out)
        self.assertIn("rebuilt (", out)
        self.assertNotIn("lun.1", out)

    def test_10_down_removes(self):
        self.up_bound()
        out, rc = self.rc(ZB + " gadget down")
        self.assertEqual(rc, 0, out)
        self.assertIn("unbound and removed", out)
        self.assertEqual(self.sh("ls /sys/kernel/config/usb_gadget/").strip(),
                         "")
        out, rc = self.rc(ZB + " gadget down")
        self.assertEqual(rc, 0, out)
        self.assertIn("nothing to remove", out)
        out, rc = self.rc(ZB + " gadget status")
        self.assertEqual(rc, 1, out)

    def test_11_before_bind_runs_before_the_udc(self):
        self.sh("[ -d %s ] && %s gadget down; "
                "dd if=/dev/zero of=/tmp/boot.img bs=1M count=3 2>/dev/null"
                % (GADGET, ZB), check=False)
        out = self.sh(PROBE + " up-hook /tmp/boot.img")
        # The hook saw the gadget composed but the UDC file still empty.
        self.assertIn("hook udc_file='' target=" + UDC, out)
        self.assertRegex(out, r"hid=/dev/hidg\d+ tty=/dev/ttyGS\d+ luns=1 "
                         r"was_bound=0")
        self.assertIn("up 0 ok calls=1 bound=1", out)
        # The host's first look at the drive finds the image: 3 MiB.
        self.sh("wait_state configured 200 && wait_host 200")
        size = self.sh("i=0; while [ $i -lt 100 ]; do "
                       "s=$(cat /sys/class/block/sd*/size 2>/dev/null | "
                       "head -1); [ -n \"$s\" ] && [ \"$s\" != 0 ] && break; "
                       "sleep 0.1; i=$((i+1)); done; echo $s").strip()
        self.assertEqual(size, str(3 * 2048))
        # Already bound: the hook runs again, the binding stays.
        out = self.sh(PROBE + " up-hook /tmp/boot.img")
        self.assertIn("hook udc_file='%s'" % UDC, out)
        self.assertIn("was_bound=1", out)

    def test_12_busy_udc_is_named(self):
        self.sh("[ -d %s ] && %s gadget down; O=/sys/kernel/config/"
                "usb_gadget/other; mkdir $O $O/configs/c.1 "
                "$O/functions/acm.x && ln -s $O/functions/acm.x "
                "$O/configs/c.1/ && echo %s >$O/UDC" % (GADGET, ZB, UDC),
                check=False)
        try:
            out, rc = self.rc(ZB + " gadget up")
            self.assertEqual(rc, 1, out)
            self.assertIn("UDC %s is busy: gadget 'other' is bound to it"
                          % UDC, out)
            # Nothing was built on the way.
            self.assertEqual(self.sh("ls /sys/kernel/config/usb_gadget/")
                             .split(), ["other"])
        finally:
            self.sh("O=/sys/kernel/config/usb_gadget/other; echo '' >$O/UDC; "
                    "rm $O/configs/c.1/acm.x; rmdir $O/configs/c.1 "
                    "$O/functions/acm.x $O", check=False)

    # --- the agent ------------------------------------------------------------

    def agent_log_tail(self):
        return "agent log:\n" + self.lab.agent_log()[-2000:]

    def wait_agent_log(self, text, timeout=60):
        end = time.time() + timeout
        while text not in self.lab.agent_log():
            if time.time() > end:
                self.fail("no %r in the agent log within %d s; %s"
                          % (text, timeout, self.agent_log_tail()))
            time.sleep(0.2)

    def test_13_agent_binds_and_restart_keeps_the_keyboard(self):
        self.sh("[ -d %s ] && %s gadget down; cp /lab/gadget.conf "
                "/etc/zerobmc/zerobmc.conf; lab-agent start" % (GADGET, ZB),
                check=False)
        try:
            self.wait_agent_log("gadget zerobmc bound on " + UDC)
            # The host side may still be tearing down the drive of the
            # gadget removed just before (SCSI error handling of reads
            # cut short); its next enumeration waits for that.
            self.sh("wait_state configured 600 && wait_host 600",
                    timeout=150)
            before, n0 = self.devnum(), self.sh("enumerations").strip()
            self.sh("lab-agent restart")
            self.wait_agent_log("already bound, kept")
            time.sleep(2)
            self.assertEqual(self.sh("lab-agent status").strip(), "running",
                             self.agent_log_tail())
            self.assertEqual(self.devnum(), before)
            self.assertEqual(self.sh("enumerations").strip(), n0)
            self.assertEqual(self.sh("cat " + STATE).strip(), "configured")
        finally:
            self.sh("lab-agent stop", check=False)

    def test_14_agent_publishes_the_host_usb_state(self):
        lab = self.lab
        self.sh("cp /lab/gadget.conf /etc/zerobmc/zerobmc.conf; "
                "lab-agent start", check=False)
        try:
            try:
                lab.wait_online(timeout=60)
                doc = lab.agent_state(
                    lambda d: usb_state(d) == "configured", timeout=30)
            except labmod.LabError as e:
                self.fail("%s; %s" % (e, self.agent_log_tail()))
            except TimeoutError as e:
                self.fail("%s; %s" % (e, self.agent_log_tail()))
            self.assertEqual(usb_state(doc), "configured", doc)
        finally:
            self.sh("lab-agent stop", check=False)

if __name__ == "__main__":
    unittest.main(verbosity=2)
