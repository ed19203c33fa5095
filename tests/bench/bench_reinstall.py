#!/usr/bin/python3
"""Reinstalls in a row in the lab (issue 19): success rate and time per
reinstall.

Benchmark output, not a test. Run on demand:

    /usr/bin/python3 tests/bench/bench_reinstall.py [--rounds 5]

Method: a private lab (tests/lab/lab.py: the agent in the qemu "Pi", the
server VM with OVMF, a fresh variable store, a 3 s POST window and a
writable virtio disk holding "OS A", built by tests/lab/labos.py). Two
installer media (labos.installer_img) write the raw images of "OS B" and
"OS C"; the rounds alternate between them, so each round's proof is a line
the round before could not have produced. One round is labos.reinstall:
cmd/media inserts the installer writable, cmd/reboot soft (Ctrl+Alt+Del
through the gadget's keyboard) reboots the server, the firmware boots the
medium (the removable medium is tried before the disk in OVMF's default
order: no keys), the installer writes the disk and adds its boot entry
with efibootmgr, its done line arrives on zerobmc/lab/console and ZBDONE
on the medium names the OS; cmd/media eject, cmd/reboot soft, and the new
OS's line arrives on zerobmc/lab/console. A round succeeds when all of
that happens within its deadlines (600 s for the installer, 420 s for the
OS). Times are host wall clock from the insert to each signal, under TCG
on a shared machine: figures of the emulation, not of a PC.

The installers are built media-first (labos.installer_img(media_first=True):
after efibootmgr adds the new OS's entry, the medium the installer booted
from is put back first in BootOrder, as on a server set up to boot
removable media first), so every round boots the medium without keys. The
disk-first case (the new entry first, the boot menu needed) is the agent's
cmd/boot, not measured here. Each round logs what the firmware loaded
(its BdsDxe lines).
"""
import argparse
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


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
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
        labos.installer_img(os.path.join(lab.share, "images",
                                         images[name]), name, work,
                            media_first=True)
    lab.start_server("os-a", disk=disk, writable=True, splash_ms=3000)
    lab.wait_console(r"zerobmc-lab: OS A", 0, 420)
    log("lab up, OS A booted, images built: %.0f s" % (time.time() - t0))

    rows = []
    for i in range(args.rounds):
        name = "BC"[i % 2]
        mark = len(lab.console_raw())
        try:
            t = labos.reinstall(lab, images[name], name)
            ok, err = True, ""
        except labmod.LabError as e:
            t, ok, err = {}, False, str(e).splitlines()[0]
        loaded = re.findall(r'BdsDxe: loading (Boot\w+ "[^"]*")',
                            labmod.strip_ansi(lab.console_raw()[mark:]))
        rows.append((i + 1, name, ok, t, err, loaded))
        log("round %d (OS %s): %s %s; firmware loaded: %s"
            % (i + 1, name, "ok" if ok else "FAILED",
               " ".join("%s=%.0f" % kv for kv in sorted(t.items())) or err,
               ", ".join(loaded)))
        if not ok:
            # The next round needs a server in a known state.
            lab.cmd("media", {"image": "eject"})
            lab.kill_server()
            lab.start_server("os-a", disk=disk, writable=True,
                             splash_ms=3000, keep_vars=True)

    good = [r for r in rows if r[2]]
    print("reinstall bench: %d rounds, method in the docstring" % len(rows))
    for n, name, ok, t, err, loaded in rows:
        print("  round %d OS %s: %s" % (n, name, "ok total %.0f s (installer "
              "done %.0f s, OS up %.0f s after the reboot)"
              % (t["total_s"], t["install_s"], t["first_boot_s"])
              if ok else "failed: " + err))
    print("success: %d/%d" % (len(good), len(rows)))
    if good:
        tot = [r[3]["total_s"] for r in good]
        print("time per reinstall: median %.0f s, min %.0f s, max %.0f s"
              % (statistics.median(tot), min(tot), max(tot)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
