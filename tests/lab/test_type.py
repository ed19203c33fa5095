#!/usr/bin/python3
"""Lab test 1: `type` into the UEFI shell of real firmware (EDK2 OVMF),
through MQTT, the agent in the Pi VM, its HID gadget and usbredirect, in the
`fast` and `bios` profiles. The shell's `echo` shows what arrived; the test
prints characters per second and wrong characters for each profile.

bios must arrive exactly (EDK2 turns one key press into a character per
20 ms tick and keeps 32 events: the profile paces for that); fast is typed
as fast as the host takes reports, and what UEFI loses of it is reported,
not judged.
"""
import difflib
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402

# Characters the UEFI shell's echo prints back unchanged (no %, ^, #, ",
# <, >, |, which the shell interprets). Lines stay short: the line editor
# redraws with cursor moves past the screen width.
ALPHABET = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
            "0123456789-_.,:+=/")
LINE = 56
LINES = 3


def wrong_chars(expected, got):
    """Characters missing, extra or changed between the two strings."""
    sm = difflib.SequenceMatcher(None, expected, got, autojunk=False)
    same = sum(b.size for b in sm.get_matching_blocks())
    return max(len(expected), len(got)) - same


def echoed_line(lab, timeout=15):
    """The line the shell printed for `echo`, found after the prompt."""
    m = lab.wait_for(r"\n([^\n]*)\n+" + labmod.SHELL_PROMPT, timeout)
    return m.group(1)


def run_profile(lab, profile, rng):
    lines = ["".join(rng.choice(ALPHABET) for _ in range(LINE))
             for _ in range(LINES)]
    total_chars = 0
    total_time = 0.0
    wrong = 0
    for i, payload in enumerate(lines):
        lab.uefi_prompt()
        tag = "%s%d" % (profile[0], i)
        text = "echo %s%s" % (tag, payload)
        t0 = time.monotonic()
        res = lab.cmd("type", {"text": text, "profile": profile}, timeout=120)
        dt = time.monotonic() - t0
        assert res["status"] == "ok", res
        # Enter as its own key, after the text: a lost Enter in the fast
        # profile would otherwise hide the whole line.
        res = lab.cmd("key", {"keys": "enter"}, timeout=30)
        assert res["status"] == "ok", res
        try:
            got = echoed_line(lab)
        except labmod.LabError:
            got = ""
            if profile == "bios":
                raise AssertionError(
                    "nothing typed arrived in the UEFI shell (is the gadget's "
                    "bDeviceClass 0? EDK2 matches its ConIn UsbClass entry "
                    "against the device class when it is not 0)")
        expected = tag + payload
        w = wrong_chars(expected, got)
        total_chars += len(text)
        total_time += dt
        wrong += w
        print("  %s line %d: %d chars in %.2f s, %d wrong%s" % (
            profile, i, len(text), dt, w,
            "" if not w else "\n    sent %r\n    got  %r" % (expected, got)),
            flush=True)
    cps = total_chars / total_time if total_time else 0
    print("type %s: %d chars, %.1f chars/s, %d wrong characters" % (
        profile, total_chars, cps, wrong), flush=True)
    return cps, wrong


def main():
    lab = labmod.Lab.for_test()
    lab.ensure_server("uefi")
    rng = random.Random(int(os.environ.get("ZB_LAB_SEED", "3")))
    bios_cps, bios_wrong = run_profile(lab, "bios", rng)
    fast_cps, fast_wrong = run_profile(lab, "fast", rng)
    # The plain-text form types in the configured profile.
    lab.uefi_prompt()
    c = lab.mqtt()
    # A plain payload is trimmed (a trailing newline is no Enter).
    c.publish("zerobmc/%s/cmd/type" % labmod.AGENT_ID, "echo plain-text-ok")
    lab.wait_for(r"echo plain-text-ok", 60)
    c.publish("zerobmc/%s/cmd/key" % labmod.AGENT_ID, "enter")
    lab.wait_for(r"\nplain-text-ok\n", 60)
    assert bios_wrong == 0, "bios profile lost or changed %d characters" \
        % bios_wrong
    print("RESULT type bios %.1f chars/s %d wrong; fast %.1f chars/s %d "
          "wrong" % (bios_cps, bios_wrong, fast_cps, fast_wrong))


if __name__ == "__main__":
    main()
