#!/usr/bin/python3
"""Reinstalls in a row in the lab (issue 19): success rate and time per
reinstall of the agent's cmd/reinstall.

Benchmark output, not a test. Run on demand:

    /usr/bin/python3 tests/bench/bench_reinstall.py [--rounds 5]
        [--media-first]

Method: a private lab (tests/lab/lab.py: the agent in the qemu "Pi", the
server VM with OVMF, a fresh variable store, a 3 s POST window and a
writable virtio disk holding "OS A", built by tests/lab/labos.py). Two
installer media (labos.installer_img) write the raw images of "OS B" and
"OS C"; the rounds alternate between them, so each round's proof is a line
the round before could not have produced. One round is one cmd/reinstall
{"media": installer, "mode": "disk", "done_console": "zerobmc-lab:
installer done", "os_console": "zerobmc-lab: OS <name>"}: the agent boots
the medium (its strategies, with proof by media reads), waits for the
installer's done line, ejects, reboots and waits for the new OS's line.
A round succeeds when the result is ok and the OS's line arrived on
zerobmc/lab/console. Time per reinstall: the result's "ms" (the agent's
clock, command to OS line) and its phases. Wall clock under TCG on a
shared machine: figures of the emulation, not of a PC.

Each installer puts its OS's entry first in BootOrder (efibootmgr -c,
replacing its own entry of the same name as grub-install does), so
from the second round on the disk is first and the agent must reach the
medium through the boot menu (the disk-first case). --media-first builds
installers that put the medium back first (a server set up to boot
removable media first): every round then boots the medium without keys.
Each round prints the strategy that worked and what the firmware loaded
(its BdsDxe lines on the server's serial console).
"""
import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "lab"))
import lab as labmod  # noqa: E402
import labos  # noqa: E402

BOOT_S = 300
INSTALL_S = 600
# Each boot attempt's wait for proof: the medium is read about 12 s after
# the reboot here; a failed attempt costs this much before the next one.
ATTEMPT_S = 120


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--media-first", action="store_true")
    args = ap.parse_args()

    lab = labmod.Lab(tempfile.mkdtemp(prefix="zblab-bench-"))
    lab.own()
    t0 = time.time()
    lab.boot(server="none")
    work = lab.path("reinstall")
    os.makedirs(work)
    disk = labos.os_disk(os.path.join(work, "disk.img"), "A")
    images = {}
    for name in ("B", "C"):
        images[name] = "bench-installer-%s.img" % name
        labos.installer_img(os.path.join(lab.share, "images", images[name]),
                            name, work, media_first=args.media_first)
    lab.start_server("os-a", disk=disk, writable=True, splash_ms=3000)
    lab.wait_console(r"zerobmc-lab: OS A", 0, BOOT_S)
    log("lab up, OS A booted, images built: %.0f s" % (time.time() - t0))

    rows = []
    for i in range(args.rounds):
        name = "BC"[i % 2]
        mark = len(lab.console_raw())
        since = lab.console_mark()
        t1 = time.time()
        res = lab.cmd("reinstall", {
            "media": images[name], "mode": "disk",
            "done_console": "zerobmc-lab: installer done",
            "os_console": re.escape(labos.os_line(name)),
            "timeout_s": ATTEMPT_S, "install_timeout_s": INSTALL_S,
            "os_timeout_s": BOOT_S}, timeout=3000)
        wall = time.time() - t1
        ok = res.get("status") == "ok"
        if ok:
            try:
                lab.wait_console(re.escape(labos.os_line(name)), since, 30)
            except labmod.LabError:
                ok = False
        loaded = re.findall(r'BdsDxe: loading (Boot\w+ "[^"]*")',
                            labmod.strip_ansi(lab.console_raw()[mark:]))
        strategy = (res.get("boot") or {}).get("strategy")
        rows.append((i + 1, name, ok, res, wall, strategy))
        log("round %d (OS %s): %s in %.0f s, strategy %s, phases %s%s; "
            "firmware loaded: %s" % (
                i + 1, name, "ok" if ok else "FAILED", wall, strategy,
                json.dumps(res.get("phases")),
                "" if ok else ", error " + str(res.get("error")),
                ", ".join(loaded)))
        if not ok:
            # The next round needs a server in a known state.
            lab.cmd("media", {"image": "eject"})
            lab.kill_server()
            lab.start_server("os-a", disk=disk, writable=True,
                             splash_ms=3000, keep_vars=True)

    good = [r for r in rows if r[2]]
    print("reinstall bench (%s installers): %d rounds; method in the "
          "docstring" % ("media-first" if args.media_first else
                         "entry-first", len(rows)))
    for n, name, ok, res, wall, strategy in rows:
        print("  round %d OS %s: %s" % (
            n, name, "ok in %.0f s (agent %d ms; phases %s; strategy %s)"
            % (wall, res.get("ms", 0), json.dumps(res.get("phases")),
               strategy) if ok else "failed: %s" % res.get("error")))
    print("success: %d/%d" % (len(good), len(rows)))
    if good:
        tot = [r[4] for r in good]
        print("time per reinstall (wall): median %.0f s, min %.0f s, "
              "max %.0f s" % (statistics.median(tot), min(tot), max(tot)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
