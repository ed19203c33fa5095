"""cmd/media {"url"}: virtual media downloaded from a URL by the real agent.

A python http.server on 127.0.0.1 (in a thread of the test) serves the
images; a plain folder stands in for the LUN; the images folder is a small
tmpfs (the test runs as root and mounts it) so that a full folder is real.
One broker, one agent and one HTTP server serve the whole suite.
"""
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402

IMAGE = bytes((i * 7 + (i >> 11)) & 0xff for i in range(2 << 20))
TMPFS_MB = 16
BIG = 64 << 20  # more than the tmpfs holds
STALL_S = 2     # [media] url_timeout_s of the agent


class Handler(http.server.BaseHTTPRequestHandler):
    """/img/NAME: the image; /chunked/big.iso: BIG bytes without a
    Content-Length; /img/big.iso: a Content-Length of BIG; /slow/NAME:
    4 KiB every 0.1 s; /stall/NAME: 64 KiB then nothing; /redir/in and
    /redir/out: 302 to an allowed and to a refused place."""
    protocol_version = "HTTP/1.0"
    stop = threading.Event()

    def log_message(self, *args):
        pass

    def head(self, code, length=None, extra=()):
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        if length is not None:
            self.send_header("Content-Length", str(length))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()

    def do_GET(self):
        p = self.path
        port = self.server.server_address[1]
        try:
            if p == "/img/big.iso":
                self.head(200, BIG)
                self.wfile.write(b"\0" * (1 << 20))
            elif p.startswith("/img/"):
                self.head(200, len(IMAGE))
                self.wfile.write(IMAGE)
            elif p == "/chunked/big.iso":
                self.head(200)
                block = b"\0" * (1 << 20)
                for _ in range(BIG >> 20):
                    self.wfile.write(block)
            elif p.startswith("/slow/"):
                self.head(200, len(IMAGE))
                for off in range(0, len(IMAGE), 4096):
                    if self.stop.wait(0.1):
                        break
                    self.wfile.write(IMAGE[off:off + 4096])
            elif p.startswith("/stall/"):
                self.head(200, len(IMAGE))
                self.wfile.write(IMAGE[:65536])
                self.wfile.flush()
                self.stop.wait(30)
            elif p == "/redir/in":
                self.head(302, 0, [("Location", "/img/redirected.iso")])
            elif p == "/redir/out":
                self.head(302, 0, [("Location",
                                    f"http://127.0.0.1:{port}/secret/x.iso")])
            elif p == "/redir/loop":
                self.head(302, 0, [("Location", "/redir/loop")])
            else:
                self.head(404, 0)
        except (BrokenPipeError, ConnectionResetError):
            pass


class MediaUrlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="zbmediaurl-")
        cls.images = os.path.join(cls.root, "images")
        cls.lun = os.path.join(cls.root, "lun")
        os.makedirs(cls.images)
        os.makedirs(cls.lun)
        cls.tmpfs = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m", "tmpfs",
             cls.images], capture_output=True).returncode == 0
        for name, value in (("file", ""), ("ro", "0\n"), ("cdrom", "0\n"),
                            ("forced_eject", "")):
            with open(os.path.join(cls.lun, name), "w") as f:
                f.write(value)
        Handler.stop.clear()
        cls.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        cls.http.daemon_threads = True
        threading.Thread(target=cls.http.serve_forever, daemon=True).start()
        cls.base = f"http://127.0.0.1:{cls.http.server_address[1]}"
        allow = " ".join(f"{cls.base}/{p}/" for p in
                         ("img", "chunked", "slow", "stall", "redir"))
        cls.env = zbtest.Env("mu1", sections={"media": {
            "dir": cls.images, "lun": cls.lun,
            "state_file": os.path.join(cls.root, "media.state"),
            "url_allow": allow, "url_timeout_s": str(STALL_S)}})
        cls.env.wait_online()

    @classmethod
    def tearDownClass(cls):
        Handler.stop.set()
        cls.env.close()
        cls.http.shutdown()
        cls.http.server_close()
        if cls.tmpfs:
            subprocess.run(["umount", cls.images])
        shutil.rmtree(cls.root, ignore_errors=True)

    def setUp(self):
        self.assertTrue(self.env.agent.alive())
        self.env.client.clear()  # a test sees only its own messages

    def tearDown(self):
        self.assertTrue(self.env.agent.alive(), self.env.agent.log_text())
        for name in os.listdir(self.images):
            if name != "lost+found" and name != self.lunv("file").split(
                    "/")[-1]:
                os.unlink(os.path.join(self.images, name))

    # ---- helpers ----

    def lunv(self, name):
        with open(os.path.join(self.lun, name)) as f:
            return f.read().strip()

    def send(self, payload):
        """Publish cmd/media; return its id (the result comes later)."""
        self.env.seq += 1
        cid = f"u{self.env.seq}-{time.monotonic_ns()}"
        self.env.client.publish(f"zerobmc/{self.env.id}/cmd/media",
                                json.dumps(dict(payload, id=cid)))
        return cid

    def result(self, cid, timeout=20):
        m = self.env.client.wait(zbtest.result_for(self.env.id, cid),
                                 timeout, "result of media")
        return json.loads(m["payload"])

    def media(self, payload, timeout=20):
        return self.result(self.send(payload), timeout)

    def download_state(self, pred, timeout=10):
        topic = f"zerobmc/{self.env.id}/state"

        def match(m):
            if m["topic"] != topic:
                return False
            d = (json.loads(m["payload"]).get("media") or {}).get("download")
            return bool(d) and pred(d)
        m = self.env.client.wait(match, timeout, "state.media.download")
        return json.loads(m["payload"])["media"]["download"]

    def leftovers(self):
        return sorted(n for n in os.listdir(self.images)
                      if n.endswith(".partial"))

    def assert_refused(self, payload, *words):
        r = self.media(payload)
        self.assertIn(r["status"], ("error", "busy"), r)
        for w in words:
            self.assertIn(w, r.get("error", ""), r)
        return r

    # ---- the tests ----

    def test_served_and_inserted(self):
        want = hashlib.sha256(IMAGE).hexdigest()
        r = self.media({"url": f"{self.base}/img/boot.iso"})
        self.assertEqual(r["status"], "ok", r)
        self.assertEqual(r["image"], "boot.iso")
        self.assertEqual(r["sha256"], want)
        self.assertEqual(r["bytes"], len(IMAGE))
        self.assertEqual(r["mode"], "cdrom")
        self.assertTrue(r["readonly"])
        lun_file = self.lunv("file")
        self.assertEqual(lun_file, os.path.join(
            os.path.realpath(self.images), "boot.iso"))
        self.assertEqual(self.lunv("cdrom"), "1")
        with open(lun_file, "rb") as f:
            self.assertEqual(f.read(), IMAGE)
        self.assertEqual(self.leftovers(), [])
        # The sum computed while streaming is the state's: no second read.
        st = self.env.client.wait(
            lambda m: m["topic"] == f"zerobmc/{self.env.id}/state" and
            (json.loads(m["payload"]).get("media") or {}).get("image") ==
            "boot.iso", 10, "state.media with boot.iso")
        self.assertEqual(json.loads(st["payload"])["media"]["sha256"], want)
        self.assertNotIn("download", json.loads(st["payload"])["media"])

    def test_sha256_given_and_name_chosen(self):
        want = hashlib.sha256(IMAGE).hexdigest()
        r = self.media({"url": f"{self.base}/img/whatever", "image":
                        "chosen.img", "sha256": want.upper(),
                        "mode": "disk"})
        self.assertEqual(r["status"], "ok", r)
        self.assertEqual(r["image"], "chosen.img")
        self.assertEqual(self.lunv("cdrom"), "0")
        with open(os.path.join(self.images, "chosen.img"), "rb") as f:
            self.assertEqual(f.read(), IMAGE)

    def test_bad_sha256_refused(self):
        before = self.lunv("file")
        r = self.assert_refused({"url": f"{self.base}/img/bad.iso",
                                 "sha256": "0" * 64}, "SHA-256 mismatch")
        self.assertIn(hashlib.sha256(IMAGE).hexdigest(), r["error"])
        self.assertFalse(os.path.exists(os.path.join(self.images,
                                                     "bad.iso")))
        self.assertEqual(self.leftovers(), [])
        self.assertEqual(self.lunv("file"), before)

    def test_prefix_outside_allow_list(self):
        port = self.http.server_address[1]
        for url in (f"{self.base}/secret/x.iso",
                    f"{self.base}/img-other/x.iso",
                    f"{self.base}/imgx.iso",
                    f"http://127.0.0.2:{port}/img/x.iso",
                    f"https://127.0.0.1:{port}/img/x.iso"):
            with self.subTest(url=url):
                self.assert_refused({"url": url}, "outside the allowed")
        self.assert_refused({"url": f"{self.base}/redir/out"},
                            "redirected to a refused URL", "/secret/x.iso")
        self.assert_refused({"url": f"{self.base}/redir/loop",
                             "image": "loop.iso"}, "redirects")
        self.assertEqual(self.leftovers(), [])

    def test_redirect_inside_allow_list(self):
        r = self.media({"url": f"{self.base}/redir/in", "image": "r.iso"})
        self.assertEqual(r["status"], "ok", r)
        with open(os.path.join(self.images, "r.iso"), "rb") as f:
            self.assertEqual(f.read(), IMAGE)

    def test_hostile_urls(self):
        b = self.base
        hp = b[len("http://"):]
        cases = [
            ({"url": f"http://user:pw@{hp}/img/a.iso"}, "user name"),
            ({"url": f"http://user@{hp}/img/a.iso"}, "user name"),
            ({"url": "file:///etc/passwd"}, "only http and https"),
            ({"url": f"ftp://{hp}/img/a.iso"}, "only http and https"),
            ({"url": "gopher://127.0.0.1/"}, "only http and https"),
            ({"url": f"{b}/img/a.iso\r\nX-Evil: 1"}, "byte 0x0d"),
            ({"url": f"{b}/img/a.iso\nX"}, "byte 0x0a"),
            ({"url": f"{b}/img/a b.iso"}, "byte 0x20"),
            ({"url": f"{b}/img/caf\u00e9.iso"}, "byte 0xc3"),
            ({"url": f"{b}/img/" + "a" * 3000 + ".iso"}, "more than 2048"),
            ({"url": f"{b}/img/%2e%2e/secret/x.iso"}, "%2e"),
            ({"url": f"{b}/img/..%2Fsecret"}, "%2f"),
            ({"url": f"{b}/img\\..\\secret"}, "0x5c"),
            ({"url": "/img/a.iso"}, "does not parse"),
            ({"url": ""}, "empty"),
            ({"url": 42}, "\"url\" must be a string"),
            ({"url": f"{b}/img/"}, "give \"image\""),
            ({"url": f"{b}/img/a%01b.iso"}, "image"),
            ({"url": f"{b}/img/a.iso", "image": "../x.iso"}, "slash"),
            ({"url": f"{b}/img/a.iso", "image": "x" * 250}, ".partial"),
            ({"url": f"{b}/img/a.iso", "sha256": "zz"}, "64 hexadecimal"),
            ({"url": f"{b}/img/a.iso", "sha256": 7}, "\"sha256\" must be"),
            ({"url": f"{b}/img/a.iso", "mode": "tape"}, "\"mode\""),
            ({"url": f"{b}/img/a.iso", "readonly": False}, "read-only"),
            ({"url": f"{b}/img/a.img", "readonly": False}, "allow_writable"),
            ({"url": f"{b}/img/a.iso", "bogus": 1}, "bogus"),
            ({"cancel": "yes"}, "\"cancel\" must be true"),
            ({"cancel": True}, "no download is running"),
        ]
        for payload, word in cases:
            with self.subTest(payload=str(payload)[:80]):
                self.assert_refused(payload, word)
        self.assertEqual(os.listdir(self.images), [] if not self.lunv(
            "file") else [os.path.basename(self.lunv("file"))])

    @unittest.skipUnless(os.geteuid() == 0, "mounting a tmpfs needs root")
    def test_no_space(self):
        self.assertTrue(self.tmpfs, "the tmpfs images folder is not mounted")
        r = self.assert_refused({"url": f"{self.base}/img/big.iso"},
                                f"needs {BIG} bytes", "free")
        self.assertEqual(r["bytes"], 0)
        r = self.assert_refused({"url": f"{self.base}/chunked/big.iso"},
                                "needs at least", "free")
        self.assertGreater(r["bytes"], 0)
        self.assertEqual(self.leftovers(), [])
        self.assertFalse(os.path.exists(os.path.join(self.images, "big.iso")))
        # A .partial is not an image: the Home Assistant select never
        # offers one, even while it grows.
        with self.env.client.lock:
            states = [json.loads(m["payload"]) for m in self.env.client.msgs
                      if m["topic"] == f"zerobmc/{self.env.id}/state"]
        self.assertTrue(states)
        for st in states:
            for img in (st.get("media") or {}).get("images", []):
                self.assertFalse(img["name"].endswith(".partial"), st)
        # The room is back: an image that fits still comes in.
        r = self.media({"url": f"{self.base}/img/after.iso"})
        self.assertEqual(r["status"], "ok", r)

    def test_cancel_mid_download(self):
        url = f"{self.base}/slow/slow.iso"
        cid = self.send({"url": url})
        d = self.download_state(lambda d: d["bytes"] > 0 and
                                d["url"] == url)
        self.assertEqual(d["image"], "slow.iso")
        self.assertEqual(d["total"], len(IMAGE))
        self.assertIn("slow.iso.partial", os.listdir(self.images))
        # Another insert waits for the download's end: busy.
        self.assert_refused({"image": "slow.iso"}, "cancel")
        r = self.media({"cancel": True})
        self.assertEqual(r["status"], "ok", r)
        self.assertEqual(r["cancelled"], url)
        r = self.result(cid)
        self.assertEqual(r["status"], "cancelled", r)
        self.assertEqual(self.leftovers(), [])
        self.assertFalse(os.path.exists(os.path.join(self.images,
                                                     "slow.iso")))
        # An eject stops a download too.
        self.env.client.clear()
        cid = self.send({"url": url})
        self.download_state(lambda d: d["bytes"] > 0)
        r = self.media({"image": "eject"})
        self.assertEqual(r["status"], "ok", r)
        self.assertEqual(self.result(cid)["status"], "cancelled")
        self.assertEqual(self.leftovers(), [])

    def test_stalled_server_times_out(self):
        t0 = time.monotonic()
        r = self.assert_refused({"url": f"{self.base}/stall/stall.iso"},
                                "stalled")
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, STALL_S - 0.5)
        self.assertLess(took, STALL_S + 8)
        self.assertEqual(r["bytes"], 65536)
        self.assertEqual(self.leftovers(), [])

    def test_zz_sigterm_answers_cancelled(self):
        """Last: stops the agent while a download runs."""
        cid = self.send({"url": f"{self.base}/slow/term.iso"})
        self.download_state(lambda d: d["bytes"] > 0)
        self.env.agent.stop()
        self.assertEqual(self.env.agent.proc.returncode, 0,
                         self.env.agent.log_text()[-2000:])
        r = self.result(cid, timeout=5)
        self.assertEqual(r["status"], "cancelled", r)
        self.assertEqual(self.leftovers(), [])
        self.env.agent.start()  # tearDown checks it is alive
        self.env.wait_online()


if __name__ == "__main__":
    unittest.main()
