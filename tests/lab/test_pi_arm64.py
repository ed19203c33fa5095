#!/usr/bin/python3
"""The arm64 lab's own proof (issue 11): the "Pi" really is a Cortex-A53
(the Pi Zero 2 W's CPU) running Debian's arm64 kernel, the agent serving
the server VM is the cross-built aarch64 program, and its gadget is what
the x86_64 server's firmware enumerated. The other lab tests (typing,
virtual media) then prove the rest on this architecture.

Runs in an arm64 lab only (ZB_LAB_ARCH=arm64, as the arm64 cross build's
ctest sets it); elsewhere it is skipped (exit 77).
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402
import labbuild  # noqa: E402

EM_AARCH64 = 183
CORTEX_A53 = "0xd03"  # /proc/cpuinfo "CPU part" of ARM's Cortex-A53


def main():
    if labbuild.lab_arch() != "arm64":
        print("skipped: not an arm64 lab (ZB_LAB_ARCH=arm64)")
        return 77
    lab = labmod.Lab.for_test()
    lab.ensure_server("uefi")
    assert lab.state.get("arch") == "arm64", lab.state.get("arch")

    machine = lab.pi_shell("uname -m").strip()
    assert machine == "aarch64", machine
    release = lab.pi_shell("uname -r").strip()
    assert release.endswith("-arm64"), release
    parts = set(lab.pi_shell(
        "sed -n 's/^CPU part[^:]*: //p' /proc/cpuinfo").split())
    assert parts == {CORTEX_A53}, parts

    # The running agent's program: ELF e_machine at offset 18.
    head = lab.pi_shell("od -An -tx1 -N20 /proc/$(cat /run/zerobmc.pid)/exe")
    raw = bytes(int(b, 16) for b in head.split())
    assert raw[:4] == b"\x7fELF", head
    em = struct.unpack("<H", raw[18:20])[0]
    assert em == EM_AARCH64, em
    redirect = lab.pi_shell("od -An -tx1 -N20 $(command -v usbredirect)")
    raw = bytes(int(b, 16) for b in redirect.split())
    assert struct.unpack("<H", raw[18:20])[0] == EM_AARCH64, redirect

    # The agent serves the x86_64 server: the gadget it built is configured
    # by the server's firmware, and commands work end to end.
    doc = lab.agent_state(lambda d: d.get("usb", {}).get("state")
                          == "configured", 60)
    res = lab.cmd("refresh", {}, timeout=30)
    assert res["status"] == "ok", res
    print("RESULT arm64 Pi: %s %s, CPU part %s, agent e_machine %d, usb %s, "
          "Pi boot %.1f s, agent online %.1f s"
          % (machine, release, CORTEX_A53, em, doc["usb"]["state"],
             lab.state["times"].get("pi_boot_s", -1),
             lab.state["times"].get("agent_online_s", -1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
