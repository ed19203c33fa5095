"""Benchmark: serial console lines per second, pty to subscriber, zero loss.

Method. A real mosquitto on a free loopback port (max_queued_messages 0,
so the broker never drops QoS 0 messages for a subscriber that falls
behind), the real zerobmc agent with a pseudo-terminal as its [console]
device, and mosquitto_sub (C) as the subscriber writing every payload of
zerobmc/<id>/console to a file. The benchmark writes N numbered lines into
the pty's master side as fast as the pty takes them and stops the clock
when mosquitto_sub has received N messages (-C N). The file is then
compared with what was written: every line, in order, or the run fails.
The agent's RSS (VmRSS sampled every 20 ms, and VmHWM) and CPU time are
read from /proc during the burst.

A second run writes the same burst while the broker is down: the ring
overflows, so the agent's memory must stay bounded by the ring size.

    /usr/bin/python3 tests/bench/bench_console.py [--lines N] [--runs R]

ZEROBMC names the binary (default build/firmware/zerobmc).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import zbtest  # noqa: E402
from test_console import write_all  # noqa: E402

ID = "bench1"


def proc_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def proc_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


class RssSampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, proc_kb(self.pid, "VmRSS"))
            except OSError:
                return
            time.sleep(0.02)


def lines(n, tag):
    return [b"%s %07d the quick brown fox jumps over the lazy dog" % (
        tag, i) for i in range(n)]


def setup(tmp, ring_bytes):
    broker = zbtest.Broker(tmp, "max_queued_messages 0\n").start()
    con = zbtest.Pty()
    agent = zbtest.Agent(tmp, broker.port, ID, console=con, sections={
        "agent": {"log_level": "info"},
        "console": {"device": con.path, "ring_bytes": str(ring_bytes)}})
    agent.start()
    # Online: the retained status says so.
    out = subprocess.run(["mosquitto_sub", "-p", str(broker.port), "-t",
                          f"zerobmc/{ID}/status", "-C", "1", "-W", "10"],
                         capture_output=True)
    if out.stdout.strip() != b"online":
        agent.stop()
        broker.stop()
        raise RuntimeError("the agent did not come online")
    return broker, con, agent


def run_online(tmp, n, ring_bytes):
    broker, con, agent = setup(tmp, ring_bytes)
    try:
        want = lines(n, b"bench")
        data = b"\n".join(want) + b"\n"
        outf = os.path.join(tmp, "sub.txt")
        with open(outf, "wb") as f:
            sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker.port),
                                    "-t", f"zerobmc/{ID}/console", "-C",
                                    str(n), "-q", "0"], stdout=f)
            time.sleep(0.5)  # subscribed
            pid = agent.proc.pid
            rss0 = proc_kb(pid, "VmRSS")
            cpu0 = proc_cpu_s(pid)
            sampler = RssSampler(pid)
            sampler.start()
            t0 = time.monotonic()
            write_all(con.fd, data)
            t_write = time.monotonic() - t0
            sub.wait(300)
            t_all = time.monotonic() - t0
            sampler.stop.set()
            sampler.join()
            cpu = proc_cpu_s(pid) - cpu0
            hwm = proc_kb(pid, "VmHWM")
        with open(outf, "rb") as f:
            got = f.read().split(b"\n")[:-1]
        ok = got == want
        return {"ok": ok, "got": len(got), "bytes": len(data),
                "t_write": t_write, "t_all": t_all, "rate": n / t_all,
                "rss0": rss0, "rss_peak": sampler.peak, "hwm": hwm,
                "cpu": cpu}
    finally:
        agent.stop()
        broker.stop()
        con.close()
        agent.keyboard.close()


def run_offline(tmp, n, ring_bytes):
    """The same burst with the broker down: the ring must bound memory."""
    broker, con, agent = setup(tmp, ring_bytes)
    try:
        pid = agent.proc.pid
        rss0 = proc_kb(pid, "VmRSS")
        broker.stop()
        time.sleep(1.0)
        sampler = RssSampler(pid)
        sampler.start()
        write_all(con.fd, b"\n".join(lines(n, b"offline")) + b"\n")
        time.sleep(0.5)
        sampler.stop.set()
        sampler.join()
        return {"rss0": rss0, "rss_peak": sampler.peak,
                "hwm": proc_kb(pid, "VmHWM")}
    finally:
        agent.stop()
        broker.stop()
        con.close()
        agent.keyboard.close()


def run_reference(tmp, n):
    """mosquitto_pub -l through the same kind of broker and subscriber:
    what this machine does right now without the agent."""
    broker = zbtest.Broker(tmp, "max_queued_messages 0\n").start()
    try:
        src = os.path.join(tmp, "lines.txt")
        with open(src, "wb") as f:
            f.write(b"\n".join(lines(n, b"bench")) + b"\n")
        outf = os.path.join(tmp, "ref.txt")
        with open(outf, "wb") as f:
            sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker.port),
                                    "-t", "ref/console", "-C", str(n), "-q",
                                    "0"], stdout=f)
            time.sleep(0.5)
            t0 = time.monotonic()
            with open(src, "rb") as inp:
                subprocess.run(["mosquitto_pub", "-p", str(broker.port),
                                "-t", "ref/console", "-l", "-q", "0"],
                               stdin=inp, check=True)
            sub.wait(300)
            t = time.monotonic() - t0
        return n / t
    finally:
        broker.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=200000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ring", type=int, default=1 << 20)
    args = ap.parse_args()
    print(f"zerobmc console benchmark: {args.lines} lines of 58 bytes "
          f"(57 and LF), "
          f"ring {args.ring} bytes, {os.cpu_count()} CPUs")
    rates, refs = [], []
    failed = False
    for r in range(args.runs):
        tmp = tempfile.mkdtemp(prefix="zbbench-")
        try:
            refs.append(run_reference(tmp, args.lines))
            res = run_online(tmp, args.lines, args.ring)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        rates.append(res["rate"])
        failed |= not res["ok"]
        print(f"run {r + 1}: {res['got']}/{args.lines} lines "
              f"{'in order, none lost' if res['ok'] else 'MISMATCH'}; "
              f"pty written in {res['t_write']:.2f} s, all received in "
              f"{res['t_all']:.2f} s = {res['rate']:.0f} lines/s "
              f"({res['bytes'] / res['t_all'] / 1e6:.1f} MB/s); agent CPU "
              f"{res['cpu']:.2f} s; RSS {res['rss0']} kB before, peak "
              f"{res['rss_peak']} kB (VmHWM {res['hwm']} kB), growth "
              f"{res['rss_peak'] - res['rss0']} kB; reference "
              f"mosquitto_pub -l just before: {refs[-1]:.0f} lines/s")
    rates.sort()
    refs.sort()
    print(f"agent: median {rates[len(rates) // 2]:.0f} lines/s "
          f"(goal 20000), min {rates[0]:.0f}, max {rates[-1]:.0f}; "
          f"mosquitto_pub -l reference: median {refs[len(refs) // 2]:.0f}; "
          f"load average {os.getloadavg()[0]:.1f}")
    tmp = tempfile.mkdtemp(prefix="zbbench-")
    try:
        off = run_offline(tmp, args.lines, args.ring)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"broker down, {args.lines} lines into a {args.ring >> 10} KiB "
          f"ring: RSS {off['rss0']} kB before, peak {off['rss_peak']} kB "
          f"(VmHWM {off['hwm']} kB), growth {off['rss_peak'] - off['rss0']} "
          f"kB")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
