#!/usr/bin/python3
"""Typing throughput per profile, with a host that polls every 1 ms.

Method: the real agent with a pseudo-terminal as its keyboard; a reader
thread stands in for the USB host and takes one 8-byte report per poll
interval (1 ms by default, like a high-speed f_hid endpoint), pacing
itself on the monotonic clock. A 10,000-character mixed US-ASCII text
(letters, digits, shifted symbols, repeats, spaces, newlines) is sent
with `type` in each profile; chars/s is the text length divided by the
time from publish to the result. The reports are decoded back to text
with the US layout (a key counts when it appears in a report, with the
shift state of that report) and compared with what was sent: wrong
characters must be zero.

Usage: tests/bench/bench_typing.py [CHARS] [POLL_MS]  (defaults 10000, 1)
"""
import json
import os
import random
import select
import string
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "integration"))
import zbtest  # noqa: E402

# US layout: usage -> (plain, shifted)
US = {}
for i, ch in enumerate(string.ascii_lowercase):
    US[0x04 + i] = (ch, ch.upper())
for i, (a, b) in enumerate(zip("1234567890", "!@#$%^&*()")):
    US[0x1e + i] = (a, b)
for u, a, b in ((0x28, "\n", "\n"), (0x2b, "\t", "\t"), (0x2c, " ", " "),
                (0x2d, "-", "_"), (0x2e, "=", "+"), (0x2f, "[", "{"),
                (0x30, "]", "}"), (0x31, "\\", "|"), (0x33, ";", ":"),
                (0x34, "'", '"'), (0x35, "`", "~"), (0x36, ",", "<"),
                (0x37, ".", ">"), (0x38, "/", "?")):
    US[u] = (a, b)


def decode(reports):
    out = []
    prev = set()
    for r in reports:
        shift = bool(r[0] & 0x22)
        keys = {k for k in r[2:] if k}
        for k in keys - prev:
            if k in US:
                out.append(US[k][1 if shift else 0])
        prev = keys
    return "".join(out)


def text(n, seed=1):
    rnd = random.Random(seed)
    alphabet = (string.ascii_letters + string.digits + "!@#$%^&*()-_=+[]{};:'\",.<>/?\\|`~ ")
    out = []
    while len(out) < n:
        r = rnd.random()
        if r < 0.05:
            out.append("\n")
        elif r < 0.10:
            c = rnd.choice(alphabet)
            out.extend(c * rnd.randint(2, 4))  # repeats: released between
        else:
            out.append(rnd.choice(alphabet))
    return "".join(out[:n])


class Host(threading.Thread):
    """Takes one report per poll interval, like a USB host."""

    def __init__(self, fd, poll_s):
        super().__init__(daemon=True)
        self.fd, self.poll_s = fd, poll_s
        self.reports, self.stop = [], False
        self.buf = b""
        self.last = 0.0

    def run(self):
        nxt = time.monotonic()
        while not self.stop:
            nxt += self.poll_s
            while len(self.buf) < 8:
                r, _, _ = select.select([self.fd], [], [], 0.05)
                if self.stop:
                    return
                if r:
                    try:
                        self.buf += os.read(self.fd, 8 - len(self.buf))
                    except OSError:
                        pass
                else:
                    nxt = time.monotonic() + self.poll_s
            self.reports.append(self.buf[:8])
            self.last = time.monotonic()
            self.buf = self.buf[8:]
            d = nxt - time.monotonic()
            if d > 0:
                time.sleep(d)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    poll_ms = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    env = zbtest.Env("btype", sections={"agent": {"log_level": "warn"},
                                        "keyboard": {"write_timeout_ms": "10000"}})
    try:
        env.wait_online()
        kb = env.agent.keyboard
        # The pty buffers about 4 KiB: shrink what the agent can run
        # ahead by reading in the host thread only.
        sent = text(n)
        print(f"typing {n} mixed US characters, host polls every "
              f"{poll_ms} ms (one report per poll)")
        for prof in ("fast", "bios"):
            host = Host(kb.fd, poll_ms / 1000.0)
            host.start()
            t0 = time.monotonic()
            res = env.cmd("type", {"text": sent, "profile": prof},
                          timeout=3600)
            # The pty holds up to 4 KiB the "host" has not taken yet: the
            # typing ends when the host took the last report.
            while time.monotonic() - host.last < 0.5:
                time.sleep(0.1)
            dt = host.last - t0
            host.stop = True
            host.join()
            got = decode(host.reports)
            wrong = sum(1 for a, b in zip(got, sent) if a != b) + \
                abs(len(got) - len(sent))
            print(f"{prof:4}: {res['status']}, {n / dt:7.1f} chars/s, "
                  f"{len(host.reports)} reports, {wrong} wrong characters")
    finally:
        env.close()


if __name__ == "__main__":
    main()
