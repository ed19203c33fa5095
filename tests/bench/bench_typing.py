#!/usr/bin/python3
"""Typing throughput per profile, with a host that polls every 1 ms.

Method: the real agent with a pseudo-terminal as its keyboard; a reader
thread stands in for the USB host and takes one 8-byte report per poll
interval (1 ms by default, like a high-speed f_hid endpoint), pacing
itself on the monotonic clock. A 10,000-character mixed US-ASCII text
(letters, digits, shifted symbols, repeats, spaces, newlines) is sent
with `type` in each profile; chars/s is the text length divided by the
time from publish to the moment the host took the last report. The
reports are decoded back to text with the US layout (a key counts when it
appears in a report, in the order of the report's slots, with the shift
state of that report) and compared with what was sent: wrong characters
must be zero.

For each profile it also prints the key presses per character (keys and
modifier bits newly down) and EDK2's ceiling for them (its USB keyboard
driver turns one press into a character per 20 ms timer tick: 50 presses
a second), and replays the reports, at the times the host took them,
through a model of that driver (a 32-event queue that drops the oldest,
a tick every 20 ms that applies releases until it meets one press) at
four tick phases: characters the firmware would lose or get wrong, and
the deepest the queue got. A host thread that stalls (a loaded machine)
makes the replay pessimistic: the pty keeps what the agent wrote
meanwhile, where the HID function would have held the agent back, and
the thread then takes it as a burst; the most reports it took within
10 ms is printed with it (bios plans at most 2: a release 3 ms before a
press, that press), and the longest the host took none (bios plans at
most 20.25 ms; edk2 81 ms, a report of four presses).

Reports a character: bios rolls over (the next key's press releases the
key before, a release report only before a key that comes back and when
Shift goes up), so a host that takes one report per 20 ms (OVMF in the
lab) gets about 50 / (reports a character) characters a second from it;
`tests/bench/bench_typing.py 2000 20` shows that (fast then waits for the
host: it takes minutes).

Usage: tests/bench/bench_typing.py [CHARS] [POLL_MS]  (defaults 10000, 1)
"""
import difflib
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


def wrong_chars(expected, got):
    """Characters missing, extra or changed between the two strings."""
    if expected == got:
        return 0
    sm = difflib.SequenceMatcher(None, expected, got, autojunk=False)
    same = sum(b.size for b in sm.get_matching_blocks())
    return max(len(expected), len(got)) - same


def decode(reports):
    out = []
    prev = set()
    for r in reports:
        shift = bool(r[0] & 0x22)
        for k in r[2:]:
            if k and k not in prev and k in US:
                out.append(US[k][1 if shift else 0])
        prev = {k for k in r[2:] if k}
    return "".join(out)


def presses(reports):
    n = 0
    prev = bytes(8)
    for r in reports:
        n += bin(r[0] & ~prev[0] & 0xff).count("1")
        n += sum(1 for k in r[2:] if k and k not in prev[2:])
        prev = r
    return n


def burst(times, window=0.010):
    """The most reports the host took within any window."""
    most, j = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - window:
            j += 1
        most = max(most, i - j + 1)
    return most


def edk2(timed, phase):
    """Replays (time, report) through a model of EDK2's UsbKbDxe; returns
    the typed text and the deepest the event queue got."""
    q, depth, out, shift = [], 0, [], 0
    prev = bytes(8)
    tick = timed[0][0] + phase if timed else 0

    def run_tick():
        nonlocal shift
        while q:
            code, down = q.pop(0)
            if code >= 0xe0:
                bit = 1 << (code - 0xe0)
                shift = shift | bit if down else shift & ~bit
                if down:
                    return
                continue
            if down:
                if code in US:
                    out.append(US[code][1 if shift & 0x22 else 0])
                return

    def put(ev):
        if len(q) == 32:
            q.pop(0)
        q.append(ev)

    for t, r in timed:
        while tick < t:
            run_tick()
            tick += 0.020
        for i in range(8):
            if (r[0] ^ prev[0]) & (1 << i):
                put((0xe0 + i, bool(r[0] & (1 << i))))
        for k in prev[2:]:
            if k and k not in r[2:]:
                put((k, False))
        for k in r[2:]:
            if k and k not in prev[2:]:
                put((k, True))
        depth = max(depth, len(q))
        prev = r
    while q:
        run_tick()
    return "".join(out), depth


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
        self.reports, self.times, self.stop = [], [], False
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
            self.times.append(self.last)
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
        for prof in ("fast", "bios", "edk2"):
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
            wrong = wrong_chars(sent, got)
            ppc = presses(host.reports) / n
            stall = max((b - a for a, b in zip(host.times, host.times[1:])),
                        default=0.0)
            timed = list(zip(host.times, host.reports))
            lost, depth = 0, 0
            for phase in (0.0, 0.005, 0.010, 0.015):
                typed, d = edk2(timed, phase)
                lost = max(lost, wrong_chars(sent, typed))
                depth = max(depth, d)
            print(f"{prof:4}: {res['status']}, {n / dt:7.1f} chars/s, "
                  f"{len(host.reports)} reports "
                  f"({len(host.reports) / n:.2f} a character), "
                  f"{wrong} wrong characters; "
                  f"{ppc:.3f} presses a character (EDK2's ceiling "
                  f"{50 / ppc:.1f} chars/s); EDK2 model: {lost} characters "
                  f"lost or wrong, queue at most {depth} of 32; the host "
                  f"took up to {burst(host.times)} reports in 10 ms, and "
                  f"none for up to {stall * 1000:.0f} ms")
    finally:
        env.close()


if __name__ == "__main__":
    main()
