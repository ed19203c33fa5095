#!/usr/bin/python3
"""Lab test: a macro drives real firmware setup blind.

One inline macro reboots the server (Ctrl+Alt+Del), spams F2 (OVMF's
setup hotkey) from the reboot until the server's USB is configured again
and for a while after, then navigates OVMF's setup by keystrokes alone:
Boot Maintenance Manager > Boot Options > Change Boot Order, moves the
second boot option to the top, commits, and reboots. The macro waits on
nothing but the USB state and time; the test reads the server's console
to check each screen was reached and that the next boot tries the other
boot option first. Run twice, the swap also puts the order back.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402

SWAP_FIRST_TWO = """\
REM Into OVMF's setup: F2 from the reboot until the USB is back, and after.
PROFILE bios
REBOOT soft
SPAM F2 100ms 3m
WAIT_USB configured 3m
SPAM F2 100ms 20s
DELAY 2s
REM Front Page: Select Language, Device Manager, Boot Manager, Boot
REM Maintenance Manager.
DOWNARROW
REPEAT 2
ENTER
DELAY 3s
REM Boot Maintenance Manager: Boot Options is the first entry.
ENTER
DELAY 3s
REM Boot Options: Go Back, Add, Delete, Change Boot Order.
DOWNARROW
REPEAT 2
ENTER
DELAY 3s
REM Change Boot Order: open the list, take the second entry up, close.
ENTER
DELAY 2s
DOWNARROW
STRING +
DELAY 1s
ENTER
DELAY 3s
REM Commit Changes and Exit, then boot again.
DOWNARROW
ENTER
DELAY 3s
REBOOT soft
WAIT_USB configured 3m
"""

BOOT_TRY = re.compile(r'BdsDxe: (?:loading|failed to load) (Boot[0-9A-F]{4}) '
                      r'"([^"]*)"')


def swap(lab, round_no, attempts=3):
    """Run the macro until the firmware's setup was reached (its hotkey
    window is short: a few seconds under TCG, and the keyboard is ignored
    for its first moments). Returns the first boot option tried after."""
    for attempt in range(1, attempts + 1):
        lab.mark()
        since = lab._mark
        t0 = time.monotonic()
        res = lab.cmd("macro", {"script": SWAP_FIRST_TWO,
                                "name": "lab_swap_boot"}, timeout=600)
        dt = time.monotonic() - t0
        text = lab.console(since)
        entered = "Boot Maintenance Manager" in text
        print("round %d attempt %d: macro %s after %.1f s (%s steps), setup "
              "%s" % (round_no, attempt, res.get("status"), dt,
                      res.get("steps"), "reached" if entered else "missed"),
              flush=True)
        assert res["status"] == "ok", res
        if entered:
            break
        # The keys went to the shell instead; the macro's last REBOOT
        # started the next try already. Let the firmware get there.
        lab.mark()
        lab.wait_for(labmod.SHELL_PROMPT, 240)
    else:
        raise AssertionError("the setup hotkey was missed %d times"
                             % attempts)
    # What the firmware showed on the way, as the test reads it (the
    # macro could not): each screen of the path was reached.
    for screen in ("Boot Maintenance Manager", "Change Boot Order",
                   "Change the order", "Commit Changes and Exit"):
        assert screen in text, "never reached %r; console:\n%s" % (
            screen, text[-1500:])
    # The boot after the macro's last REBOOT: the first attempt after the
    # list was committed.
    tail = text.rfind("Commit Changes and Exit")
    m = None
    end = time.time() + 240
    while time.time() < end:
        text = lab.console(since)
        m = BOOT_TRY.search(text, tail)
        if m:
            break
        time.sleep(0.5)
    assert m, "no boot attempt after the macro; console:\n%s" % text[-1500:]
    lab.mark()
    lab.wait_for(labmod.SHELL_PROMPT, 240)
    return m.group(1), m.group(2), attempt


def main():
    lab = labmod.Lab.for_test()
    lab.ensure_server("uefi")
    first = swap(lab, 1)
    print("after swap 1 the firmware tries %s %r first" % first[:2],
          flush=True)
    second = swap(lab, 2)
    print("after swap 2 the firmware tries %s %r first" % second[:2],
          flush=True)
    assert first[:2] != second[:2], (
        "the boot order did not change between the two swaps: %s"
        % (first[:2],))
    # The lab is left as found: keyboard usable at a shell prompt.
    lab.wait_usb("configured")
    lab.keyboard_ready()
    lab.uefi_prompt()
    print("RESULT macro: OVMF setup driven blind twice (setup hotkey hit "
          "at attempt %d and %d); first boot option %s, then %s"
          % (first[2], second[2], first[1], second[1]))


if __name__ == "__main__":
    main()
