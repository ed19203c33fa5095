#!/usr/bin/python3
"""Builds what the lab boots: Debian's kernel (downloaded with apt-get, never
installed), the "Pi" initramfs, the small server Linux and FAT boot images.

Downloads and the unpacked kernel are cached in tests/lab/cache/ (or
$ZB_LAB_CACHE); everything else is cheap and rebuilt per run.

  labbuild.py kernel                      unpack the kernel, print its paths
  labbuild.py pi-initrd OUT [ZEROBMC]     the Pi's initramfs
  labbuild.py linux-img OUT               FAT image booting the server Linux
  labbuild.py marker-img OUT MARKER       FAT image whose startup.nsh echoes MARKER

ZB_LAB_ARCH=arm64: the Pi's kernel, initramfs and programs are arm64.
"""
import glob
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.environ.get("ZB_LAB_CACHE") or os.path.join(HERE, "cache")
ROOTFS = os.path.join(HERE, "rootfs")

# The Pi: the gadget side, the host side of dummy_hcd (tests read evdev and
# ttyACM0 there when no server VM is attached), the network and the 9p share.
PI_MODULES = """configfs libcomposite udc-core dummy_hcd usb_f_hid
usb_f_mass_storage u_serial usb_f_acm usbcore usb-common hid usbhid hid-generic
evdev cdc-acm scsi_common scsi_mod usb-storage sd_mod virtio_ring virtio
virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover
virtio_net virtio_console 9pnet 9pnet_virtio netfs fscache 9p""".split()

# The server Linux: xHCI to see the gadget, keyboard, ACM console, storage.
SERVER_MODULES = """usb-common usbcore xhci-hcd xhci-pci hid usbhid hid-generic
evdev cdc-acm scsi_common scsi_mod usb-storage sd_mod""".split()


# The Pi's architecture: x86_64 (the default) or arm64, the Pi Zero 2 W's
# Cortex-A53 (ZB_LAB_ARCH=arm64). The server VM stays x86_64 (OVMF). For
# arm64 the kernel, busybox and usbredirect are Debian's arm64 packages
# (apt-get download, never installed; dpkg --add-architecture arm64 and
# apt-get update first, as scripts/cross does).
ARCHES = {
    "x86_64": {"deb": "amd64", "triplet": "x86_64-linux-gnu",
               "elf": "Advanced Micro Devices X86-64", "cc": "gcc"},
    "arm64": {"deb": "arm64", "triplet": "aarch64-linux-gnu",
              "elf": "AArch64", "cc": "aarch64-linux-gnu-gcc"},
}


def lab_arch(arch=None):
    """The Pi's architecture: arch, else $ZB_LAB_ARCH, else x86_64."""
    arch = arch or os.environ.get("ZB_LAB_ARCH") or "x86_64"
    arch = {"amd64": "x86_64", "aarch64": "arm64"}.get(arch, arch)
    if arch not in ARCHES:
        raise SystemExit("labbuild: no lab for %s (x86_64 or arm64)" % arch)
    return arch


def log(msg):
    print("labbuild: " + msg, file=sys.stderr, flush=True)


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


# --- kernel -----------------------------------------------------------------

def kernel_package(arch="x86_64"):
    """linux-image-6.1.0-NN-amd64, the package linux-image-amd64 points at
    (-arm64 for arm64)."""
    deb = ARCHES[arch]["deb"]
    out = subprocess.run(["apt-cache", "depends",
                          "linux-image-%s:%s" % (deb, deb)],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        word = line.split()[-1] if line.split() else ""
        if line.strip().startswith("Depends:") and word.startswith("linux-image-"):
            return word.split(":")[0]
    return None


def kernel(arch="x86_64"):
    """Returns {"version", "vmlinuz", "root", "moddir"}, downloading once."""
    pkg = kernel_package(arch)
    have = sorted(glob.glob(os.path.join(
        CACHE, "linux-image-*-" + ARCHES[arch]["deb"])))
    if pkg is None and not have:
        # A machine whose package lists were never fetched (or cleaned).
        log("apt-cache knows no linux-image-amd64: apt-get update")
        run("apt-get", "update", "-qq", stdout=sys.stderr)
        pkg = kernel_package(arch)
        if pkg is None:
            raise SystemExit("labbuild: no linux-image-amd64 in apt")
    if pkg is None:
        pkg = os.path.basename(have[-1])
    root = os.path.join(CACHE, pkg)
    version = pkg[len("linux-image-"):]
    if not os.path.isdir(root):
        os.makedirs(CACHE, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".dl-", dir=CACHE)
        os.chmod(tmp, 0o755)  # apt's _apt user writes there
        log("downloading " + pkg)
        run("apt-get", "download", "-q",
            "%s:%s" % (pkg, ARCHES[arch]["deb"]), cwd=tmp, stdout=sys.stderr,
            stderr=subprocess.DEVNULL)
        deb = glob.glob(os.path.join(tmp, "*.deb"))[0]
        run("dpkg", "-x", deb, os.path.join(tmp, "root"))
        run("depmod", "-b", os.path.join(tmp, "root"), version)
        os.rename(os.path.join(tmp, "root"), root)
        shutil.rmtree(tmp)
    return {"version": version, "root": root,
            "vmlinuz": os.path.join(root, "boot", "vmlinuz-" + version),
            "moddir": os.path.join(root, "lib", "modules", version)}


def _modname(path):
    return os.path.basename(path)[:-3].replace("-", "_")


def module_order(k, names):
    """Module paths (relative to moddir) with each after its dependencies."""
    deps = {}
    with open(os.path.join(k["moddir"], "modules.dep")) as f:
        for line in f:
            mod, _, rest = line.partition(":")
            deps[mod] = rest.split()
    by_name = {_modname(m): m for m in deps}
    # A module of one architecture is built in on another (arm64: virtio).
    builtin = set()
    if os.path.exists(os.path.join(k["moddir"], "modules.builtin")):
        with open(os.path.join(k["moddir"], "modules.builtin")) as f:
            builtin = {_modname(line.strip()) for line in f}
    order = []

    def visit(mod):
        if mod in order:
            return
        # modprobe loads the listed dependencies from last to first.
        for d in reversed(deps[mod]):
            visit(d)
        order.append(mod)

    for n in names:
        key = n.replace("-", "_")
        if key in builtin and key not in by_name:
            continue
        if key not in by_name:
            raise SystemExit("labbuild: no module " + n)
        visit(by_name[key])
    return order


# --- cpio newc ----------------------------------------------------------------

class Cpio:
    """An initramfs built in memory: no root, no mknod needed on the host."""

    def __init__(self):
        self.entries = {}  # path -> (mode, data, rdev)

    def dir(self, path):
        path = path.strip("/")
        if not path or path in self.entries:
            return
        self.dir(os.path.dirname(path))
        self.entries[path] = (0o040755, b"", (0, 0))

    def file(self, path, data, mode=0o644):
        if isinstance(data, str):
            data = data.encode()
        path = path.strip("/")
        self.dir(os.path.dirname(path))
        self.entries[path] = (0o100000 | mode, data, (0, 0))

    def symlink(self, path, target):
        path = path.strip("/")
        self.dir(os.path.dirname(path))
        self.entries[path] = (0o120777, target.encode(), (0, 0))

    def chardev(self, path, major, minor):
        path = path.strip("/")
        self.dir(os.path.dirname(path))
        self.entries[path] = (0o020600, b"", (major, minor))

    def host_file(self, src, dst=None):
        """Copies a host file, at its real path unless dst is given."""
        with open(src, "rb") as f:
            data = f.read()
        mode = os.stat(src).st_mode & 0o777
        if dst is None:
            # Resolve the folder only: a library keeps its soname.
            dst = os.path.join(os.path.realpath(os.path.dirname(src)),
                               os.path.basename(src))
        self.file(dst, data, mode)

    def program(self, exe):
        """A host program and its shared libraries, at the same paths."""
        self.host_file(exe)
        out = subprocess.run(["ldd", exe], capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            lib = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
            if lib.startswith("/"):
                self.host_file(lib)

    def foreign_program(self, exe, libdirs):
        """A program of another architecture (ldd cannot run it): its
        loader and, recursively, the libraries its DT_NEEDED entries name,
        from the first of libdirs (host folders) that has them, into the
        VM's multiarch folder. The program itself keeps its host path."""
        self.host_file(exe)
        vmdir = None
        todo, seen = [exe], set()
        while todo:
            elf = todo.pop()
            dyn = subprocess.run(["readelf", "-d", "-l", "-W", elf],
                                 capture_output=True, text=True,
                                 check=True).stdout
            interp = re.search(r"program interpreter: (/[^\]]+)\]", dyn)
            if interp:
                # /lib/ld-linux-aarch64.so.1 -> aarch64-linux-gnu/...
                path = interp.group(1)
                real = os.path.realpath(path)
                self.file(real, open(real, "rb").read(), 0o755)
                # At the folder's real path: /lib is a link to usr/lib.
                link = os.path.join(os.path.realpath(os.path.dirname(path)),
                                    os.path.basename(path))
                if real != link:
                    self.symlink(link, os.path.relpath(
                        real, os.path.dirname(link)))
            for name in re.findall(r"\(NEEDED\).*\[(.+)\]", dyn):
                if name in seen:
                    continue
                seen.add(name)
                for d in libdirs:
                    if os.path.exists(os.path.join(d, name)):
                        lib = os.path.realpath(os.path.join(d, name))
                        break
                else:
                    raise SystemExit("labbuild: %s needs %s: not in %s"
                                     % (exe, name, " ".join(libdirs)))
                vmdir = vmdir or "usr/lib/" + os.path.basename(
                    libdirs[0].rstrip("/"))
                self.host_file(lib, os.path.join(vmdir, name))
                todo.append(lib)

    def usr_merged(self):
        # Debian's merged /usr, so ldd's /lib/... paths resolve in the VM.
        for d in ("bin", "sbin", "lib", "lib64"):
            self.dir("usr/" + d)
            self.symlink(d, "usr/" + d)

    def busybox(self, binary="/bin/busybox", runner=()):
        """busybox and its applets; runner: an emulator for a foreign one."""
        self.file("usr/bin/busybox", open(binary, "rb").read(), 0o755)
        applets = subprocess.run(list(runner) + [binary, "--list"],
                                 capture_output=True,
                                 text=True).stdout.split()
        for a in applets:
            if "usr/bin/" + a not in self.entries:
                self.symlink("usr/bin/" + a, "busybox")

    def write(self, out):
        blob = bytearray()
        ino = 1

        def add(name, mode, data, rdev):
            nonlocal ino
            name_b = name.encode() + b"\0"
            hdr = "070701" + "".join("%08X" % v for v in (
                ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
                len(name_b), 0))
            ino += 1
            blob.extend(hdr.encode() + name_b)
            blob.extend(b"\0" * (-len(blob) % 4))
            blob.extend(data)
            blob.extend(b"\0" * (-len(blob) % 4))

        for path in sorted(self.entries):
            mode, data, rdev = self.entries[path]
            add(path, mode, data, rdev)
        add("TRAILER!!!", 0, b"", (0, 0))
        tmp = out + ".tmp"
        with gzip.GzipFile(tmp, "wb", 6, mtime=0) as f:
            f.write(bytes(blob))
        os.replace(tmp, out)
        return out


def _base(k, modules, rootfs, busybox=None):
    c = Cpio()
    c.usr_merged()
    if busybox:
        c.busybox(*busybox)
    else:
        c.busybox()
    for d in ("proc", "sys", "dev", "tmp", "run", "root", "etc", "var/lib"):
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    c.chardev("dev/null", 1, 3)
    order = module_order(k, modules)
    for m in order:
        c.host_file(os.path.join(k["moddir"], m),
                    "usr/lib/modules/" + os.path.basename(m))
    c.file("etc/lab/modules", "".join(os.path.basename(m) + "\n" for m in order))
    for src in glob.glob(os.path.join(ROOTFS, rootfs, "**"), recursive=True):
        if os.path.isfile(src):
            rel = os.path.relpath(src, os.path.join(ROOTFS, rootfs))
            c.host_file(src, rel)
    return c


# --- a foreign architecture's user space ---------------------------------------

PI_PACKAGES = ["busybox-static", "usbredirect"]


def userland(arch):
    """busybox and usbredirect of arch with everything they depend on:
    Debian's packages as apt resolves them for an empty machine, unpacked
    once into the cache (never installed)."""
    deb = ARCHES[arch]["deb"]
    root = os.path.join(CACHE, "userland-" + deb)
    if os.path.isdir(root):
        return root
    sim = subprocess.run(
        ["apt-get", "-s", "-o", "Dir::State::status=/dev/null",
         "--no-install-recommends", "install"]
        + ["%s:%s" % (p, deb) for p in PI_PACKAGES],
        capture_output=True, text=True)
    pkgs = re.findall(r"^Inst (\S+:%s) \((\S+) " % deb, sim.stdout, re.M)
    if not pkgs:
        raise SystemExit("labbuild: apt has no %s packages for the lab "
                         "(dpkg --add-architecture %s; apt-get update): %s"
                         % (deb, deb, sim.stderr.strip()))
    os.makedirs(CACHE, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".dl-", dir=CACHE)
    os.chmod(tmp, 0o755)  # apt's _apt user writes there
    log("downloading %s" % " ".join(n for n, _ in pkgs))
    run("apt-get", "download", "-q", *["%s=%s" % p for p in pkgs], cwd=tmp,
        stdout=sys.stderr, stderr=subprocess.DEVNULL)
    for f in glob.glob(os.path.join(tmp, "*.deb")):
        run("dpkg", "-x", f, os.path.join(tmp, "root"))
    os.rename(os.path.join(tmp, "root"), root)
    shutil.rmtree(tmp)
    return root


def _foreign_pi(k, arch, zerobmc):
    """The Pi of another architecture: its busybox (listed under
    qemu-user when there is one), usbredirect and agent with the
    libraries found in the host's multiarch folders (where the cross build
    linked), then in the unpacked packages."""
    t = ARCHES[arch]["triplet"]
    root = userland(arch)
    qemu = shutil.which("qemu-%s-static" % t.split("-")[0])
    c = _base(k, PI_MODULES, "pi", busybox=(
        os.path.join(root, "bin", "busybox"), [qemu] if qemu else []))
    libdirs = ["/usr/lib/" + t, "/lib/" + t,
               os.path.join(root, "usr", "lib", t),
               os.path.join(root, "lib", t)]
    if os.environ.get("ZB_SYSROOT"):
        libdirs += [os.path.join(os.environ["ZB_SYSROOT"], d, t)
                    for d in ("usr/lib", "lib")]
    redirect = os.path.join(root, "usr", "bin", "usbredirect")
    c.foreign_program(redirect, libdirs)
    # A copy, not a link into the cache: a clone under /tmp has its cache
    # there too, hidden in the Pi by the tmpfs its init mounts on /tmp.
    c.host_file(redirect, "usr/bin/usbredirect")
    if zerobmc and os.path.exists(zerobmc):
        c.foreign_program(os.path.abspath(zerobmc), libdirs)
        # A copy, not a link to the build folder: that may be under /tmp,
        # which the Pi's init covers with a tmpfs (CI clones live there).
        c.host_file(os.path.realpath(zerobmc), "usr/bin/zerobmc")
    return c


def elf_machine(path):
    """The ELF machine (readelf's name: X86-64, AArch64, ...), or None."""
    out = subprocess.run(["readelf", "-h", path], capture_output=True,
                         text=True).stdout
    m = re.search(r"Machine:\s+(.*)", out)
    return m.group(1).strip() if m else None


def pi_initrd(out, zerobmc=None, arch=None):
    """The Pi's initramfs: /init from rootfs/pi, modules, usbredirect, agent."""
    arch = lab_arch(arch)
    if arch != "x86_64":
        return _foreign_pi(kernel(arch), arch, zerobmc).write(out)
    k = kernel()
    c = _base(k, PI_MODULES, "pi")
    c.program(shutil.which("usbredirect") or "/usr/bin/usbredirect")
    # The agent's cmd/uefi builds and reads FAT images with dosfstools and
    # mtools (a multi-call program, as on Debian).
    c.program("/usr/sbin/mkfs.fat")
    c.symlink("usr/sbin/mkfs.vfat", "mkfs.fat")
    c.program("/usr/bin/mtools")
    for name in ("mmd", "mcopy", "mtype", "mdir", "mdel"):
        c.symlink("usr/bin/" + name, "mtools")
    # mtools converts FAT names from code page 850 with glibc's iconv.
    gconv = "/usr/lib/%s/gconv" % ARCHES["x86_64"]["triplet"]
    for name in ("gconv-modules", "gconv-modules.cache", "IBM850.so"):
        c.host_file(os.path.join(gconv, name))
    # The agent loads libcurl with dlopen() for media by URL.
    c.program("/usr/lib/%s/libcurl-gnutls.so.4" % ARCHES["x86_64"]["triplet"])
    if zerobmc and os.path.exists(zerobmc):
        c.program(os.path.abspath(zerobmc))
        c.host_file(os.path.realpath(zerobmc), "usr/bin/zerobmc")
    return c.write(out)


def server_initrd(out):
    """The server Linux: busybox init, a shell on ttyS0, a getty on ttyACM0."""
    k = kernel()
    c = _base(k, SERVER_MODULES, "server")
    c.symlink("init", "usr/bin/busybox")
    return c.write(out)


# --- FAT images ---------------------------------------------------------------

def fat_image(out, files, extra_mb=2):
    """files: {name in the image: bytes or host path}."""
    datas = {}
    for name, v in files.items():
        if isinstance(v, str) and os.path.exists(v):
            with open(v, "rb") as f:
                v = f.read()
        datas[name] = v.encode() if isinstance(v, str) else v
    size_kb = (sum(len(d) for d in datas.values()) * 11 // 10 // 1024
               + extra_mb * 1024)
    size_kb = max(size_kb, 2048)
    tmp = out + ".tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    run("mkfs.vfat", "-C", "-n", "ZEROBMCLAB", tmp, str(size_kb),
        stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as d:
        for name, data in datas.items():
            p = os.path.join(d, os.path.basename(name))
            with open(p, "wb") as f:
                f.write(data)
            run("mcopy", "-i", tmp, "-o", p, "::" + name)
    os.replace(tmp, out)
    return out


def _nsh(lines):
    # The UEFI shell wants CRLF line ends.
    return "\r\n".join(lines) + "\r\n"


def marker_img(out, marker):
    """Boot medium whose startup.nsh prints MARKER: proves boot from it."""
    return fat_image(out, {"startup.nsh": _nsh(
        ["@echo -off", "echo %s" % marker])})


LINUX_CMDLINE = "console=ttyS0,115200 quiet panic=-1"


def linux_img(out, work=None):
    """FAT image: startup.nsh starts the kernel's EFI stub with the initrd.

    The boot manager passes no command line to \\EFI\\BOOT\\BOOTX64.EFI, so
    the UEFI shell's startup.nsh starts the kernel instead; it looks for the
    volume that holds the kernel, whichever FSn it is."""
    k = kernel()
    work = work or os.path.dirname(os.path.abspath(out))
    initrd = server_initrd(os.path.join(work, "server-initrd.gz"))
    lines = ["@echo -off", "echo zerobmc-lab: starting linux"]
    for n in range(4):
        lines += ["if exist fs%d:\\zblinux then" % n,
                  "  fs%d:" % n,
                  "  \\vmlinuz initrd=\\initrd.gz %s" % LINUX_CMDLINE,
                  "endif"]
    return fat_image(out, {"startup.nsh": _nsh(lines), "zblinux": "1\n",
                           "vmlinuz": k["vmlinuz"], "initrd.gz": initrd})


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 2
    what = argv[1]
    if what == "kernel":
        k = kernel(lab_arch())
        print(k["version"], k["vmlinuz"], k["moddir"])
    elif what == "pi-initrd":
        print(pi_initrd(argv[2], argv[3] if len(argv) > 3 else None))
    elif what == "linux-img":
        print(linux_img(argv[2]))
    elif what == "marker-img":
        print(marker_img(argv[2], argv[3]))
    else:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
