#!/usr/bin/python3
"""Lab test: `power wake` against the server VM suspended to RAM.

The suite's lab, or a private one: OVMF + the lab's Linux as the server
(restarted with S3 enabled), the gadget attached through usbredirect and
qemu's usb-redir. The server suspends itself to RAM (echo mem >
/sys/power/state); the gadget's UDC state does not change, because
usbredirect holds the device open through usbfs (which keeps it resumed)
and the usbredir protocol has no suspend or remote-wakeup messages:
nothing the gadget does can reach the sleeping VM. The test records what
happens (the VM silent and idle, the UDC state, `power wake`'s result,
no resume) and stops the server VM.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402
from test_power import power_state  # noqa: E402


def server_cpu_share(lab, seconds):
    """CPU time the server's qemu used per wall second."""
    pid = lab.state["procs"]["server"][0]

    def ticks():
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rpartition(")")[2].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    t0, c0 = time.time(), ticks()
    time.sleep(seconds)
    return (ticks() - c0) / os.sysconf("SC_CLK_TCK") / (time.time() - t0)


def main():
    # q35 machines may come without S3; ask qemu for it explicitly.
    labmod.QEMU_EXTRA[:] = ["-global", "ICH9-LPC.disable_s3=0"]
    lab = labmod.Lab.for_test(server="none")
    lab.kill_server()  # started again below with S3 enabled
    lab.ensure_server("linux", timeout=400)
    p = power_state(lab, lambda p: True)
    print("server Linux up; state.power %s (%s), usb %s"
          % (p["state"], p["source"], p["usb"]))
    lab.mark()
    lab.server_send("echo zb-states: $(cat /sys/power/state)\r")
    states = lab.wait_for(r"zb-states: ([a-z ]*)\n", 60).group(1).strip()
    print("server /sys/power/state: %r" % states)
    udc = "/sys/class/udc/dummy_udc.0/state"
    before = lab.pi_shell("cat %s" % udc).strip()
    lab.mark()
    lab.server_send("echo mem > /sys/power/state; echo zb-resumed-$?\r")
    time.sleep(15)
    lab.mark()
    lab.server_send("echo zb-alive\r")
    time.sleep(10)
    asleep = "zb-alive" not in lab.console()
    after = lab.pi_shell("cat %s" % udc).strip()
    busy = server_cpu_share(lab, 5)
    print("server answers its console after 'echo mem': %s; its qemu "
          "uses %.0f%% of a CPU (an emulated CPU in S3 idles); UDC state "
          "before %s, after %s" % (not asleep, busy * 100, before, after))
    res = lab.cmd("power", {"action": "wake"}, timeout=30)
    print("power wake: %s %s" % (res["status"],
                                 res.get("error") or res.get("sent")))
    time.sleep(15)
    text = lab.console()
    woke = "zb-alive" in text or "zb-resumed" in text
    print("RESULT server VM (S3 offered: %s) suspended: %s; UDC state "
          "%s -> %s; power wake %s; server resumed by it: %s"
          % ("mem" in states.split(), asleep, before, after,
             res["status"], woke))
    lab.kill_server()


if __name__ == "__main__":
    main()
