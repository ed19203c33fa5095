#!/usr/bin/python3
"""Lab test 1: `type` into the UEFI shell of real firmware (EDK2 OVMF),
through MQTT, the agent in the Pi VM, its HID gadget and usbredirect, in the
`bios`, `edk2` and `fast` profiles. The shell's `echo` shows what arrived;
the test prints, for each profile, characters per second as written by the
agent and as shown in the shell (the shell echoes each character as it
reads it; the time runs from the publish to the last one on the console),
and wrong characters.

bios and edk2 must arrive exactly (EDK2 turns one key press into a
character per 20 ms tick and keeps 32 events: the profiles pace for that;
bios rolls over from key to key, about 1.5 reports a character; edk2 packs
up to three keys a report); fast is typed as fast as the host
takes reports, and what UEFI loses of it is reported, not judged.

Measured here: OVMF takes one report per ~20 ms through usb-redir, and
what the agent writes faster waits in usb-redir's buffer, so the rate the
shell shows is what counts, not the rate the agent wrote at.
"""
import difflib
import json
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
# The shifted characters of ALPHABET on a US keyboard.
SHIFTED = "_:+"
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


def shown_at(lab, text, since, timeout=20):
    """When the first character and all of text (as typed, before Enter)
    are on the server console: the shell echoes each character when it
    reads it from the firmware's keyboard driver, so this is when the
    last one arrived there. (None, None) if it never all shows."""
    end = time.monotonic() + timeout
    first = None
    while True:
        shown = labmod.strip_ansi(lab.console_raw()[since:])
        now = time.monotonic()
        if first is None and shown.strip():
            first = now
        if text in shown:
            return first, now
        if now > end:
            return None, None
        time.sleep(0.005)


def presses(text):
    """Key presses the US layout needs for text: one per character, one
    per Shift press (Shift stays held across a run of shifted ones)."""
    shifted = [c.isupper() or c in SHIFTED for c in text]
    return len(text) + sum(1 for i, s in enumerate(shifted)
                           if s and (i == 0 or not shifted[i - 1]))


def run_profile(lab, profile, rng):
    lines = ["".join(rng.choice(ALPHABET) for _ in range(LINE))
             for _ in range(LINES)]
    total_chars = 0
    total_time = 0.0
    total_shown = 0.0
    total_span = 0.0
    total_presses = 0
    wrong = 0
    for i, payload in enumerate(lines):
        lab.uefi_prompt()
        tag = "%s%d" % (profile[0], i)
        text = "echo %s%s" % (tag, payload)
        since = len(lab.console_raw())
        c = lab.mqtt()
        t0 = time.monotonic()
        cid = lab.cmd("type", {"text": text, "profile": profile}, wait=False)
        t_first, t_shown = shown_at(lab, text, since)
        m = c.wait(lambda m: m["topic"] == "zerobmc/%s/result" % labmod.AGENT_ID
                   and json.loads(m["payload"]).get("id") == cid, 120,
                   "result of " + cid)
        res = json.loads(m["payload"])
        dt = m["t"] - t0
        assert res["status"] == "ok", res
        # Enter as its own key, after the text: a lost Enter in the fast
        # profile would otherwise hide the whole line.
        res = lab.cmd("key", {"keys": "enter"}, timeout=30)
        assert res["status"] == "ok", res
        try:
            got = echoed_line(lab)
        except labmod.LabError:
            got = ""
            if profile != "fast":
                raise AssertionError(
                    "nothing typed arrived in the UEFI shell (is the gadget's "
                    "bDeviceClass 0? EDK2 matches its ConIn UsbClass entry "
                    "against the device class when it is not 0)")
        expected = tag + payload
        w = wrong_chars(expected, got)
        shown = (t_shown - t0) if t_shown else None
        total_chars += len(text)
        total_time += dt
        total_presses += presses(text)
        if shown is not None and total_shown is not None:
            total_shown += shown
            total_span += t_shown - t_first
        else:
            total_shown = None
        wrong += w
        print("  %s line %d: %d chars (%d presses) written in %.2f s, all "
              "shown in the shell after %s, %d wrong%s" % (
                  profile, i, len(text), presses(text), dt,
                  "%.2f s" % shown if shown is not None else "(never)", w,
                  "" if not w else "\n    sent %r\n    got  %r" % (
                      expected, got)),
            flush=True)
    cps = total_chars / total_time if total_time else 0
    shown_cps = total_chars / total_shown if total_shown else 0
    span_cps = (total_chars - LINES) / total_span if total_span else 0
    print("type %s: %d chars, %d presses (%.3f a character); written at "
          "%.1f chars/s, shown in the UEFI shell at %.1f chars/s from the "
          "publish (%.1f from the first character shown to the last; EDK2's "
          "ceiling, one press per 20 ms tick: %.1f); %d wrong characters" % (
              profile, total_chars, total_presses,
              total_presses / total_chars, cps, shown_cps, span_cps,
              50.0 * total_chars / total_presses, wrong), flush=True)
    return shown_cps, wrong


def main():
    lab = labmod.Lab.for_test()
    lab.ensure_server("uefi")
    rng = random.Random(int(os.environ.get("ZB_LAB_SEED", "3")))
    bios_cps, bios_wrong = run_profile(lab, "bios", rng)
    edk2_cps, edk2_wrong = run_profile(lab, "edk2", rng)
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
    assert edk2_wrong == 0, "edk2 profile lost or changed %d characters" \
        % edk2_wrong
    print("RESULT type, shown in the UEFI shell: bios %.1f chars/s %d wrong; "
          "edk2 %.1f chars/s %d wrong; fast %.1f chars/s %d wrong" % (
              bios_cps, bios_wrong, edk2_cps, edk2_wrong, fast_cps,
              fast_wrong))


if __name__ == "__main__":
    main()
