"""Certificates for the TLS tests, made at test time with the openssl CLI.

A CA, a server certificate for 127.0.0.1 and localhost, a certificate
for another host name, an expired one, a client certificate (plain and
with an encrypted key), a second CA that signed none of them, and PSK
files. Also the mosquitto listener lines that use them.
"""
import os
import subprocess

OPENSSL = "openssl"


def _run(*args, cwd):
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class Pki:
    PSK_IDENTITY = "zb-agent"
    PSK_KEY = "00112233445566778899aabbccddeeff0123456789abcdef"
    PSK_WRONG = "ffeeddccbbaa99887766554433221100fedcba9876543210"

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "pki")
        os.makedirs(self.dir, exist_ok=True)
        d = self.dir
        self._key("ca.key")
        _run("req", "-x509", "-key", "ca.key", "-out", "ca.crt", "-days",
             "30", "-subj", "/CN=zerobmc test CA", "-addext",
             "basicConstraints=critical,CA:TRUE", "-addext",
             "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
        self._key("other-ca.key")
        _run("req", "-x509", "-key", "other-ca.key", "-out", "other-ca.crt",
             "-days", "30", "-subj", "/CN=another CA", "-addext",
             "basicConstraints=critical,CA:TRUE", cwd=d)
        self._key("server.key")
        self._sign("server", "server.key", "/CN=zerobmc test broker",
                   "IP:127.0.0.1,DNS:localhost", "serverAuth")
        self._sign("otherhost", "server.key", "/CN=broker.example.net",
                   "DNS:broker.example.net", "serverAuth")
        self._expired("expired", "server.key", "IP:127.0.0.1,DNS:localhost")
        self._key("client.key")
        self._sign("client", "client.key", "/CN=zerobmc agent", None,
                   "clientAuth")
        _run("pkey", "-in", "client.key", "-aes256", "-passout",
             "pass:secret", "-out", "client-encrypted.key", cwd=d)
        with open(self.path("broker.psk"), "w") as f:
            f.write(f"{self.PSK_IDENTITY}:{self.PSK_KEY}\n")
        with open(self.path("agent.psk"), "w") as f:
            f.write(self.PSK_KEY + "\n")
        with open(self.path("wrong.psk"), "w") as f:
            f.write(self.PSK_WRONG + "\n")
        for name in os.listdir(d):
            if name.endswith((".key", ".psk")):
                os.chmod(self.path(name), 0o600)

    def path(self, name):
        return os.path.join(self.dir, name)

    def _key(self, name):
        _run("genpkey", "-algorithm", "EC", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-out", name, cwd=self.dir)

    def _ext(self, name, san, eku):
        lines = ["basicConstraints=CA:FALSE",
                 "keyUsage=critical,digitalSignature,keyAgreement",
                 f"extendedKeyUsage={eku}"]
        if san:
            lines.append(f"subjectAltName={san}")
        p = self.path(name + ".ext")
        with open(p, "w") as f:
            f.write("\n".join(lines) + "\n")
        return p

    def _sign(self, name, key, subj, san, eku):
        _run("req", "-new", "-key", key, "-out", name + ".csr", "-subj",
             subj, cwd=self.dir)
        _run("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey",
             "ca.key", "-CAcreateserial", "-out", name + ".crt", "-days",
             "30", "-extfile", self._ext(name, san, eku), cwd=self.dir)

    def _expired(self, name, key, san):
        """`openssl ca` is the CLI tool that sets dates in the past."""
        d = self.dir
        os.makedirs(self.path("ca-db"), exist_ok=True)
        open(self.path("ca-db/index.txt"), "w").close()
        with open(self.path("ca-db/serial"), "w") as f:
            f.write("1000\n")
        with open(self.path("ca.cnf"), "w") as f:
            f.write(f"""[ca]
default_ca = zb
[zb]
dir = {d}
database = $dir/ca-db/index.txt
serial = $dir/ca-db/serial
new_certs_dir = $dir/ca-db
certificate = $dir/ca.crt
private_key = $dir/ca.key
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
""")
        _run("req", "-new", "-key", key, "-out", name + ".csr", "-subj",
             "/CN=zerobmc expired broker", cwd=d)
        _run("ca", "-batch", "-config", "ca.cnf", "-in", name + ".csr",
             "-out", name + ".crt", "-startdate", "20200101000000Z",
             "-enddate", "20200201000000Z", "-extfile",
             self._ext(name, san, "serverAuth"), "-notext", cwd=d)

    def listener(self, port, cert="server", require_certificate=False):
        """mosquitto lines for a certificate listener on loopback."""
        return (f"listener {port} 127.0.0.1\n"
                f"cafile {self.path('ca.crt')}\n"
                f"certfile {self.path(cert + '.crt')}\n"
                f"keyfile {self.path('server.key')}\n"
                f"require_certificate {str(require_certificate).lower()}\n")

    def psk_listener(self, port):
        """mosquitto lines for a PSK listener on loopback."""
        return (f"listener {port} 127.0.0.1\n"
                "psk_hint zerobmc\n"
                f"psk_file {self.path('broker.psk')}\n")
