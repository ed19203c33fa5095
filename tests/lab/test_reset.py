#!/usr/bin/python3
"""Lab test 2: `key ctrl+alt+delete` resets the firmware. The server's
console shows it boot again (EDK2 resets the machine on Ctrl+Alt+Del; the
server VM runs without -no-reboot), and the agent's retained state shows
the server's USB state (state.usb.state, from the UDC's state file) going
through the change and coming back to `configured`.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402


def usb_states(lab, since):
    """state.usb.state values published after `since` (monotonic)."""
    c = lab.mqtt()
    out = []
    with c.lock:
        msgs = list(c.msgs)
    for m in msgs:
        if m["topic"] != "zerobmc/%s/state" % labmod.AGENT_ID or \
                m["t"] < since:
            continue
        try:
            st = json.loads(m["payload"]).get("usb", {}).get("state")
        except ValueError:
            continue
        if st and (not out or out[-1] != st):
            out.append(st)
    return out


def main():
    lab = labmod.Lab.for_test()
    lab.ensure_server("uefi")
    before = lab.agent_state(lambda d: "usb" in d)
    print("usb state before:", before["usb"])
    assert before["usb"].get("state") == "configured", before["usb"]

    lab.mark()
    t0 = time.monotonic()
    res = lab.cmd("key", "ctrl+alt+delete", timeout=30)
    assert res["status"] == "ok", res
    # The firmware starts over: its boot manager runs again, then the shell.
    lab.wait_for(r"BdsDxe: (loading|starting|failed)", 120)
    t_reset = time.monotonic() - t0
    lab.wait_for(labmod.SHELL_PROMPT, 240)
    t_shell = time.monotonic() - t0
    print("reset seen after %.1f s, UEFI shell again after %.1f s"
          % (t_reset, t_shell))

    # The gadget saw the host reset the bus and configure it again.
    end = time.time() + 60
    while time.time() < end:
        states = usb_states(lab, t0)
        if len(states) >= 2 and states[-1] == "configured":
            break
        time.sleep(0.5)
    print("usb states after Ctrl+Alt+Del:", " -> ".join(states))
    assert any(s != "configured" for s in states), \
        "no USB state change published: %s" % states
    assert states[-1] == "configured", states
    # The Pi is slow right after a reset on a loaded machine.
    udc = lab.pi_shell("cat /sys/class/udc/*/state", timeout=180).strip()
    assert udc == "configured", udc
    print("RESULT reset: firmware back after %.1f s; usb %s"
          % (t_shell, " -> ".join(states)))


if __name__ == "__main__":
    main()
