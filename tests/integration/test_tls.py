"""TLS to the broker: real mosquitto TLS and PSK listeners on loopback,
certificates made at test time with the openssl CLI, the real agent."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import tlspki  # noqa: E402
import zbtest  # noqa: E402

PKI = None
PKI_TMP = None


def setUpModule():
    global PKI, PKI_TMP
    PKI_TMP = tempfile.mkdtemp(prefix="zbtls-")
    PKI = tlspki.Pki(PKI_TMP)


def tearDownModule():
    shutil.rmtree(PKI_TMP, ignore_errors=True)


def online(agent_id):
    return lambda m: (m["topic"] == f"zerobmc/{agent_id}/status"
                      and m["payload"] == b"online")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def listening_ports(pid):
    """Loopback TCP ports a process listens on, from /proc."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = []
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:
                ports.append(int(cols[1].split(":")[1], 16))
    return ports


class Recorder:
    """A plain TCP listener that records the first bytes of every
    connection and hangs up: it stands in for a broker to prove what the
    agent sends on the wire."""

    def __init__(self, hold=False):
        self.hold = hold  # keep connections open, never answering
        self.held = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.first = []
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            conn.settimeout(2)
            data = b""
            try:
                while len(data) < 16:
                    chunk = conn.recv(64)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            self.first.append(data)
            if self.hold:
                self.held.append(conn)
            else:
                conn.close()

    def close(self):
        self.stopping = True
        self.thread.join()
        for conn in self.held:
            conn.close()
        self.sock.close()


class TlsCase(unittest.TestCase):
    """One broker with a plain listener for the test client and the TLS
    listeners given; the agent goes to the TLS port in mqtt."""

    def start(self, agent_id, listeners, mqtt, wait=True):
        self.env = zbtest.Env(agent_id, broker_conf=listeners, sections={
            "agent": {"groups": "tls"}, "mqtt": mqtt})
        if wait:
            self.env.wait_online()
        return self.env

    def tearDown(self):
        env = getattr(self, "env", None)
        if env:
            env.close()

    def assert_never_online(self, env, seconds=4.0):
        with self.assertRaises(TimeoutError):
            env.client.wait(online(env.id), seconds, "status online")
        self.assertTrue(env.agent.alive(), env.agent.log_text())

    def wait_log(self, agent, text, timeout=8.0):
        end = time.time() + timeout
        while time.time() < end:
            if text in agent.log_text():
                return
            time.sleep(0.1)
        self.fail(f"'{text}' not in the log:\n{agent.log_text()}")


class Certificates(TlsCase):
    def test_verified_connect_command_and_result(self):
        port = zbtest.free_port()
        env = self.start("tls1", PKI.listener(port), {
            "uri": f"mqtts://127.0.0.1:{port}",
            "ca_file": PKI.path("ca.crt")})
        res = env.cmd("key", {"keys": "ctrl+alt+delete"})
        self.assertEqual(res["status"], "ok", res)
        reps = env.agent.keyboard.reports(until_idle=0.3)
        self.assertTrue([r for r in reps if r[2] == 0x4c], reps)
        st = env.client.wait(zbtest.topic_is("zerobmc/tls1/state"), 5)
        self.assertEqual(json.loads(st["payload"])["mqtt"]["transport"],
                         "tls")
        # 60 KB cross several TLS records and wrap the relay's 16 KiB
        # buffer: the command must arrive whole, whatever its result.
        res = env.cmd("refresh", {"pad": "x" * 60000}, timeout=15)
        self.assertIn("status", res)
        # A burst: every result comes back through the relay.
        ids = []
        for i in range(100):
            cid = f"burst-{i}"
            ids.append(cid)
            env.client.c.publish("zerobmc/tls1/cmd/refresh",
                                 json.dumps({"id": cid}), qos=1)
        for cid in ids:
            env.client.wait(zbtest.result_for("tls1", cid), 15, cid)
        res = env.cmd("key", {"keys": "a"})
        self.assertEqual(res["status"], "ok", res)

    def test_dns_name_and_server_name_override(self):
        port = zbtest.free_port()
        listeners = PKI.listener(port, cert="otherhost")
        env = self.start("tls2", listeners, {
            "uri": f"mqtts://127.0.0.1:{port}",
            "ca_file": PKI.path("ca.crt"),
            "tls_server_name": "broker.example.net"})
        self.assertEqual(env.cmd("key", {"keys": "b"})["status"], "ok")

    def test_localhost_by_dns_name(self):
        port = zbtest.free_port()
        self.start("tls3", PKI.listener(port), {
            "uri": f"mqtts://localhost:{port}",
            "ca_file": PKI.path("ca.crt")})

    def test_wrong_ca_never_online_and_no_spin(self):
        port = zbtest.free_port()
        env = self.start("tls4", PKI.listener(port), {
            "uri": f"mqtts://127.0.0.1:{port}",
            "ca_file": PKI.path("other-ca.crt")}, wait=False)
        self.assert_never_online(env, 6.0)
        log = env.agent.log_text()
        self.assertIn("certificate verify failed: The certificate is not "
                      "correctly signed by the trusted CA", log)
        # Retries follow the backoff (1 s, 2 s, 4 s...): a few, no spin.
        tries = log.count("certificate verify failed")
        self.assertGreaterEqual(tries, 2, log)
        self.assertLessEqual(tries, 5 * 2, log)
        used = cpu_seconds(env.agent.proc.pid)
        print(f"agent CPU after 6 s of refused handshakes: {used:.2f} s")
        self.assertLess(used, 1.0)

    def test_hostname_mismatch_refused(self):
        port = zbtest.free_port()
        env = self.start("tls5", PKI.listener(port, cert="otherhost"), {
            "uri": f"mqtts://127.0.0.1:{port}",
            "ca_file": PKI.path("ca.crt")}, wait=False)
        self.assert_never_online(env)
        self.assertIn("hostname mismatch: certificate is for "
                      "broker.example.net, not 127.0.0.1",
                      env.agent.log_text())

    def test_dns_name_only_for_an_address_is_a_mismatch(self):
        # The override names a host the certificate does not carry.
        port = zbtest.free_port()
        env = self.start("tls6", PKI.listener(port), {
            "uri": f"mqtts://127.0.0.1:{port}",
            "ca_file": PKI.path("ca.crt"),
            "tls_server_name": "broker.example.net"}, wait=False)
        self.assert_never_online(env)
        self.assertIn("hostname mismatch: certificate is for 127.0.0.1, "
                      "localhost, not broker.example.net",
                      env.agent.log_text())

    def test_expired_certificate_refused(self):
        port = zbtest.free_port()
        env = self.start("tls7", PKI.listener(port, cert="expired"), {
            "uri": f"mqtts://127.0.0.1:{port}",
            "ca_file": PKI.path("ca.crt")}, wait=False)
        self.assert_never_online(env)
        self.assertIn("certificate verify failed: The certificate validity "
                      "has expired", env.agent.log_text())

    def test_broker_restart_survived(self):
        port = zbtest.free_port()
        env = self.start("tls8", PKI.listener(port), {
            "uri": f"mqtts://127.0.0.1:{port}",
            "ca_file": PKI.path("ca.crt")})
        env.client.close()
        env.broker.stop()
        time.sleep(1.0)
        env.broker.start()
        zbtest.wait_port(port)
        back = time.monotonic()
        env.client = zbtest.Client(env.broker.port)
        env.client.subscribe("zerobmc/tls8/#")
        env.wait_online(timeout=35)
        took = time.monotonic() - back
        print(f"online again over TLS {took:.2f} s after the broker "
              "came back")
        self.assertLess(took, 5.0)
        self.assertEqual(env.cmd("key", {"keys": "a"})["status"], "ok")

    def test_stopped_broker_detected_within_two_keepalives(self):
        port = zbtest.free_port()
        env = self.start("tls9", PKI.listener(port), {
            "uri": f"mqtts://127.0.0.1:{port}",
            "ca_file": PKI.path("ca.crt"), "keepalive": "5"})
        time.sleep(0.5)
        mark = len(env.agent.log_text())
        os.kill(env.broker.proc.pid, signal.SIGSTOP)
        t0 = time.monotonic()
        try:
            needle = f"broker 127.0.0.1:{port}:"
            while time.monotonic() - t0 < 20:
                if needle in env.agent.log_text()[mark:]:
                    break
                time.sleep(0.1)
            took = time.monotonic() - t0
        finally:
            os.kill(env.broker.proc.pid, signal.SIGCONT)
        line = [ln for ln in env.agent.log_text()[mark:].splitlines()
                if needle in ln]
        print(f"silent broker noticed after {took:.1f} s (keepalive 5 s): "
              f"{line[:1]}")
        self.assertTrue(line, env.agent.log_text())
        self.assertLessEqual(took, 10.0)
        env.wait_online(timeout=30)


class MutualTls(TlsCase):
    def test_client_certificate_accepted_and_required(self):
        port = zbtest.free_port()
        env = self.start("mtls1", PKI.listener(port, require_certificate=True),
                         {"uri": f"mqtts://127.0.0.1:{port}",
                          "ca_file": PKI.path("ca.crt"),
                          "cert_file": PKI.path("client.crt"),
                          "key_file": PKI.path("client.key")})
        self.assertEqual(env.cmd("key", {"keys": "c"})["status"], "ok")
        # A second agent without a certificate is turned away.
        bare = zbtest.Agent(env.tmp, env.broker.port, "mtls2", sections={
            "agent": {"groups": "tls"},
            "mqtt": {"uri": f"mqtts://127.0.0.1:{port}",
                     "ca_file": PKI.path("ca.crt")}})
        env.client.subscribe("zerobmc/mtls2/#")
        bare.start()
        try:
            with self.assertRaises(TimeoutError):
                env.client.wait(online("mtls2"), 4.0)
            self.wait_log(bare, "the broker requires a client certificate")
        finally:
            bare.stop()
            bare.logf.close()
            bare.keyboard.close()

    def test_encrypted_key_rejected_at_start(self):
        tmp = tempfile.mkdtemp(prefix="zbtls-")
        try:
            a = zbtest.Agent(tmp, 1, "mtls3", sections={"mqtt": {
                "uri": "mqtts://127.0.0.1:1",
                "ca_file": PKI.path("ca.crt"),
                "cert_file": PKI.path("client.crt"),
                "key_file": PKI.path("client-encrypted.key")}}).start()
            rc = a.proc.wait(10)
            self.assertNotEqual(rc, 0)
            self.assertIn(f"key_file {PKI.path('client-encrypted.key')} is "
                          "encrypted", a.log_text())
            a.logf.close()
            a.keyboard.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class Psk(TlsCase):
    def test_right_key_accepted(self):
        port = zbtest.free_port()
        env = self.start("psk1", PKI.psk_listener(port), {
            "uri": f"mqtts://127.0.0.1:{port}",
            "psk_identity": PKI.PSK_IDENTITY,
            "psk_file": PKI.path("agent.psk")})
        self.assertEqual(env.cmd("key", {"keys": "d"})["status"], "ok")

    def test_wrong_key_refused(self):
        port = zbtest.free_port()
        env = self.start("psk2", PKI.psk_listener(port), {
            "uri": f"mqtts://127.0.0.1:{port}",
            "psk_identity": PKI.PSK_IDENTITY,
            "psk_file": PKI.path("wrong.psk")}, wait=False)
        self.assert_never_online(env)
        self.assertIn("PSK rejected by the broker", env.agent.log_text())

    def test_unknown_identity_refused(self):
        port = zbtest.free_port()
        env = self.start("psk3", PKI.psk_listener(port), {
            "uri": f"mqtts://127.0.0.1:{port}",
            "psk_identity": "stranger",
            "psk_file": PKI.path("agent.psk")}, wait=False)
        self.assert_never_online(env)
        self.assertIn("PSK rejected by the broker", env.agent.log_text())

    def test_bad_psk_file_rejected_at_start(self):
        tmp = tempfile.mkdtemp(prefix="zbtls-")
        try:
            bad = os.path.join(tmp, "bad.psk")
            with open(bad, "w") as f:
                f.write(f"{PKI.PSK_IDENTITY}:{PKI.PSK_KEY}\n")
            os.chmod(bad, 0o600)
            a = zbtest.Agent(tmp, 1, "psk4", sections={"mqtt": {
                "uri": "mqtts://127.0.0.1:1", "psk_identity": "x",
                "psk_file": bad}}).start()
            self.assertNotEqual(a.proc.wait(10), 0)
            self.assertIn(f"psk_file {bad}: 'z' at offset 0 is not a hex "
                          "digit", a.log_text())
            a.logf.close()
            a.keyboard.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class NeverInClear(unittest.TestCase):
    def test_only_tls_reaches_the_wire(self):
        rec = Recorder()
        tmp = tempfile.mkdtemp(prefix="zbtls-")
        a = zbtest.Agent(tmp, rec.port, "clear1", sections={
            "agent": {"groups": "tls"},
            "mqtt": {"uri": f"mqtts://127.0.0.1:{rec.port}",
                     "ca_file": PKI.path("ca.crt")}})
        try:
            a.start()
            end = time.time() + 10
            while time.time() < end and len(rec.first) < 3:
                time.sleep(0.1)
            self.assertTrue(a.alive(), a.log_text())
        finally:
            a.stop()
            rec.close()
            a.logf.close()
            a.keyboard.close()
            shutil.rmtree(tmp, ignore_errors=True)
        print("first bytes per connection:",
              [r[:6].hex() for r in rec.first])
        self.assertGreaterEqual(len(rec.first), 2)
        for first in rec.first:
            # A TLS handshake record (0x16, version 3.x), never an MQTT
            # CONNECT (0x10).
            self.assertEqual(first[:2], b"\x16\x03", first)
            self.assertNotEqual(first[:1], b"\x10")

    def silent_agent(self, aid):
        """A started agent whose broker accepts TCP and never answers the
        ClientHello; cleaned up at the end of the test."""
        rec = Recorder(hold=True)
        tmp = tempfile.mkdtemp(prefix="zbtls-")
        a = zbtest.Agent(tmp, rec.port, aid, sections={
            "agent": {"groups": "tls"},
            "mqtt": {"uri": f"mqtts://127.0.0.1:{rec.port}",
                     "ca_file": PKI.path("ca.crt")}})

        def cleanup():
            a.stop()
            rec.close()
            a.logf.close()
            a.keyboard.close()
            shutil.rmtree(tmp, ignore_errors=True)
        a.start()
        self.addCleanup(cleanup)
        return rec, a

    def test_silent_broker_handshake_times_out(self):
        rec, a = self.silent_agent("clear2")
        # Paho's connect timeout (10 s) ends the wait.
        end = time.time() + 20
        while time.time() < end and "did not finish the TLS " \
                "handshake in time" not in a.log_text():
            time.sleep(0.2)
        log = a.log_text()
        self.assertIn("did not finish the TLS handshake in time", log)
        self.assertEqual(rec.first[0][:2], b"\x16\x03")

    def test_stop_during_handshake(self):
        """The handshake runs on a thread of its own: SIGTERM while it
        waits for a silent broker ends the agent at once and cleanly
        (exit 0; under ASan, no leak and no thread left)."""
        rec, a = self.silent_agent("clear3")
        end = time.time() + 10
        while time.time() < end and not rec.first:
            time.sleep(0.05)
        self.assertTrue(rec.first, "no ClientHello")
        t0 = time.time()
        rc = a.stop(timeout=8)
        took = time.time() - t0
        log = a.log_text()
        self.assertEqual(rc, 0, log)
        # The stop waits at most 1 s for the broker; generous bound.
        self.assertLess(took, 6, log)

    def run_check(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".conf",
                                         delete=False) as f:
            f.write(text)
        try:
            p = subprocess.run([zbtest.ZEROBMC, "-n", "-c", f.name],
                               capture_output=True, text=True)
            return p.returncode, p.stdout + p.stderr
        finally:
            os.unlink(f.name)

    def test_tls_settings_with_a_plain_uri_refused(self):
        rc, out = self.run_check("[agent]\nid = a\n[mqtt]\n"
                                 "uri = tcp://127.0.0.1:1883\n"
                                 f"ca_file = {PKI.path('ca.crt')}\n")
        self.assertNotEqual(rc, 0)
        self.assertIn("refusing to connect in clear", out)

    def test_psk_with_certificates_refused(self):
        rc, out = self.run_check("[agent]\nid = a\n[mqtt]\n"
                                 "uri = mqtts://127.0.0.1:8883\n"
                                 f"ca_file = {PKI.path('ca.crt')}\n"
                                 "psk_identity = a\n"
                                 f"psk_file = {PKI.path('agent.psk')}\n")
        self.assertNotEqual(rc, 0)
        self.assertIn("TLS-PSK uses no certificates", out)


class LocalEndpoint(TlsCase):
    def test_stranger_refused(self):
        port = zbtest.free_port()
        env = self.start("loc1", PKI.listener(port), {
            "uri": f"mqtts://127.0.0.1:{port}",
            "ca_file": PKI.path("ca.crt")})
        ports = listening_ports(env.agent.proc.pid)
        self.assertEqual(len(ports), 1, ports)
        s = socket.create_connection(("127.0.0.1", ports[0]), 2)
        s.settimeout(3)
        # An MQTT CONNECT, as a stranger would send it.
        try:
            s.sendall(bytes.fromhex("101000044d5154540402003c0004746573"
                                    "74"))
            got = s.recv(64)
        except ConnectionResetError:
            got = b""
        finally:
            s.close()
        self.assertEqual(got, b"")
        self.wait_log(env.agent, "from another process was refused")
        # The agent's own session is untouched.
        self.assertEqual(env.cmd("key", {"keys": "e"})["status"], "ok")

    def test_local_endpoint_on_loopback_only(self):
        port = zbtest.free_port()
        env = self.start("loc2", PKI.listener(port), {
            "uri": f"mqtts://127.0.0.1:{port}",
            "ca_file": PKI.path("ca.crt")})
        inodes = set()
        pid = env.agent.proc.pid
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
        listening = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if cols[3] == "0A" and cols[9] in inodes:
                        listening.append(cols[1].split(":")[0])
        self.assertEqual(listening, ["0100007F"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
