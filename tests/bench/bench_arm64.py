#!/usr/bin/python3
"""Footprint of the arm64 agent (the Raspberry Pi Zero 2 W's build).

Benchmark output, not a test. Run on demand after scripts/cross arm64:

    /usr/bin/python3 tests/bench/bench_arm64.py [--arm64 build-arm64]
        [--armel build-armel] [--native build] [--rounds 5] [--idle 10]
        [--no-lab]

Reports:
- size: the agent stripped with the target's strip (aarch64-linux-gnu-
  strip; armel and x86_64 beside it when those builds are given), its
  text/data/bss, and the shared libraries it loads on the target.
- arm64 lab (an arm64 qemu "Pi", Cortex-A53, Debian's arm64 kernel; no
  server VM): a real mosquitto on the host with a TLS listener (a CA and a
  server certificate for 10.0.2.2, the host as qemu's user network shows
  it, made with the openssl CLI) and a plain one. The agent connects over
  TLS; after --idle seconds online, VmRSS, RssAnon, RssFile and VmHWM come
  from /proc/<pid>/status inside the Pi; the same over plain TCP. Then
  exec-to-online: `lab-agent start` in the Pi until the retained `online`
  reaches a host client, --rounds times, median and range (host clock: it
  includes the Pi shell's round trip of a few ms). TCG emulates the
  Cortex-A53, so times are those of an emulated CPU, not of a Pi.
- qemu-user: exec to `online` of the arm64 agent under qemu-aarch64 on
  this machine (and of the native agent when --native is given), against
  the same broker, plain TCP and TLS.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))
sys.path.insert(0, os.path.join(SOURCE, "tests", "lab"))
import zbtest  # noqa: E402

HOST_FROM_PI = "10.0.2.2"  # the host's loopback, seen from the Pi VM
TOOLS = {"arm64": "aarch64-linux-gnu", "armel": "arm-linux-gnueabi",
         "x86_64": ""}


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_pki(d):
    """A CA and a broker certificate for 10.0.2.2 and 127.0.0.1."""
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-out", "ca.key", cwd=d)
    openssl("req", "-x509", "-key", "ca.key", "-out", "ca.crt", "-days",
            "2", "-subj", "/CN=zerobmc bench CA", "-addext",
            "basicConstraints=critical,CA:TRUE", "-addext",
            "keyUsage=critical,keyCertSign", cwd=d)
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-out", "broker.key", cwd=d)
    with open(os.path.join(d, "broker.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:%s,IP:127.0.0.1\n" % HOST_FROM_PI)
    openssl("req", "-new", "-key", "broker.key", "-out", "broker.csr",
            "-subj", "/CN=zerobmc bench broker", cwd=d)
    openssl("x509", "-req", "-in", "broker.csr", "-CA", "ca.crt", "-CAkey",
            "ca.key", "-CAcreateserial", "-out", "broker.crt", "-days", "2",
            "-extfile", "broker.ext", cwd=d)


def tls_listener(port, d):
    return ("listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n"
            % (port, os.path.join(d, "ca.crt"), os.path.join(d, "broker.crt"),
               os.path.join(d, "broker.key")))


def median_range(xs):
    return "%.2f s (%.2f-%.2f, n=%d)" % (statistics.median(xs), min(xs),
                                         max(xs), len(xs))


# --- size -------------------------------------------------------------------

def sizes(builds):
    print("== size of the agent (stripped with the target's strip)")
    print("%-8s %10s %10s %8s %8s %8s  %s" % (
        "arch", "unstripped", "stripped", "text", "data", "bss",
        "shared libraries"))
    for arch, build in builds:
        exe = os.path.join(build, "firmware", "zerobmc")
        if not os.path.exists(exe):
            continue
        pre = TOOLS[arch] + "-" if TOOLS[arch] else ""
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "zerobmc")
            subprocess.run([pre + "strip", "-o", out, exe], check=True)
            stripped = os.path.getsize(out)
        size = subprocess.run([pre + "size", exe], capture_output=True,
                              text=True, check=True).stdout.splitlines()[1]
        text, data, bss = size.split()[:3]
        dyn = subprocess.run([pre + "readelf", "-d", exe],
                             capture_output=True, text=True).stdout
        libs = re.findall(r"\(NEEDED\).*\[(.+)\]", dyn)
        print("%-8s %10d %10d %8s %8s %8s  %d: %s" % (
            arch, os.path.getsize(exe), stripped, text, data, bss,
            len(libs), " ".join(libs)))


# --- the arm64 lab ------------------------------------------------------------

def status_kib(lab):
    out = lab.pi_shell("cat /proc/$(cat /run/zerobmc.pid)/status")
    vals = {}
    for line in out.splitlines():
        key, _, val = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"):
            vals[key] = int(val.split()[0])
    return vals


def restart_agent(lab, conf):
    """A new configuration, then exec to online on the host's clock."""
    with open(os.path.join(lab.share, "zerobmc.conf"), "w") as f:
        f.write(conf)
    lab.pi_shell("lab-agent stop; cp /lab/zerobmc.conf "
                 "/etc/zerobmc/zerobmc.conf")
    c = lab.mqtt()
    c.clear()
    t0 = time.monotonic()
    lab.pi_shell("lab-agent start")
    m = c.wait(lambda m: m["topic"] == "zerobmc/lab/status"
               and m["payload"] == b"online", 120, "online")
    return m["t"] - t0


def lab_bench(exe, rounds, idle, tmp):
    import lab as labmod
    run = os.path.join(tmp, "lab")
    lab = labmod.Lab(run)
    lab.own()
    tls_port = zbtest.free_port()
    broker = zbtest.Broker(tmp, tls_listener(tls_port, tmp)).start()
    shutil.copy(os.path.join(tmp, "ca.crt"), os.path.join(lab.share,
                                                          "ca.crt"))
    lab.state["broker_port"] = broker.port
    lab.save()
    tls = {"mqtt": {"uri": "mqtts://%s:%d" % (HOST_FROM_PI, tls_port),
                    "ca_file": "/lab/ca.crt"},
           "agent": {"log_level": "info"}}
    tcp = {"agent": {"log_level": "info"}}
    res = {}
    try:
        t0 = time.time()
        lab.start_pi(sections=tls, zerobmc=exe, arch="arm64")
        lab.wait_online(180)
        res["boot"] = (lab.state["times"]["pi_boot_s"], time.time() - t0)
        # The first TLS connection after boot needs random numbers: the
        # kernel's note of when its generator was ready tells the wait.
        res["crng"] = lab.pi_shell("dmesg | grep -i 'crng init' || true")
        log("arm64 Pi up, agent online over TLS")
        mem = lab.pi_shell("cat /proc/meminfo")
        res["meminfo"] = {k: int(v) for k, v in re.findall(
            r"^(MemTotal|MemAvailable):\s+(\d+)", mem, re.M)}
        for name, sections in (("TLS", tls), ("plain TCP", tcp)):
            conf = lab.agent_config(sections)
            starts = [restart_agent(lab, conf) for _ in range(rounds)]
            time.sleep(idle)
            res[name] = {"start": starts, "status": status_kib(lab)}
            log("%s: %s" % (name, res[name]))
        res["uname"] = lab.pi_shell("uname -m -r").strip()
    finally:
        lab.stop()
        broker.stop()
    return res


def print_lab(res, idle):
    print("\n== arm64 lab (qemu-system-aarch64 -cpu cortex-a53, TCG), %s"
          % res["uname"])
    print("Pi boot to ready %.1f s; agent online (first start, TLS) %.1f s "
          "after qemu started" % res["boot"])
    if res["crng"].strip():
        print("Pi kernel: %s" % res["crng"].strip())
    mi = res["meminfo"]
    print("Pi VM memory: %d MiB total, %d MiB available with the agent "
          "running" % (mi["MemTotal"] // 1024, mi["MemAvailable"] // 1024))
    print("%-10s %7s %8s %8s %8s %7s  %s" % (
        "transport", "VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM",
        "exec to online (restart)"))
    for name in ("TLS", "plain TCP"):
        r = res[name]
        st = r["status"]
        print("%-10s %7d %8d %8d %8d %7d  %s" % (
            name, st["VmRSS"], st["RssAnon"], st["RssFile"],
            st.get("RssShmem", 0), st["VmHWM"], median_range(r["start"])))
    print("(KiB, after %g s idle and connected; no server VM attached. The "
          "Pi's root is the initramfs, so the program and libraries it maps "
          "count as RssShmem; on a Pi's SD card they are RssFile.)" % idle)


# --- qemu-user ------------------------------------------------------------------

def user_starts(exe, wrapper, rounds, tmp, tls_port, broker):
    out = {}
    for name, mqtt in (("plain TCP", {}),
                       ("TLS", {"uri": "mqtts://127.0.0.1:%d" % tls_port,
                                "ca_file": os.path.join(tmp, "ca.crt")})):
        times = []
        for i in range(rounds):
            aid = "bench%d" % i
            client = zbtest.Client(broker.port)
            client.subscribe("zerobmc/%s/status" % aid)
            agent = zbtest.Agent(tmp, broker.port, aid, sections={
                "agent": {"log_level": "info"}, "mqtt": mqtt})
            cmd = wrapper + [exe, "-c", agent.conf]
            logf = open(agent.log, "ab")
            t0 = time.monotonic()
            p = subprocess.Popen(cmd, stdout=logf, stderr=logf)
            try:
                m = client.wait(lambda m, a=aid: m["topic"] ==
                                "zerobmc/%s/status" % a and
                                m["payload"] == b"online", 60, "online")
                times.append(m["t"] - t0)
            finally:
                p.terminate()
                p.wait(10)
                logf.close()
                agent.keyboard.close()
                client.close()
        out[name] = times
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arm64", default=os.environ.get(
        "ZB_BUILD_ARM64", os.path.join(SOURCE, "build-arm64")))
    ap.add_argument("--armel", help="armel build folder (size only)")
    ap.add_argument("--native", help="x86_64 build folder (reference)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--idle", type=float, default=10.0)
    ap.add_argument("--no-lab", action="store_true")
    args = ap.parse_args()
    exe = os.path.join(args.arm64, "firmware", "zerobmc")
    if not os.path.exists(exe):
        raise SystemExit("bench: no %s: run scripts/cross arm64" % exe)

    builds = [("arm64", args.arm64)]
    if args.armel:
        builds.append(("armel", args.armel))
    if args.native:
        builds.append(("x86_64", args.native))
    sizes(builds)

    tmp = tempfile.mkdtemp(prefix="zbbench-arm64-")
    try:
        make_pki(tmp)
        if not args.no_lab:
            print_lab(lab_bench(exe, args.rounds, args.idle, tmp), args.idle)
        tls_port = zbtest.free_port()
        broker = zbtest.Broker(tmp, tls_listener(tls_port, tmp)).start()
        try:
            qemu = shutil.which("qemu-aarch64-static") or "qemu-aarch64"
            runs = [("arm64 qemu-user", exe, [qemu, "-cpu", "cortex-a53"])]
            if args.native:
                runs.append(("x86_64 native", os.path.join(
                    args.native, "firmware", "zerobmc"), []))
            print("\n== exec to online on this machine (%d rounds)"
                  % args.rounds)
            for name, binary, wrapper in runs:
                r = user_starts(binary, wrapper, args.rounds, tmp, tls_port,
                                broker)
                for mode, times in r.items():
                    print("%-16s %-10s %s" % (name, mode,
                                              median_range(times)))
        finally:
            broker.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
