"""Check the hardening of built ELF binaries with readelf (binutils reads
every architecture, so cross builds are checked the same way): PIE, full
RELRO (a GNU_RELRO segment and BIND_NOW), the stack protector, and with
--fortify the fortified libc calls. Prints what it found for each."""
import argparse
import os
import subprocess
import sys

READELF = os.environ.get("READELF", "readelf")


def readelf(*args):
    return subprocess.run([READELF, "-W", *args], check=True,
                          capture_output=True, text=True).stdout


def check(path, fortify):
    problems = []
    header = readelf("-h", path)
    if "DYN (" not in header:
        problems.append("not PIE (ELF type is not DYN)")
    segments = readelf("-l", path)
    if "GNU_RELRO" not in segments:
        problems.append("no RELRO segment")
    dynamic = readelf("-d", path)
    if not ("BIND_NOW" in dynamic or
            ("FLAGS_1" in dynamic and " NOW" in dynamic)):
        problems.append("no BIND_NOW (RELRO is only partial)")
    symbols = readelf("--dyn-syms", path)
    if "__stack_chk_fail" not in symbols:
        problems.append("no stack protector (__stack_chk_fail unused)")
    chk = sorted({w.split("@")[0] for w in symbols.split()
                  if w.startswith("__") and "_chk" in w
                  and w.split("@")[0] != "__stack_chk_fail"})
    if fortify and not chk:
        problems.append("not fortified (no __*_chk calls)")
    print(f"{path}: PIE, RELRO, BIND_NOW, stack protector checked; "
          f"fortified calls: {', '.join(chk) or 'none'}")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fortify", action="store_true")
    ap.add_argument("binaries", nargs="+")
    a = ap.parse_args()
    bad = 0
    for b in a.binaries:
        for p in check(b, a.fortify):
            print(f"{b}: {p}", file=sys.stderr)
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
