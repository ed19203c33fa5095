#!/usr/bin/python3
"""Least privilege with the real kernel gadget (issue 18): the Pi's init
runs `zerobmc gadget up` as root before the network is up (eth0 still
down), as zerobmc-gadget.service does early in boot; the gadget binds and
the UDC reads `configured`; then the agent runs as the unprivileged user
zerobmc (started with su, as systemd's User= would) and still has
everything: it types into the host side's keyboard, reads the serial
console, and puts an image into the mass-storage LUN, which the host sees
as a disk. Then, started as root by hand, the agent drops to [agent] user
by itself (set up, then setgroups/setgid/setuid) and serves again.

It prints the timing figures from the Pi's own clock (/proc/uptime, from
the kernel's start): kernel start to `gadget up` exec, exec to bound, and
kernel start to the UDC `configured`. In the arm64 lab (ZB_LAB_ARCH=arm64)
that is the Pi Zero 2 W's CPU under TCG.

It boots a Pi of its own (no server VM): the host side is the Pi's own
dummy_hcd.
"""
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402

EVDEV = r"""
evdev() {
	for e in /sys/class/input/event*; do
		if [ "$(cat $e/device/id/vendor 2>/dev/null)" = 1d6b ]; then
			echo /dev/input/${e##*/}; return 0
		fi
	done
	return 1
}
"""
# Until the host side has had the keyboard for a second on end.
STABLE = r"""
i=0 ok=0
while [ $ok -lt 10 ] && [ $i -lt 300 ]; do
	if evdev >/dev/null &&
		[ "$(cat /sys/class/udc/*/state)" = configured ]; then
		ok=$((ok+1))
	else
		ok=0
	fi
	sleep 0.1; i=$((i+1))
done
evdev
"""
UID = "999"
LUN = "/sys/kernel/config/usb_gadget/zerobmc/functions/mass_storage.media/lun.0"


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("no %s within %d s" % (what, timeout))


def main():
    lab = labmod.Lab(tempfile.mkdtemp(prefix="zblab-privsep-"), owner=True)
    lab.own()
    images = os.path.join(lab.share, "images")
    os.makedirs(images, exist_ok=True)
    with open(os.path.join(images, "disk.img"), "wb") as f:
        f.truncate(4 << 20)
    os.chmod(images, 0o755)
    os.chmod(os.path.join(images, "disk.img"), 0o644)
    lab.start_broker()
    t0 = time.time()
    lab.start_pi(gadget="early", redirect=False,
                 sections={"agent": {"user": "zerobmc"}})
    with open(lab.path("pi-console.log"), "rb") as f:
        console = labmod.strip_ansi(f.read())
    m = re.search(r"lab: early gadget rc=(\d+) exec=([\d.]+) bound=([\d.]+) "
                  r"configured=([\d.]+) state=(\S+) eth0=(\S+)", console)
    assert m, console[-3000:]
    rc, t_exec, t_bound, t_conf, state, eth0 = m.groups()
    assert rc == "0", console[-3000:]
    assert state == "configured", console[-3000:]
    assert eth0 == "down", eth0  # no network during the gadget step
    assert "handed to user zerobmc" in console, console[-3000:]

    lab.wait_online(timeout=120)
    online = time.time() - t0
    # The agent: every uid and gid is zerobmc's.
    ids = lab.pi_shell("grep -E '^(Uid|Gid):' /proc/$(cat /run/zerobmc.pid)"
                       "/status")
    for line in ids.strip().splitlines():
        assert line.split()[1:] == [UID] * 4, ids
    owners = lab.pi_shell("stat -c '%%u %%n' /dev/hidg0 /dev/ttyGS0 "
                          "%s/file %s/ro %s/cdrom" % (LUN, LUN, LUN))
    for line in owners.strip().splitlines():
        assert line.split()[0] == UID, owners

    # Keyboard: the host side polls while its evdev is open. A freshly
    # bound gadget can be enumerated twice (configured, reset, configured
    # again), which replaces the evdev: wait until the host has held it for
    # a second, and open it again if the first one went away.
    for attempt in range(3):
        dev = lab.pi_shell(EVDEV + STABLE).strip().splitlines()[-1]
        assert dev.startswith("/dev/input/event"), dev
        # The key goes out only once the reader holds the evdev: the
        # host polls the keyboard anyway (the VT handler has it open), so
        # a key sent before cat opened it is delivered, and lost to cat.
        lab.pi_shell("cat %s >/tmp/ev & echo $! >/tmp/ev.pid; i=0; "
                     "while [ $i -lt 50 ] && ! ls -l /proc/$!/fd 2>/dev/null"
                     " | grep -q %s; do sleep 0.1; i=$((i+1)); done"
                     % (dev, dev))
        res = lab.cmd("key", {"keys": "a"}, timeout=30)
        assert res["status"] == "ok", res
        try:
            n = int(wait_for(lambda: int(lab.pi_shell(
                "wc -c </tmp/ev").strip()) or None, 5, "key events"))
            break
        except AssertionError:
            print("attempt %d: no events on %s" % (attempt + 1, dev))
        finally:
            lab.pi_shell("kill $(cat /tmp/ev.pid)", check=False)
    else:
        raise AssertionError("no key events on the host side")

    # Console: a line written on the host side's ttyACM0 is published.
    c = lab.mqtt()
    lab.pi_shell("stty -F /dev/ttyACM0 raw -echo; "
                 "printf 'privsep-line\\r\\n' >/dev/ttyACM0")
    c.wait(lambda m: b"privsep-line" in m["payload"], 15, "console line")

    # Media: the unprivileged agent writes the LUN; the host sees a disk.
    res = lab.cmd("media", {"image": "disk.img", "mode": "disk"}, timeout=30)
    assert res["status"] == "ok", res
    wait_for(lambda: re.search(r"\bsd[a-z]\b", lab.pi_shell(
        "ls /sys/class/block")), 30, "the host's disk")

    log = lab.agent_log()
    assert "running as root" not in log, log[-2000:]

    # Started as root by hand (no su): the agent keeps the gadget, hands
    # it over and drops to [agent] user itself before it connects.
    lab.pi_shell("lab-agent stop; rm -f /run/lab-agent-user")
    c.clear()
    lab.pi_shell("lab-agent start")
    wait_for(lambda: "running as user zerobmc" in lab.agent_log()[len(log):],
             60, "the agent dropping root")
    c.wait(lambda m: m["topic"] == "zerobmc/%s/status" % labmod.AGENT_ID
           and m["payload"] == b"online", 60, "online again")
    res = lab.cmd("refresh", {}, timeout=60)
    assert res["status"] == "ok", res
    ids = lab.pi_shell("grep -E '^(Uid|Gid|Groups):' "
                       "/proc/$(cat /run/zerobmc.pid)/status")
    for line in ids.strip().splitlines():
        want = [UID] if line.startswith("Groups") else [UID] * 4
        assert line.split()[1:] == want, ids
    print("RESULT early gadget (%s Pi, no network): kernel start to gadget "
          "up exec %.2f s, exec to bound %.2f s, kernel start to UDC "
          "configured %.2f s; agent as uid %s online %.1f s after qemu "
          "started; keyboard (%d bytes of events), console and media work; started as root, it dropped to uid %s itself"
          % (labmod.labbuild.lab_arch(), float(t_exec),
             float(t_bound) - float(t_exec), float(t_conf), UID, online, n,
             UID))
    lab.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
