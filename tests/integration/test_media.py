"""Virtual media through the real agent and a real broker.

A plain folder stands in for the LUN (files file, ro, cdrom, forced_eject,
as the configfs LUN folder has them); another folder holds the images.
"""
import hashlib
import json
import os
import shutil
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import zbtest  # noqa: E402

CD_BLOCK = 2048
CD_MAX_BLOCKS = 256 * 60 * 75 - 1


def sparse(path, size):
    with open(path, "wb") as f:
        f.truncate(size)


class MediaEnv(zbtest.Env):
    """An Env whose agent has an images folder and a stand-in LUN."""

    def __init__(self, agent_id, allow_writable=False, broker_conf=""):
        self.root = tempfile.mkdtemp(prefix="zbmedia-")
        images, self.lun = zbtest.media_dirs(self.root)
        self.images = os.path.realpath(images)
        self.state_file = os.path.join(self.root, "media.state")
        sparse(os.path.join(self.images, "debian-12.iso"), 700 << 20)
        sparse(os.path.join(self.images, "disk.img"), 64 << 20)
        super().__init__(agent_id, sections={"media": {
            "dir": self.images, "lun": self.lun,
            "state_file": self.state_file,
            "allow_writable": "true" if allow_writable else "false"}},
            broker_conf=broker_conf)

    def close(self):
        super().close()
        if not os.environ.get("ZB_KEEP_TMP"):
            shutil.rmtree(self.root, ignore_errors=True)

    def lunv(self, name):
        with open(os.path.join(self.lun, name)) as f:
            return f.read().strip()

    def lun_all(self):
        return {k: self.lunv(k) for k in ("file", "ro", "cdrom",
                                           "forced_eject")}

    def media_state(self, pred, timeout=10, what="state.media"):
        """The newest state whose media section satisfies pred."""
        m = self.client.wait(zbtest.state_of(self.id, "media", pred), timeout,
                             what)
        return json.loads(m["payload"])["media"]

    def path(self, name):
        return os.path.join(self.images, name)


class Media(unittest.TestCase):
    def setUp(self):
        self.env = MediaEnv("media1")
        try:
            self.env.wait_online()
        except BaseException:
            self.env.close()
            raise

    def tearDown(self):
        self.env.close()

    def test_insert_iso_as_cdrom(self):
        res = self.env.cmd("media", {"image": "debian-12.iso"})
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(res["mode"], "cdrom")
        self.assertTrue(res["readonly"])
        self.assertEqual(res["size"], 700 << 20)
        self.assertEqual(self.env.lunv("file"), self.env.path("debian-12.iso"))
        self.assertEqual(self.env.lunv("cdrom"), "1")
        self.assertEqual(self.env.lunv("ro"), "1")
        st = self.env.media_state(lambda m: m.get("image") == "debian-12.iso")
        self.assertEqual(st["mode"], "cdrom")
        self.assertTrue(st["readonly"])

    def test_plain_payload_img_is_a_disk(self):
        self.env.client.publish("zerobmc/media1/cmd/media", "disk.img")
        self.env.client.wait(
            lambda m: m["topic"] == "zerobmc/media1/result"
            and json.loads(m["payload"]).get("status") == "ok", 5)
        self.assertEqual(self.env.lunv("file"), self.env.path("disk.img"))
        self.assertEqual(self.env.lunv("cdrom"), "0")
        self.assertEqual(self.env.lunv("ro"), "1")

    def test_mode_override_and_cdrom_always_readonly(self):
        res = self.env.cmd("media", {"image": "debian-12.iso",
                                     "mode": "disk"})
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(self.env.lunv("cdrom"), "0")
        before = self.env.lun_all()
        res = self.env.cmd("media", {"image": "debian-12.iso",
                                     "mode": "cdrom", "readonly": False})
        self.assertEqual(res["status"], "error")
        self.assertIn("always read-only", res["error"])
        self.assertEqual(self.env.lun_all(), before)
        res = self.env.cmd("media", {"image": "disk.img", "mode": "floppy"})
        self.assertEqual(res["status"], "error")
        self.assertIn("cdrom", res["error"])

    def test_writable_refused_unless_allowed(self):
        self.env.cmd("media", {"image": "debian-12.iso"})
        before = self.env.lun_all()
        res = self.env.cmd("media", {"image": "disk.img", "readonly": False})
        self.assertEqual(res["status"], "error", res)
        self.assertIn("allow_writable", res["error"])
        self.assertEqual(self.env.lun_all(), before)

    def test_eject_plain_json_and_empty(self):
        for eject in ("eject", "", {"image": "eject"}):
            res = self.env.cmd("media", {"image": "disk.img"})
            self.assertEqual(res["status"], "ok", res)
            self.assertNotEqual(self.env.lunv("file"), "")
            if isinstance(eject, dict):
                res = self.env.cmd("media", eject)
                self.assertEqual(res["status"], "ok", res)
                self.assertIsNone(res["image"])
            else:
                self.env.client.clear()
                self.env.client.publish("zerobmc/media1/cmd/media", eject)
                self.env.media_state(lambda m: m.get("image") is None)
            self.assertEqual(self.env.lunv("file"), "")

    def test_hostile_names_name_the_rule_and_keep_the_lun(self):
        img = self.env.images
        os.symlink("/etc/passwd", os.path.join(img, "passwd.iso"))
        os.symlink("debian-12.iso", os.path.join(img, "alias.iso"))
        os.mkfifo(os.path.join(img, "fifo.iso"))
        os.mkdir(os.path.join(img, "folder.iso"))
        sparse(os.path.join(self.env.root, "outside.iso"), 1 << 20)
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(os.path.join(img, "sock.img"))
        cases = [
            ("../outside.iso", "slash"), ("/etc/passwd", "slash"),
            (".hidden", "dot"), ("..", "dot"), ("a/b", "slash"),
            ("a\nb.iso", "control"), ("\x1b[2J.iso", "control"),
            ("x\u202egpj.iso", "invisible"), ("x" * 256, "length"),
            ("passwd.iso", "symlink"), ("alias.iso", "symlink"),
            ("fifo.iso", "fifo"), ("folder.iso", "directory"),
            ("sock.img", "socket"), ("nothing.iso", "missing"),
        ]
        res = self.env.cmd("media", {"image": "debian-12.iso"})
        self.assertEqual(res["status"], "ok", res)
        before = self.env.lun_all()
        for name, rule in cases:
            res = self.env.cmd("media", {"image": name})
            self.assertEqual(res["status"], "error", (name, res))
            self.assertIn(f"rule {rule}", res["error"], name)
            self.assertEqual(self.env.lun_all(), before, name)
        # Plain payloads go through the same rules.
        for name, rule in (("../outside.iso", "slash"), (".x", "dot")):
            self.env.client.clear()
            self.env.client.publish("zerobmc/media1/cmd/media", name)
            m = self.env.client.wait(
                lambda m: m["topic"] == "zerobmc/media1/result", 5)
            self.assertIn(f"rule {rule}", json.loads(m["payload"])["error"])
            self.assertEqual(self.env.lun_all(), before, name)
        # A NUL byte never gets past the payload parser.
        self.env.client.clear()
        self.env.client.publish("zerobmc/media1/cmd/media", b"a\x00/../x")
        m = self.env.client.wait(
            lambda m: m["topic"] == "zerobmc/media1/result", 5)
        self.assertEqual(json.loads(m["payload"])["status"], "error")
        self.assertEqual(self.env.lun_all(), before)

    def test_cdrom_size_limits(self):
        limit = (CD_MAX_BLOCKS + 1) * CD_BLOCK
        sparse(self.env.path("big.iso"), limit)
        sparse(self.env.path("edge.iso"), limit - 1)
        sparse(self.env.path("tiny.iso"), 300 * CD_BLOCK - 1)
        before = self.env.lun_all()
        res = self.env.cmd("media", {"image": "big.iso"})
        self.assertEqual(res["status"], "error", res)
        self.assertIn("disk mode", res["error"])
        self.assertIn('"mode":"disk"', res["error"])
        self.assertEqual(self.env.lun_all(), before)
        res = self.env.cmd("media", {"image": "tiny.iso"})
        self.assertEqual(res["status"], "error", res)
        self.assertEqual(self.env.lun_all(), before)
        res = self.env.cmd("media", {"image": "edge.iso"})
        self.assertEqual(res["status"], "ok", res)
        res = self.env.cmd("media", {"image": "big.iso", "mode": "disk"})
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(self.env.lunv("cdrom"), "0")

    def test_state_sha256_of_a_known_file(self):
        data = os.urandom(3 << 20) + b"zerobmc"
        with open(self.env.path("known.img"), "wb") as f:
            f.write(data)
        want = hashlib.sha256(data).hexdigest()
        self.env.client.clear()
        res = self.env.cmd("media", {"image": "known.img"})
        self.assertEqual(res["status"], "ok", res)
        st = self.env.media_state(lambda m: m.get("sha256") == want,
                                  what="sha256 in state")
        self.assertEqual(st["image"], "known.img")
        self.assertEqual(st["size"], len(data))
        self.assertEqual(st["mode"], "disk")
        # The agent's own hash is not taken for the server reading the
        # image (the timeline watches IN_ACCESS; the hash uses mmap) ...
        time.sleep(0.3)
        with self.env.client.lock:
            reads = [m for m in self.env.client.msgs
                     if m["topic"] == "zerobmc/media1/event"
                     and b'"source":"media"' in m["payload"]]
        self.assertEqual(reads, [])
        # ... while a real read of it is.
        with open(self.env.path("known.img"), "rb") as f:
            f.read(4096)
        self.env.client.wait(
            lambda m: m["topic"] == "zerobmc/media1/event"
            and b"read-start" in m["payload"], 10, "media read event")
        # Switching away and back uses the cache (name, size, mtime).
        self.env.cmd("media", {"image": "disk.img"})
        self.env.client.clear()
        self.env.cmd("media", {"image": "known.img"})
        st = self.env.media_state(lambda m: m.get("image") == "known.img")
        self.assertEqual(st["sha256"], want)
        self.assertNotIn("hash_progress", st)
        # The state file keeps the sum for the next start.
        with open(self.env.state_file) as f:
            self.assertIn(want, f.read())

    def test_folder_changes_update_the_list(self):
        st = self.env.media_state(lambda m: "images" in m)
        names = [i["name"] for i in st["images"]]
        self.assertEqual(names, ["debian-12.iso", "disk.img"])
        self.env.client.clear()
        with open(self.env.path("new.img"), "wb") as f:
            f.write(b"\0" * 4096)
        st = self.env.media_state(
            lambda m: "new.img" in [i["name"] for i in m.get("images", [])],
            what="new.img listed")
        self.assertIn({"name": "new.img", "size": 4096}, st["images"])
        # Hidden files and links are not images.
        self.env.client.clear()
        os.symlink("/etc/passwd", self.env.path("link.img"))
        sparse(self.env.path(".partial"), 1 << 20)
        os.rename(self.env.path("new.img"), self.env.path("renamed.img"))
        st = self.env.media_state(
            lambda m: "renamed.img" in [i["name"] for i in m["images"]],
            what="rename seen")
        self.assertEqual([i["name"] for i in st["images"]],
                         ["debian-12.iso", "disk.img", "renamed.img"])
        self.env.client.clear()
        os.unlink(self.env.path("renamed.img"))
        self.env.media_state(
            lambda m: "renamed.img" not in [i["name"] for i in m["images"]],
            what="delete seen")

    def test_inserted_image_removed_from_the_folder(self):
        res = self.env.cmd("media", {"image": "disk.img"})
        self.assertEqual(res["status"], "ok", res)
        self.env.client.clear()
        os.unlink(self.env.path("disk.img"))
        st = self.env.media_state(lambda m: m.get("removed") is True,
                                  what="removed flag")
        # The kernel keeps serving the open file; the state says so.
        self.assertEqual(st["image"], "disk.img")
        self.assertNotIn("disk.img", [i["name"] for i in st["images"]])

    def test_images_folder_appears_later(self):
        shutil.rmtree(self.env.images)
        self.env.client.clear()
        st = self.env.media_state(lambda m: "error" in m,
                                  what="folder error")
        self.assertEqual(st["images"], [])
        res = self.env.cmd("media", {"image": "disk.img"})
        self.assertEqual(res["status"], "error")
        self.assertIn("images folder", res["error"])
        os.makedirs(self.env.images)
        sparse(self.env.path("late.img"), 1 << 20)
        self.env.client.clear()
        self.env.media_state(
            lambda m: "error" not in m and
            [i["name"] for i in m["images"]] == ["late.img"],
            timeout=15, what="folder back")
        res = self.env.cmd("media", {"image": "late.img"})
        self.assertEqual(res["status"], "ok", res)

    def test_create_sparse_image(self):
        self.env.client.clear()
        res = self.env.cmd("media", {"create": "scratch.img", "size_mb": 512})
        self.assertEqual(res["status"], "ok", res)
        st = os.stat(self.env.path("scratch.img"))
        self.assertEqual(st.st_size, 512 << 20)
        self.assertLess(st.st_blocks * 512, 1 << 20)  # sparse
        self.env.media_state(
            lambda m: {"name": "scratch.img", "size": 512 << 20}
            in m.get("images", []), what="scratch.img listed")
        res = self.env.cmd("media", {"create": "scratch.img", "size_mb": 1})
        self.assertEqual(res["status"], "error")
        self.assertIn("exists", res["error"])
        self.assertEqual(os.stat(self.env.path("scratch.img")).st_size,
                         512 << 20)
        res = self.env.cmd("media", {"create": "../x.img", "size_mb": 1})
        self.assertIn("rule slash", res["error"])
        self.assertFalse(os.path.exists(os.path.join(self.env.root, "x.img")))
        res = self.env.cmd("media", {"create": "huge.img",
                                     "size_mb": 4 << 20})
        self.assertEqual(res["status"], "error")
        self.assertIn("free", res["error"])
        self.assertFalse(os.path.exists(self.env.path("huge.img")))
        res = self.env.cmd("media", {"create": "x.img", "size_mb": 0})
        self.assertIn("size_mb", res["error"])
        res = self.env.cmd("media", {"create": "y.img", "size_mb": 1,
                                     "image": "y.img"})
        self.assertEqual(res["status"], "error")
        # The new image can be inserted (read-only by default).
        res = self.env.cmd("media", {"image": "scratch.img"})
        self.assertEqual(res["status"], "ok", res)
        self.assertEqual(self.env.lunv("ro"), "1")

    def test_unknown_fields_refused(self):
        res = self.env.cmd("media", {"image": "disk.img", "bogus": 1})
        self.assertEqual(res["status"], "error")
        self.assertIn("bogus", res["error"])
        # "url" is known, but downloads are off without [media] url_allow.
        res = self.env.cmd("media", {"image": "disk.img", "url": "http://x"})
        self.assertEqual(res["status"], "error")
        self.assertIn("downloads are off", res["error"])
        self.assertIn("url_allow", res["error"])
        res = self.env.cmd("media", {"mode": "disk"})
        self.assertEqual(res["status"], "error")
        self.assertIn("image", res["error"])


class Writable(unittest.TestCase):
    def test_writable_disk_when_allowed(self):
        env = MediaEnv("media2", allow_writable=True)
        try:
            env.wait_online()
            res = env.cmd("media", {"image": "disk.img", "readonly": False})
            self.assertEqual(res["status"], "ok", res)
            self.assertFalse(res["readonly"])
            self.assertEqual(env.lunv("ro"), "0")
            self.assertEqual(env.lunv("cdrom"), "0")
            st = env.media_state(lambda m: m.get("image") == "disk.img")
            # A disk the server writes to has no meaningful checksum.
            self.assertIsNone(st["sha256"])
            res = env.cmd("media", {"image": "debian-12.iso",
                                    "readonly": False})
            self.assertEqual(res["status"], "error")
        finally:
            env.close()


class Persistence(unittest.TestCase):
    def test_restart_puts_the_image_back(self):
        env = MediaEnv("media3")
        try:
            env.wait_online()
            res = env.cmd("media", {"image": "debian-12.iso",
                                    "mode": "disk"})
            self.assertEqual(res["status"], "ok", res)
            deadline = time.time() + 5
            while time.time() < deadline:
                if os.path.exists(env.state_file):
                    with open(env.state_file) as f:
                        if "image=debian-12.iso" in f.read():
                            break
                time.sleep(0.05)
            with open(env.state_file) as f:
                text = f.read()
            self.assertIn("image=debian-12.iso\n", text)
            self.assertIn("mode=disk\n", text)
            self.assertFalse(os.path.exists(env.state_file + ".tmp"))

            # The Pi reboots: the agent stops and the LUN comes back empty.
            env.agent.stop()
            for name, value in (("file", "\n"), ("ro", "0\n"),
                                ("cdrom", "1\n")):
                with open(os.path.join(env.lun, name), "w") as f:
                    f.write(value)
            env.client.clear()
            env.agent.start()
            env.wait_online()
            st = env.media_state(lambda m: m.get("image") == "debian-12.iso")
            self.assertEqual(st["mode"], "disk")
            self.assertEqual(env.lunv("file"), env.path("debian-12.iso"))
            self.assertEqual(env.lunv("cdrom"), "0")
            self.assertEqual(env.lunv("ro"), "1")
            self.assertIn("put debian-12.iso back", env.agent.log_text())

            # Only the agent restarts: the LUN holds the image, untouched.
            mtime = os.stat(os.path.join(env.lun, "file")).st_mtime_ns
            env.agent.stop()
            env.client.clear()
            env.agent.start()
            env.wait_online()
            env.media_state(lambda m: m.get("image") == "debian-12.iso")
            self.assertEqual(
                os.stat(os.path.join(env.lun, "file")).st_mtime_ns, mtime)
            self.assertIn("in the LUN already: kept", env.agent.log_text())

            # Ejected stays ejected.
            env.cmd("media", "eject", wait=False)
            env.media_state(lambda m: m.get("image") is None)
            env.agent.stop()
            env.client.clear()
            env.agent.start()
            env.wait_online()
            env.media_state(lambda m: "images" in m and m["image"] is None)
            self.assertEqual(env.lunv("file"), "")
        finally:
            env.close()

    def test_saved_name_breaking_the_rules_is_not_used(self):
        env = MediaEnv("media4")
        try:
            env.wait_online()
            env.agent.stop()
            with open(env.state_file, "w") as f:
                f.write("image=../../../etc/passwd\nmode=disk\nreadonly=1\n")
            env.client.clear()
            env.agent.start()
            env.wait_online()
            env.media_state(lambda m: "images" in m and m["image"] is None)
            self.assertEqual(env.lunv("file"), "")
        finally:
            env.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
