#!/usr/bin/python3
"""URL download benchmark: the real agent, a real mosquitto, a python
http.server on 127.0.0.1 (a thread of this script) serving SIZE MiB of
random bytes, a plain folder standing in for the LUN, the images folder
in a temporary folder on the machine's disk.

For each of RUNS downloads of cmd/media {"url", "sha256"}: the agent's own
figure (the result's "ms": from the command's start to the rename, before
the insert) and the time from publish to the result give MB/s; the same
URL read by Python's urllib into hashlib.sha256 (same server, same
loopback) is the reference. The agent's peak resident memory (VmHWM in
/proc/PID/status) before the first and after the last download shows
that the stream is not held in memory. The media worker runs at nice 19
and idle I/O priority, so a busy machine slows it down on purpose.

Run: /usr/bin/python3 tests/bench/bench_media_url.py [size_mib] [runs]
(ZEROBMC or ZB_BUILD names the binary.)
"""
import hashlib
import http.server
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import zbtest  # noqa: E402

MIB = 1 << 20


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    data = os.urandom(size * MIB)
    want = hashlib.sha256(data).hexdigest()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}/img/"
    root = tempfile.mkdtemp(prefix="zbbenchurl-")
    images, lun = zbtest.media_dirs(root)
    env = zbtest.Env("bu1", sections={"media": {
        "dir": images, "lun": lun, "url_allow": base,
        "state_file": os.path.join(root, "media.state")}})
    try:
        env.wait_online()
        pid = env.agent.proc.pid
        hwm0 = vm_hwm_kib(pid)
        agent_ms, wall_ms, ref_ms = [], [], []
        for i in range(runs):
            t0 = time.perf_counter()
            with urllib.request.urlopen(base + "ref.img") as r:
                h = hashlib.sha256()
                while True:
                    chunk = r.read(MIB)
                    if not chunk:
                        break
                    h.update(chunk)
            ref_ms.append((time.perf_counter() - t0) * 1000)
            assert h.hexdigest() == want
            name = f"run{i}.img"
            cid = f"b{i}-{time.monotonic_ns()}"
            t0 = time.perf_counter()
            env.client.publish(f"zerobmc/{env.id}/cmd/media", json.dumps(
                {"url": base + name, "sha256": want, "mode": "disk",
                 "id": cid}))
            m = env.client.wait(zbtest.result_for(env.id, cid), 600,
                                "download result")
            wall_ms.append((time.perf_counter() - t0) * 1000)
            res = json.loads(m["payload"])
            assert res["status"] == "ok", res
            agent_ms.append(res["ms"])
            env.cmd("media", {"image": "eject"})
            os.unlink(os.path.join(images, name))
        hwm1 = vm_hwm_kib(pid)
    finally:
        env.close()
        srv.shutdown()
        srv.server_close()
        shutil.rmtree(root, ignore_errors=True)

    def mbps(ms):
        return size * MIB / 1e6 / (ms / 1000)

    print(f"URL download of {size} MiB over loopback, {runs} runs "
          f"(median; MB = 10^6 bytes)")
    print(f"  agent (result ms, fetch + SHA-256 + fsync + rename): "
          f"{statistics.median(agent_ms):.0f} ms = "
          f"{mbps(statistics.median(agent_ms)):.0f} MB/s")
    print(f"  publish to result (adds the insert and MQTT): "
          f"{statistics.median(wall_ms):.0f} ms")
    print(f"  reference (urllib + hashlib, no disk): "
          f"{statistics.median(ref_ms):.0f} ms = "
          f"{mbps(statistics.median(ref_ms)):.0f} MB/s")
    print(f"  agent peak RSS (VmHWM): {hwm0 / 1024:.1f} MiB before, "
          f"{hwm1 / 1024:.1f} MiB after")


if __name__ == "__main__":
    main()
