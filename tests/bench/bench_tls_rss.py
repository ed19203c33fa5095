#!/usr/bin/python3
"""Agent memory connected over plain TCP, TLS and TLS-PSK.

Run on demand (not a timed test):

    ZEROBMC=build/firmware/zerobmc /usr/bin/python3 tests/bench/bench_tls_rss.py \
        [--rounds 3] [--idle 10] [--big]

Method: one real mosquitto with a plain, a TLS, a mutual-TLS and a PSK
listener on loopback, certificates made with the openssl CLI. For each
mode the real agent starts, the script waits for its retained `online`,
lets it idle for --idle seconds, then reads VmRSS, RssAnon and VmHWM
(peak) from /proc/<pid>/status and stops it. Each mode runs --rounds
times; the median is printed. "TLS, system-sized store" points ca_file
at the system bundle with the test CA appended, so the agent parses as
many CA certificates as with the default store; the agent frees the
store after the handshake, which VmHWM against VmRSS shows.
"""
import argparse
import os
import statistics
import sys
import tempfile
import shutil
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import tlspki  # noqa: E402
import zbtest  # noqa: E402

SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt"


def status_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, val = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = int(val.split()[0])
    return out


def mbedtls_build_facts():
    facts = {}
    path = "/usr/include/mbedtls/config.h"
    try:
        text = open(path).read()
    except OSError:
        return facts
    for name in ("MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH",
                 "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH",
                 "MBEDTLS_SSL_IN_CONTENT_LEN", "MBEDTLS_SSL_OUT_CONTENT_LEN"):
        on = f"\n#define {name}" in text
        facts[name] = "on" if on else "off (default 16384)" \
            if "CONTENT_LEN" in name else "on" if on else "off"
    return facts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--idle", type=float, default=10.0)
    ap.add_argument("--big", action="store_true",
                    help="send each agent one 60 KB command before the "
                    "idle period, so full-size TLS records pass")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="zbbench-tls-")
    pki = tlspki.Pki(tmp)
    tls_port, mtls_port, psk_port = (zbtest.free_port() for _ in range(3))
    bundle = os.path.join(tmp, "bundle.crt")
    n_system = 0
    with open(bundle, "w") as out:
        if os.path.exists(SYSTEM_CA):
            text = open(SYSTEM_CA).read()
            n_system = text.count("BEGIN CERTIFICATE")
            out.write(text)
        out.write(open(pki.path("ca.crt")).read())
    broker = zbtest.Broker(tmp, pki.listener(tls_port)
                           + pki.listener(mtls_port, require_certificate=True)
                           + pki.psk_listener(psk_port)).start()
    client = zbtest.Client(broker.port)
    client.subscribe("zerobmc/+/status")

    modes = [
        ("plain TCP", {"uri": f"tcp://127.0.0.1:{broker.port}"}),
        ("TLS, 1-cert ca_file", {"uri": f"mqtts://127.0.0.1:{tls_port}",
                                 "ca_file": pki.path("ca.crt")}),
        (f"TLS, system-sized store ({n_system + 1} CAs)",
         {"uri": f"mqtts://127.0.0.1:{tls_port}", "ca_file": bundle}),
        ("mutual TLS", {"uri": f"mqtts://127.0.0.1:{mtls_port}",
                        "ca_file": pki.path("ca.crt"),
                        "cert_file": pki.path("client.crt"),
                        "key_file": pki.path("client.key")}),
        ("TLS-PSK", {"uri": f"mqtts://127.0.0.1:{psk_port}",
                     "psk_identity": pki.PSK_IDENTITY,
                     "psk_file": pki.path("agent.psk")}),
    ]
    results = {}
    try:
        for rnd in range(args.rounds):
            for i, (name, mqtt) in enumerate(modes):
                aid = f"rss{i}r{rnd}"
                agent = zbtest.Agent(tmp, broker.port, aid, sections={
                    "agent": {"groups": "bench", "log_level": "info"},
                    "mqtt": mqtt})
                agent.start()
                try:
                    client.wait(lambda m, a=aid: m["topic"] ==
                                f"zerobmc/{a}/status" and
                                m["payload"] == b"online", 15, name)
                    if args.big:
                        client.c.publish(f"zerobmc/{aid}/cmd/refresh",
                                         '{"pad":"' + "x" * 60000 + '"}',
                                         qos=1)
                    time.sleep(args.idle)
                    results.setdefault(name, []).append(
                        status_kib(agent.proc.pid))
                finally:
                    agent.stop()
                    agent.logf.close()
                    agent.keyboard.close()
    finally:
        client.close()
        broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"zerobmc agent memory after {args.idle:g} s idle and connected"
          f"{' (one 60 KB command first)' if args.big else ''}, "
          f"median of {args.rounds} run(s), KiB")
    print(f"{'mode':40} {'VmRSS':>7} {'RssAnon':>8} {'RssFile':>8} "
          f"{'VmHWM':>7} {'vs TCP':>7}")
    base = None
    for name, _ in modes:
        runs = results.get(name, [])
        if not runs:
            continue
        med = {k: int(statistics.median(r[k] for r in runs))
               for k in runs[0]}
        if base is None:
            base = med["VmRSS"]
        print(f"{name:40} {med['VmRSS']:7} {med['RssAnon']:8} "
              f"{med['RssFile']:8} {med['VmHWM']:7} "
              f"{med['VmRSS'] - base:+7}")
    print("mbedTLS build (Debian 2.28):",
          ", ".join(f"{k}={v}" for k, v in mbedtls_build_facts().items()))
    print("method: real mosquitto on loopback, /proc/<pid>/status after "
          "the idle period; see this script's docstring")


if __name__ == "__main__":
    main()
