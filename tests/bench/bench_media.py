#!/usr/bin/python3
"""Virtual media benchmark: the real agent, a real mosquitto, a plain
folder standing in for the LUN.

1. Switch latency: cmd/media is published (QoS 1) and the LUN's `file`
   is polled (every 100 us) until it names the new image; also the time
   until the command's result arrives. 100 switches between two images
   (disk and CD-ROM alternately, so cdrom and ro change too). The same
   number of cmd/refresh round trips (a command that only replies) shows
   what the MQTT path alone costs. The broker runs with set_tcp_nodelay.
2. Background SHA-256: a 256 MiB file of random bytes and a 256 MiB
   sparse file are inserted (read-only disks); the worker's own timing
   (state.media.hash_ms) gives MB/s, and the time from the result to the
   state carrying the sum is shown too. hashlib (OpenSSL) on the same
   file is the reference. The worker runs at nice 19 and idle I/O
   priority, so a busy machine slows it down on purpose.

Run: /usr/bin/python3 tests/bench/bench_media.py [switches]
(ZEROBMC or ZB_BUILD names the binary.)
"""
import hashlib
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import test_media  # noqa: E402

MIB = 1 << 20


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def read(path):
    with open(path) as f:
        return f.read().strip()


def bench_switch(env, n):
    test_media.sparse(env.path("a.iso"), 64 * MIB)
    test_media.sparse(env.path("b.img"), 64 * MIB)
    lun_file = os.path.join(env.lun, "file")
    to_lun, to_result = [], []
    for i in range(n):
        name = ("a.iso", "b.img")[i % 2]
        want = env.path(name)
        cid = "sw%d-%d" % (i, time.monotonic_ns())
        t0 = time.perf_counter()
        t0m = time.monotonic()
        env.client.publish("zerobmc/%s/cmd/media" % env.id,
                           json.dumps({"image": name, "id": cid}))
        while read(lun_file) != want:
            if time.perf_counter() - t0 > 10:
                raise TimeoutError("LUN never switched to " + name)
            time.sleep(0.0001)
        t1 = time.perf_counter()
        m = env.client.wait(test_media.zbtest.result_for(env.id, cid), 10)
        res = json.loads(m["payload"])
        if res["status"] != "ok":
            raise RuntimeError(res)
        to_lun.append((t1 - t0) * 1000)
        to_result.append((m["t"] - t0m) * 1000)
    return to_lun, to_result


def bench_baseline(env, n):
    """cmd/refresh does nothing but reply: the MQTT round trip alone."""
    out = []
    for i in range(n):
        cid = "rf%d-%d" % (i, time.monotonic_ns())
        t0m = time.monotonic()
        env.client.publish("zerobmc/%s/cmd/refresh" % env.id,
                           json.dumps({"id": cid}))
        m = env.client.wait(test_media.zbtest.result_for(env.id, cid), 10)
        out.append((m["t"] - t0m) * 1000)
    return out


def bench_hash(env, name, make):
    path = env.path(name)
    make(path)
    size = os.path.getsize(path)
    t = time.perf_counter()
    with open(path, "rb") as f:
        h = hashlib.sha256()
        while True:
            b = f.read(MIB)
            if not b:
                break
            h.update(b)
    ref_s = time.perf_counter() - t
    want = h.hexdigest()
    env.client.clear()
    t0 = time.monotonic()
    res = env.cmd("media", {"image": name}, timeout=60)
    if res["status"] != "ok":
        raise RuntimeError(res)
    st = env.media_state(lambda m: m.get("sha256") == want, timeout=600,
                         what="sha256 of " + name)
    seen = None
    with env.client.lock:
        for m in env.client.msgs:
            if m["topic"].endswith("/state") and want.encode() in m["payload"]:
                seen = m["t"]
                break
    return {"size": size, "hash_ms": st.get("hash_ms"),
            "to_state_s": (seen or time.monotonic()) - t0,
            "ref_s": ref_s}


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    # Without TCP_NODELAY the broker's small writes wait for delayed ACKs
    # (about 40 ms each way), which would hide the agent's own latency.
    env = test_media.MediaEnv("bench1", broker_conf="set_tcp_nodelay true\n")
    try:
        env.wait_online()
        env.cmd("media", {"image": "disk.img"})
        to_lun, to_result = bench_switch(env, n)
        print("media switch, %d switches (cmd/media publish -> LUN file "
              "names the new image; polled every 100 us):" % n)
        print("  to LUN file: p50 %.2f ms  p99 %.2f ms  max %.2f ms"
              % (statistics.median(to_lun), pct(to_lun, 99), max(to_lun)))
        print("  to result:   p50 %.2f ms  p99 %.2f ms  max %.2f ms"
              % (statistics.median(to_result), pct(to_result, 99),
                 max(to_result)))
        base = bench_baseline(env, n)
        print("  baseline, cmd/refresh publish -> result (MQTT round trip "
              "only): p50 %.2f ms  p99 %.2f ms"
              % (statistics.median(base), pct(base, 99)))

        def real(path):
            with open(path, "wb") as f:
                for _ in range(256):
                    f.write(os.urandom(MIB))

        def sparse(path):
            test_media.sparse(path, 256 * MIB)

        for name, make in (("random256.img", real),
                           ("sparse256.img", sparse)):
            r = bench_hash(env, name, make)
            mb = r["size"] / 1e6
            print("background SHA-256 of %s (%d MiB): worker %s ms = %.0f "
                  "MB/s; insert -> sum in state %.2f s; hashlib (OpenSSL) "
                  "%.0f MB/s"
                  % (name, r["size"] // MIB, r["hash_ms"],
                     mb / (r["hash_ms"] / 1000.0) if r["hash_ms"] else 0,
                     r["to_state_s"], mb / r["ref_s"]))
        print("load average during the run: %s" % " ".join(
            open("/proc/loadavg").read().split()[:3]))
    finally:
        env.close()


if __name__ == "__main__":
    main()
