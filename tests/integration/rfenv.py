"""Shared set-up for the Redfish gateway's tests and benchmark.

Everything is real: one mosquitto, real agents (the fake-GPIO build when
power pins are wired: a plain file stands in for the chip and
"<chip>.led" for the power LED; a folder stands in for the configfs LUN),
and the real zerobmc-redfish on a free loopback port.
"""
import base64
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402

REDFISH = os.environ.get("ZEROBMC_REDFISH") or os.path.join(
    os.environ.get("ZB_BUILD", "build"), "redfish", "zerobmc-redfish")
PASSWORDS = {"admin": "s3cret-admin", "bob": "bob-pass"}


def crypt_hash(password):
    """A SHA-512 crypt(3) hash, made by openssl as an admin would."""
    return subprocess.run(["openssl", "passwd", "-6", "-stdin"],
                          input=password, capture_output=True, text=True,
                          check=True).stdout.strip()


def sparse(path, size):
    with open(path, "wb") as f:
        f.truncate(size)


class RedfishEnv:
    """A broker, agents and the gateway; torn down in reverse order."""

    def __init__(self, agents=("s1",), tls=False, wired=True,
                 extra_redfish=None, bob_sees="other*", media_extra=None):
        self.tmp = tempfile.mkdtemp(prefix="zbrf-")
        self.broker = zbtest.Broker(self.tmp).start()
        self.agents = {}
        self.chips = {}
        self.luns = {}
        self.images = {}
        for aid in agents:
            self.add_agent(aid, wired, (media_extra or {}).get(aid))
        self.users = os.path.join(self.tmp, "redfish.users")
        with open(self.users, "w") as f:
            f.write("# name:crypt-hash:systems\n")
            f.write(f"admin:{crypt_hash(PASSWORDS['admin'])}:*\n")
            f.write(f"bob:{crypt_hash(PASSWORDS['bob'])}:{bob_sees}\n")
        self.port = zbtest.free_port()
        self.tls = tls
        self.conf = os.path.join(self.tmp, "redfish.conf")
        self.state_dir = os.path.join(self.tmp, "rfstate")
        red = {"listen": "127.0.0.1", "port": str(self.port),
               "tls": "true" if tls else "false",
               "users_file": self.users, "timeout_s": "10",
               "state_dir": self.state_dir, "log_level": "debug",
               "cert_file": os.path.join(self.tmp, "rf.crt"),
               "key_file": os.path.join(self.tmp, "rf.key")}
        red.update(extra_redfish or {})
        with open(self.conf, "w") as f:
            f.write(f"[mqtt]\nuri = tcp://127.0.0.1:{self.broker.port}\n"
                    "keepalive = 5\n[redfish]\n")
            for k, v in red.items():
                f.write(f"{k} = {v}\n")
        if tls:
            subprocess.run([REDFISH, "-c", self.conf, "--make-cert"],
                           check=True, capture_output=True)
        self.log = os.path.join(self.tmp, "redfish.log")
        self.gw = None
        self.start_gateway()

    def add_agent(self, aid, wired=True, media_extra=None):
        root = os.path.join(self.tmp, aid)
        images, lun = zbtest.media_dirs(root)
        sparse(os.path.join(images, "debian-12.iso"), 1 << 20)
        sections = {"media": {"dir": images, "lun": lun,
                              "state_file": os.path.join(root, "m.state")}}
        sections["media"].update(media_extra or {})
        if wired:
            chip = os.path.join(root, "gpiochip")
            open(chip, "w").close()
            self.chips[aid] = chip
            sections["power"] = {
                "gpio_chip": chip, "power_line": "17", "reset_line": "27",
                "power_led_line": "22", "short_press_ms": "50",
                "long_press_ms": "1000", "cycle_wait_ms": "0"}
        a = zbtest.Agent(self.tmp, self.broker.port, aid, sections=sections)
        a.start()
        self.agents[aid] = a
        self.luns[aid] = lun
        self.images[aid] = images
        return a

    def start_gateway(self):
        self.logf = open(self.log, "ab")
        self.gw = subprocess.Popen([REDFISH, "-c", self.conf],
                                   stdout=self.logf, stderr=self.logf)
        zbtest.wait_port(self.port)

    def stop_gateway(self):
        if self.gw and self.gw.poll() is None:
            self.gw.terminate()
            try:
                return self.gw.wait(10)
            except subprocess.TimeoutExpired:
                self.gw.kill()
                return self.gw.wait()
        return self.gw.returncode if self.gw else None

    def url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def conn(self):
        if self.tls:
            ctx = ssl.create_default_context(
                cafile=os.path.join(self.tmp, "rf.crt"))
            return http.client.HTTPSConnection("127.0.0.1", self.port,
                                               context=ctx, timeout=30)
        return http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=30)

    def request(self, method, path, body=None, user="admin", headers=None,
                conn=None):
        """(status, headers dict, parsed JSON or None)."""
        h = dict(headers or {})
        if user:
            cred = f"{user}:{PASSWORDS.get(user, 'wrong')}".encode()
            h["Authorization"] = "Basic " + base64.b64encode(cred).decode()
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            h["Content-Type"] = "application/json"
        c = conn or self.conn()
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
        if conn is None:
            c.close()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        return r.status, hdrs, json.loads(raw) if raw else None

    def system(self, aid, user="admin"):
        return self.request("GET", f"/redfish/v1/Systems/{aid}", user=user)

    def wait(self, pred, timeout=20.0, what="condition"):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            v = pred()
            if v:
                return v
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    def wait_systems(self, ids, timeout=10.0):
        def ok():
            for i in ids:
                st, _, b = self.system(i)
                if st != 200 or b["Status"]["State"] != "Enabled":
                    return False
            return True
        return self.wait(ok, timeout, f"systems {ids} online")

    def set_led(self, aid, lit):
        # Only real changes: three edges within 5 s read as blinking.
        if getattr(self, "_leds", {}).get(aid) == lit:
            return
        self._leds = dict(getattr(self, "_leds", {}), **{aid: lit})
        with open(self.chips[aid] + ".led", "w") as f:
            f.write("1\n" if lit else "0\n")

    def gpio_sets(self, aid):
        out = []
        try:
            with open(self.chips[aid]) as f:
                for line in f:
                    t, name, kind, value = line.split()
                    if kind == "set":
                        out.append((name, int(value)))
        except FileNotFoundError:
            pass
        return out

    def lun(self, aid, name="file"):
        with open(os.path.join(self.luns[aid], name)) as f:
            return f.read().strip()

    def gw_log(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def close(self):
        self.stop_gateway()
        for a in self.agents.values():
            a.stop()
            a.keyboard.close()
        self.broker.stop()
        if os.environ.get("ZB_KEEP_TMP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


class Files:
    """A loopback HTTP server for URL downloads, serving a folder."""

    def __init__(self, root):
        import functools
        import http.server
        import threading
        handler = functools.partial(Quiet, directory=root)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever,
                         daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _quiet_handler():
    import http.server

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    return QuietHandler


Quiet = _quiet_handler()


class Stand:
    """A system with no agent behind it: the test publishes its retained
    status and state and answers its commands itself (or not at all), so
    the gateway's mapping and its error paths can be checked exactly."""

    def __init__(self, env, sid, state=None):
        import paho.mqtt.client as paho
        from paho.mqtt.packettypes import PacketTypes
        self.paho, self.PacketTypes = paho, PacketTypes
        self.env, self.id = env, sid
        self.answer = {"status": "ok"}  # None: never answer
        self.client = zbtest.Client(env.broker.port)
        self.client.c.on_message = self._on_cmd
        self.cmds = []
        self.client.subscribe(f"zerobmc/{sid}/cmd/#")
        st = state or {"power": {"state": "off", "wired": {
            "power": True, "reset": True, "led": True}}}
        self.client.publish(f"zerobmc/{sid}/state", json.dumps(st),
                            retain=True)
        self.client.publish(f"zerobmc/{sid}/status", "online", retain=True)

    def _on_cmd(self, client, userdata, msg):
        p = msg.properties
        body = json.loads(msg.payload)
        self.cmds.append({"topic": msg.topic, "payload": body,
                          "response_topic": getattr(p, "ResponseTopic", None),
                          "correlation": getattr(p, "CorrelationData", None)})
        if self.answer is None:
            return
        res = dict(self.answer, id=body.get("id"),
                   cmd=msg.topic.rsplit("/", 1)[1])
        props = self.paho.Properties(self.PacketTypes.PUBLISH)
        props.CorrelationData = p.CorrelationData
        client.publish(p.ResponseTopic, json.dumps(res), qos=1,
                       properties=props)

    def close(self):
        self.client.publish(f"zerobmc/{self.id}/status", "", retain=True)
        self.client.publish(f"zerobmc/{self.id}/state", "", retain=True)
        self.client.close()


class IpmiSim:
    """One ipmi_sim (Debian's openipmi) for one server, on a free UDP
    port, whose chassis_control program is the gateway's IPMI hook."""

    def __init__(self, env, sid, password="ipmi-pass"):
        self.dir = os.path.join(env.tmp, f"ipmi-{sid}")
        os.makedirs(self.dir)
        self.port = zbtest.free_port()
        self.password = password
        hook = f"{os.path.abspath(REDFISH)} -c {env.conf} --ipmi-hook {sid}"
        conf = os.path.join(self.dir, "lan.conf")
        with open(conf, "w") as f:
            f.write(f'name "{sid}"\n'
                    "set_working_mc 0x20\n"
                    "  startlan 1\n"
                    f"    addr 127.0.0.1 {self.port}\n"
                    "    priv_limit admin\n"
                    "    allowed_auths_admin md5\n"
                    "    guid a123456789abcdefa123456789abcdef\n"
                    "  endlan\n"
                    f'  chassis_control "{hook}"\n'
                    f'  user 2 true "admin" "{password}" admin 10 md5\n')
        emu = os.path.join(self.dir, "sim.emu")
        with open(emu, "w") as f:
            f.write("mc_setbmc 0x20\n"
                    "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 "
                    "0xf02 persist_sdr\n"
                    "mc_enable 0x20\n")
        self.log = open(os.path.join(self.dir, "log"), "wb")
        self.proc = subprocess.Popen(
            ["ipmi_sim", "-c", conf, "-f", emu, "-n", "-s", self.dir],
            stdout=self.log, stderr=subprocess.STDOUT)

    def ipmitool(self, *args):
        r = subprocess.run(
            ["ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1",
             "-p", str(self.port), "-U", "admin", "-P", self.password,
             "-R", "3", "-N", "1"] + list(args),
            capture_output=True, text=True, timeout=30)
        return r.returncode, r.stdout + r.stderr

    def close(self):
        self.proc.terminate()
        self.proc.wait(5)
        self.log.close()
