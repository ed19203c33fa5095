#!/usr/bin/python3
"""The lab harness: a mosquitto on the host, the "Pi" VM (Debian's kernel
with dummy_hcd, the real agent building its gadget) and the "server" VM
(OVMF firmware, or a small Linux) attached to the Pi's gadget through
usbredirect and qemu's usb-redir.

A run folder holds everything of one lab: lab.json (ports, process ids,
timings), the VMs' console logs, and share/, mounted in the Pi on /lab
(9p): zerobmc.conf, agent.log, usbredirect.log, images/.

Booting once per suite: `lab.py setup RUN` boots a lab and leaves it
running (a reaper process kills it after ZB_LAB_LIFETIME seconds, 1800 by
default, if nobody does); tests attach with Lab.for_test(), which uses
$ZB_LAB_RUN when it holds a running lab and boots a private one otherwise;
`lab.py cleanup RUN` stops it. Every process is stopped by its pid (checked
against its start time), never by name.

  lab.py setup RUN [--server uefi|linux|none]
  lab.py cleanup RUN
  lab.py status RUN
  lab.py shell RUN CMD...          run a command in the Pi VM
  lab.py up RUN [--server uefi|linux] [--port 1883] [--raw 1]
                                   scripts/lab: boot, show the console
"""
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labbuild  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS.fd"
QEMU = shutil.which("qemu-system-x86_64") or "/usr/bin/qemu-system-x86_64"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
AGENT_ID = "lab"
# UEFI shell prompt, as the stripped console shows it.
SHELL_PROMPT = r"Shell> "
QEMU_EXTRA = []
# How the Pi of each architecture boots (labbuild.lab_arch: $ZB_LAB_ARCH):
# emulator, machine, serial console. arm64 is the Pi Zero 2 W's Cortex-A53.
PI_MACHINES = {
    "x86_64": (QEMU, ["-accel", "tcg", "-cpu", "max"], "ttyS0"),
    "arm64": (shutil.which("qemu-system-aarch64")
              or "/usr/bin/qemu-system-aarch64",
              ["-machine", "virt", "-cpu", "cortex-a53", "-accel", "tcg"],
              "ttyAMA0"),
}

ANSI = re.compile(rb"\x1b(\[[0-9;?=]*[A-Za-z@]|[()][A-Za-z0-9]|[=>c78])")


def strip_ansi(data):
    """Console bytes as matchable text: escapes and CRs gone."""
    return ANSI.sub(b"", data).replace(b"\r", b"").decode("utf-8", "replace")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_taken(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _start_time(pid):
    """The process's start time (clock ticks since boot), or None when it
    is gone. A zombie counts as gone (and is reaped if it is ours)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return None
    if fields[0] == "Z":
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return None
    try:
        return int(fields[19])
    except (ValueError, IndexError):
        return None


def alive(entry):
    pid, start = entry
    return _start_time(pid) == start


def kill_entry(entry, timeout=5.0):
    """Stops one recorded process: SIGTERM, then SIGKILL."""
    pid, start = entry
    if _start_time(pid) != start:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    end = time.time() + timeout
    while time.time() < end and _start_time(pid) == start:
        time.sleep(0.05)
    if _start_time(pid) == start:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def find_zerobmc():
    for p in (os.environ.get("ZEROBMC"),
              os.path.join(os.environ.get("ZB_BUILD", ""), "firmware",
                           "zerobmc") if os.environ.get("ZB_BUILD") else None,
              os.path.join(SOURCE, "build", "firmware", "zerobmc")):
        if p and os.path.exists(p):
            return os.path.abspath(p)
    return None


class LabError(Exception):
    pass


class Qmp:
    """A minimal QMP client for the server VM's monitor socket."""

    def __init__(self, path, timeout):
        end = time.time() + timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(10)
            try:
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > end:
                    raise
                time.sleep(0.1)
        self.buf = b""
        self._reply()  # the greeting
        self.execute("qmp_capabilities")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def _reply(self):
        while True:
            while b"\n" not in self.buf:
                data = self.sock.recv(65536)
                if not data:
                    raise LabError("QMP socket closed")
                self.buf += data
            line, self.buf = self.buf.split(b"\n", 1)
            msg = json.loads(line)
            if "event" in msg:
                continue
            if "error" in msg:
                raise LabError("QMP: %s" % msg["error"])
            return msg

    def execute(self, cmd, **args):
        req = {"execute": cmd}
        if args:
            req["arguments"] = args
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        return self._reply().get("return")

    def hmp(self, line):
        return self.execute("human-monitor-command", **{"command-line": line})


class ResetPin(threading.Thread):
    """The server's reset button, wired to the Pi's reset line. The Pi
    runs zerobmc-fakegpio (the Debian kernel has no gpio-sim), whose chip
    is a plain file in the 9p share: every line change is appended to it
    as "<us> reset set 1|0". A press (1 then 0) resets the server VM, as a
    motherboard's reset header does; presses counts them."""

    def __init__(self, lab, chip):
        super().__init__(daemon=True)
        self.lab, self.chip = lab, chip
        self.presses = 0
        self.stopping = threading.Event()

    def run(self):
        pos, down = 0, False
        while not self.stopping.wait(0.05):
            try:
                with open(self.chip) as f:
                    f.seek(pos)
                    data = f.read()
            except OSError:
                continue
            lines = data.split("\n")
            pos += len(data) - len(lines[-1])
            for line in lines[:-1]:
                w = line.split()
                if len(w) != 4 or w[1] != "reset" or w[2] != "set":
                    continue
                if w[3] == "1":
                    down = True
                elif down:
                    down = False
                    self.presses += 1
                    try:
                        self.lab.qmp("system_reset")
                    except (OSError, LabError) as e:
                        print("lab: reset pin: %s" % e, file=sys.stderr)

    def stop(self):
        self.stopping.set()
        self.join(5)


class Lab:
    """One lab: broker, Pi VM, server VM. See the module's doc."""

    def __init__(self, run_dir, owner=True):
        self.run = os.path.abspath(run_dir)
        self.share = os.path.join(self.run, "share")
        self.owner = owner
        self.state = {"procs": {}, "times": {}}
        self._shell = None
        self._shell_buf = b""
        self._seq = 0
        self._mark = 0
        self._mqtt = None
        self._con = None
        self._lock = threading.Lock()
        os.makedirs(self.share, exist_ok=True)
        os.makedirs(os.path.join(self.share, "images"), exist_ok=True)
        if os.path.exists(self.path("lab.json")):
            with open(self.path("lab.json")) as f:
                self.state = json.load(f)

    # --- bookkeeping ----------------------------------------------------

    def path(self, name):
        return os.path.join(self.run, name)

    def save(self):
        tmp = self.path("lab.json.tmp")
        with open(tmp, "w") as f:
            json.dump(self.state, f, indent=1)
        os.replace(tmp, self.path("lab.json"))

    def spawn(self, name, argv, log=None):
        """Starts a process in its own session, output to a log file."""
        out = open(self.path(log or name + ".out"), "ab")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, start_new_session=True,
                             cwd=self.run)
        out.close()
        start = None
        for _ in range(100):
            start = _start_time(p.pid)
            if start is not None:
                break
            time.sleep(0.01)
        self.state["procs"][name] = [p.pid, start]
        self.save()
        return p

    def stop_proc(self, name):
        entry = self.state["procs"].pop(name, None)
        if entry:
            kill_entry(entry)
            self.save()

    def running(self, name):
        e = self.state["procs"].get(name)
        return bool(e) and alive(e)

    def timing(self, key, seconds):
        self.state["times"][key] = round(seconds, 2)
        self.save()

    def start_reaper(self, owner_pid=0, lifetime=None):
        """A separate process that stops the lab if its owner dies, if
        lab.json disappears or after `lifetime` seconds."""
        lifetime = lifetime or int(os.environ.get("ZB_LAB_LIFETIME", "1800"))
        self.spawn("reaper", [sys.executable, os.path.abspath(__file__),
                              "reaper", self.run, str(owner_pid),
                              str(int(time.time() + lifetime))])

    def stop(self):
        """Stops everything this lab started, in reverse order, by pid."""
        self.close_clients()
        procs = self.state.get("procs", {})
        for name in reversed(list(procs)):
            if name != "reaper":
                kill_entry(procs[name])
        if "reaper" in procs:
            kill_entry(procs["reaper"])
        self.state["procs"] = {}
        try:
            os.unlink(self.path("lab.json"))
        except FileNotFoundError:
            pass

    def close_clients(self):
        if self._con:
            self._con.close()
            self._con = None
        if self._shell:
            self._shell.close()
            self._shell = None
        if self._mqtt:
            self._mqtt.close()
            self._mqtt = None

    # --- broker ---------------------------------------------------------

    def start_broker(self, port=None, listen="127.0.0.1"):
        port = port or free_port()
        if port_taken(port):
            raise LabError("port %d on 127.0.0.1 is taken: stop what uses "
                           "it (another mosquitto?) or pick another" % port)
        conf = self.path("mosquitto.conf")
        with open(conf, "w") as f:
            f.write("listener %d %s\nallow_anonymous true\n"
                    "persistence false\nlog_dest file %s\n"
                    % (port, listen, self.path("mosquitto.log")))
            if os.geteuid() == 0:
                f.write("user root\n")
        self.spawn("mosquitto", [MOSQUITTO, "-c", conf])
        end = time.time() + 10
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise LabError("mosquitto did not start: see "
                           + self.path("mosquitto.log"))
        self.state["broker_port"] = port
        self.save()
        return port

    def start_web(self):
        """A plain HTTP file server for the Pi (InsertMedia by URL): the
        run folder's web/ on 127.0.0.1, http://10.0.2.2:PORT/ from the Pi,
        and the agent's [media] url_allow."""
        os.makedirs(self.path("web"), exist_ok=True)
        port = free_port()
        self.spawn("web", [sys.executable, "-m", "http.server", "--bind",
                           "127.0.0.1", "--directory", self.path("web"),
                           str(port)], "web.log")
        self.state["web_port"] = port
        self.save()
        return port

    # --- the Pi VM ------------------------------------------------------

    def agent_config(self, sections=None):
        """The agent's INI for the Pi: broker through qemu's user network
        (10.0.2.2 is the host), the gadget built by the agent."""
        conf = {
            "agent": {"id": AGENT_ID, "log_level": "debug"},
            "mqtt": {"uri": "tcp://10.0.2.2:%d" % self.state["broker_port"],
                     "keepalive": "5"},
            "gadget": {"manage": "true"},
            # Writable: an installer leaves its done marker on its medium.
            "media": {"dir": "/lab/images", "allow_writable": "true",
                      "url_allow": "http://10.0.2.2:%d/"
                      % self.state["web_port"]
                      if self.state.get("web_port") else None},
            # cmd/boot's key profile and cmd/uefi's shell (extracted from
            # OVMF by labos.uefi_shell, copied to the share by start_pi).
            "server": {"firmware": "ovmf"},
            # OVMF reads an inserted medium while it enumerates it, even
            # when it boots the disk: 8 and 6 read events, then 9 from the
            # disk's Linux, against hundreds when it boots the medium
            # (tests/lab/README.md).
            "boot": {"proof_reads": "30"},
            "uefi": {"shell": "/lab/uefi-shell.efi" if os.path.exists(
                os.path.join(self.share, "uefi-shell.efi")) else None},
        }
        for sec, keys in (sections or {}).items():
            conf.setdefault(sec, {}).update(keys)
        return "".join("[%s]\n%s" % (sec, "".join(
            "%s = %s\n" % kv for kv in keys.items() if kv[1] is not None))
            for sec, keys in conf.items())

    def start_pi(self, gadget="agent", redirect=True, sections=None,
                 zerobmc=None, wait=True, arch=None):
        """Boots the Pi VM. gadget: agent (manage = true), early (`zerobmc
        gadget up` as root before the network, then the agent as the user
        zerobmc), shell (configfs by hand, to prove the lab without the
        agent) or none. arch: the
        Pi's architecture (default $ZB_LAB_ARCH, else x86_64)."""
        zerobmc = zerobmc or find_zerobmc()
        arch = labbuild.lab_arch(arch)
        runs_agent = gadget in ("agent", "early")
        if zerobmc and (labbuild.elf_machine(zerobmc)
                        != labbuild.ARCHES[arch]["elf"]):
            if runs_agent:
                raise LabError("%s is no %s program (ZB_LAB_ARCH=%s): build "
                               "it for the lab's Pi or set ZEROBMC"
                               % (zerobmc, arch, arch))
            zerobmc = None
        if runs_agent and not zerobmc:
            raise LabError("no zerobmc binary: build it or set ZEROBMC")
        initrd = labbuild.pi_initrd(self.path("pi-initrd.gz"), zerobmc, arch)
        k = labbuild.kernel(arch)
        qemu, machine, console = PI_MACHINES[arch]
        self.state["arch"] = arch
        self.state["agent"] = runs_agent
        if runs_agent:
            import labos  # it imports this module
            try:
                shutil.copyfile(labos.uefi_shell(),
                                os.path.join(self.share, "uefi-shell.efi"))
            except (OSError, SystemExit, subprocess.CalledProcessError) as e:
                # Only cmd/uefi needs it; the rest of the lab runs on.
                print("lab: no UEFI shell for [uefi] shell: %s" % e,
                      file=sys.stderr)
            with open(os.path.join(self.share, "zerobmc.conf"), "w") as f:
                f.write(self.agent_config(sections))
        redir = free_port()
        self.state["redir_port"] = redir
        for log in ("pi-console.log", "share/agent.log",
                    "share/usbredirect.log"):
            if os.path.exists(self.path(log)):
                os.unlink(self.path(log))
        append = ("console=%s,115200 quiet panic=-1 zb.gadget=%s "
                  "zb.redirect=%d" % (console, gadget, 1 if redirect else 0))
        argv = [qemu] + machine + ["-m", "512",
                "-smp", "1", "-nodefaults", "-no-user-config",
                "-display", "none", "-no-reboot",
                "-kernel", k["vmlinuz"], "-initrd", initrd,
                "-append", append,
                "-chardev", "file,id=con,path=" + self.path("pi-console.log"),
                "-serial", "chardev:con",
                "-device", "virtio-serial-pci",
                "-chardev", "socket,id=sh,server=on,wait=off,path="
                + self.path("pi-shell.sock"),
                "-device", "virtserialport,chardev=sh,name=lab.shell",
                "-netdev", "user,id=n,hostfwd=tcp:127.0.0.1:%d-:4000" % redir,
                "-device", "virtio-net-pci,netdev=n",
                "-fsdev", "local,id=fs,security_model=none,path=" + self.share,
                "-device", "virtio-9p-pci,fsdev=fs,mount_tag=lab"]
        t0 = time.time()
        self.state["pi_started"] = t0
        self.spawn("pi", argv, "pi-qemu.out")
        if wait:
            self.wait_pi(t0)
        return self

    def wait_pi(self, t0=None, timeout=120):
        t0 = t0 or self.state.get("pi_started", time.time())
        self._wait_file(self.path("pi-console.log"), r"lab: pi ready",
                        timeout, "pi")
        self.timing("pi_boot_s", time.time() - t0)

    def _wait_file(self, path, regex, timeout, proc):
        end = time.time() + timeout
        rx = re.compile(regex)
        while time.time() < end:
            try:
                with open(path, "rb") as f:
                    m = rx.search(strip_ansi(f.read()))
                if m:
                    return m
            except FileNotFoundError:
                pass
            if proc and not self.running(proc):
                raise LabError("%s exited; see %s" % (proc, self.run))
            time.sleep(0.2)
        raise LabError("no /%s/ in %s within %d s" % (regex, path, timeout))

    def pi_shell(self, cmd, timeout=60, check=True):
        """Runs a shell command in the Pi VM; returns its output (stdout and
        stderr). Raises LabError on a non-zero exit status if check."""
        with self._lock:
            if self._shell is None:
                self._shell = socket.socket(socket.AF_UNIX)
                self._shell.connect(self.path("pi-shell.sock"))
                self._shell_buf = b""
            self._seq += 1
            tag = "%d-%d-%d" % (os.getpid(), self._seq, time.monotonic_ns())
            script = cmd.encode()
            import base64
            b64 = base64.b64encode(script).decode()
            line = ("echo %s | base64 -d >/tmp/c.sh; sh /tmp/c.sh </dev/null "
                    "2>&1; echo \"@@ZB%s:$?@@\"\n" % (b64, tag))
            self._shell.sendall(line.encode())
            rx = re.compile(rb"@@ZB" + tag.encode() + rb":(\d+)@@\n")
            end = time.time() + timeout
            while True:
                m = rx.search(self._shell_buf)
                if m:
                    out = self._shell_buf[:m.start()]
                    self._shell_buf = self._shell_buf[m.end():]
                    break
                left = end - time.time()
                if left <= 0:
                    self._shell.close()
                    self._shell = None
                    raise LabError("pi_shell timed out: %r" % cmd)
                self._shell.settimeout(min(left, 1.0))
                try:
                    data = self._shell.recv(65536)
                except socket.timeout:
                    continue
                if not data:
                    raise LabError("pi shell closed")
                self._shell_buf += data
        out = out.decode("utf-8", "replace")
        rc = int(m.group(1))
        if check and rc != 0:
            raise LabError("pi_shell %r: exit %d: %s" % (cmd, rc, out))
        return out

    def agent_log(self):
        try:
            with open(os.path.join(self.share, "agent.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    # --- the server VM --------------------------------------------------

    def start_server(self, mode="uefi", disk=None, memory=None,
                     writable=False, keep_vars=False, splash_ms=None,
                     power_on=True):
        """Boots the server VM: OVMF with a fresh variable store, xHCI with
        the Pi's gadget redirected onto it. mode uefi: no disk, the firmware
        ends in its UEFI shell; linux: the lab's Linux image as a disk (its
        startup.nsh starts the kernel); disk: any FAT/raw image. writable:
        the disk can be written (an installer does); keep_vars: the variable
        store of the last run stays (boot entries an OS added); splash_ms:
        a POST window with a boot menu, as a real PC has. power_on=False:
        the VM stays paused until _power_on() (a Pi still booting)."""
        if mode == "linux" and not disk:
            disk = self.path("linux.img")
            if not os.path.exists(disk):
                labbuild.linux_img(disk)
        if not (keep_vars and os.path.exists(self.path("server-vars.fd"))):
            shutil.copyfile(OVMF_VARS, self.path("server-vars.fd"))
        argv = [QEMU, "-accel", "tcg", "-machine", "q35",
                "-m", str(memory or (512 if disk else 256)), "-smp", "1",
                "-nodefaults", "-no-user-config", "-display", "none",
                "-drive", "if=pflash,format=raw,readonly=on,file=" + OVMF_CODE,
                "-drive", "if=pflash,format=raw,file="
                + self.path("server-vars.fd"),
                "-chardev", "socket,id=con,server=on,wait=off,path=%s,"
                "logfile=%s,logappend=on" % (self.path("server-con.sock"),
                                             self.path("server-console.log")),
                "-serial", "chardev:con",
                "-device", "qemu-xhci,id=xhci",
                "-chardev", "socket,id=redir,host=127.0.0.1,port=%d,"
                "reconnect=1" % self.state["redir_port"],
                "-device", "usb-redir,chardev=redir,bus=xhci.0",
                "-net", "none",
                # Paused until the gadget is plugged in: see _power_on.
                "-S", "-qmp", "unix:%s,server=on,wait=off"
                % self.path("server-qmp.sock")] + QEMU_EXTRA
        if disk:
            argv += ["-drive", "if=none,id=disk,format=raw,%sfile="
                     % ("" if writable else "readonly=on,")
                     + os.path.abspath(disk),
                     "-device", "virtio-blk-pci,drive=disk"]
        if splash_ms:
            argv += ["-boot", "menu=on,splash-time=%d" % splash_ms]
        self.mark()
        self.state["server_mode"] = mode
        self.state["server_disk"] = disk
        self.state["server_started"] = time.time()
        self.spawn("server", argv, "server-qemu.out")
        if power_on:
            self._power_on()
        return self

    def _power_on(self, timeout=60):
        """Lets the paused server run once the Pi's gadget is attached to
        its xHCI. A real server is switched on with the Pi already plugged
        in; a server that ran before usbredirect connected (a loaded
        machine delays it by seconds) found no USB drive at all ("map: No
        mapping found") and failed tests that had nothing to do with it."""
        t0 = time.time()
        attached = False
        try:
            with Qmp(self.path("server-qmp.sock"), timeout) as q:
                while time.time() - t0 < timeout:
                    usb = q.hmp("info usb")
                    if "Device" in usb:
                        attached = True
                        break
                    time.sleep(0.2)
                q.execute("cont")
        except (OSError, ValueError) as e:
            raise LabError("server VM: QMP: %s" % e) from e
        self.timing("server_usb_attach_s", time.time() - t0)
        if not attached:
            print("lab: the gadget was not attached to the server within "
                  "%d s; it runs without it" % timeout, file=sys.stderr)

    def kill_server(self, sig=signal.SIGKILL):
        """The server loses power: its qemu is killed (the USB host side
        goes away under the gadget)."""
        entry = self.state["procs"].get("server")
        if self._con:
            self._con.close()
            self._con = None
        if entry and alive(entry):
            # The Pi's usbredirect would spin on its dead peer for up to
            # minutes before it gives up: it ends first and none starts
            # until the server is gone. The Pi's shell runs the two
            # commands in order even when one is late (a timed-out
            # pi_shell still runs), so a late pause never ends the
            # usbredirect of the next server.
            self._redirect("pause")
            os.kill(entry[0], sig)
            end = time.time() + 10
            while alive(entry) and time.time() < end:
                time.sleep(0.05)
            self._redirect("resume")
        self.state["procs"].pop("server", None)
        self.save()

    def qmp(self, cmd, **args):
        """One QMP command to the running server VM."""
        with Qmp(self.path("server-qmp.sock"), 10) as q:
            return q.execute(cmd, **args)

    def _redirect(self, what):
        try:
            self.pi_shell("lab-redirect " + what, timeout=30, check=False)
        except (LabError, OSError):
            pass

    def restart_server(self, mode=None):
        self.kill_server()
        return self.start_server(mode or self.state.get("server_mode", "uefi"),
                                 disk=self.state.get("server_disk")
                                 if mode is None else None)

    def console_raw(self):
        try:
            with open(self.path("server-console.log"), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def mark(self):
        """From now on, wait_for looks only at newer console output."""
        self._mark = len(self.console_raw())
        return self._mark

    def console(self, since=None):
        raw = self.console_raw()
        return strip_ansi(raw[self._mark if since is None else since:])

    def wait_for(self, regex, timeout=60, since=None, advance=True):
        """Waits for regex in the server console (escapes stripped) after
        the mark; returns the match. advance: move the mark past it."""
        rx = re.compile(regex)
        start = self._mark if since is None else since
        end = time.time() + timeout
        while True:
            raw = self.console_raw()
            text = strip_ansi(raw[start:])
            m = rx.search(text)
            if m:
                if advance:
                    # The mark moves to the end of what was read; text
                    # after the match in this read is seen by later calls
                    # only through since=.
                    self._mark = len(raw)
                return m
            if time.time() > end:
                tail = text[-600:]
                raise LabError("no /%s/ on the server console within %d s; "
                               "last output:\n%s" % (regex, timeout, tail))
            if "server" in self.state["procs"] and not self.running("server"):
                raise LabError("server VM exited; see "
                               + self.path("server-qemu.out"))
            time.sleep(0.1)

    def wait_uefi_shell(self, timeout=240):
        t0 = self.state.get("server_started", time.time())
        m = self.wait_for(SHELL_PROMPT, timeout)
        self.timing("server_to_shell_s", time.time() - t0)
        return m

    def server_send(self, data, pace=0.02):
        """Writes bytes to the server's serial console (the UEFI shell reads
        it too; a shell there in linux mode). One byte per `pace` seconds:
        the firmware's UART has no FIFO to speak of. The connection stays
        open (a reader drains it; the log file keeps the output)."""
        if isinstance(data, str):
            data = data.encode()
        if self._con is None:
            s = socket.socket(socket.AF_UNIX)
            s.connect(self.path("server-con.sock"))

            def drain():
                try:
                    while s.recv(65536):
                        pass
                except OSError:
                    pass

            threading.Thread(target=drain, daemon=True).start()
            self._con = s
        for i in range(len(data)):
            self._con.sendall(data[i:i + 1])
            time.sleep(pace)

    def ensure_server(self, mode="uefi", timeout=240):
        """The server VM running in `mode` and ready: at a fresh UEFI shell
        prompt (uefi), or booted into the lab's Linux (linux)."""
        if (not self.running("server")
                or self.state.get("server_mode") != mode):
            self.kill_server()
            self.start_server(mode)
            if mode == "linux":
                self.wait_for(r"zerobmc-lab-linux: up", timeout)
            else:
                self.wait_uefi_shell(timeout)
        if self.state.get("agent"):
            self.wait_usb("configured")
            if mode == "uefi":
                self.keyboard_ready()
        if mode == "uefi":
            self.uefi_prompt()
        return self

    def settle(self):
        """A test of the suite starts with an idle agent: a boot, reinstall
        or macro that an earlier test left running (a Redfish reset's boot
        still proving itself, say) is cancelled, or the keyboard answers
        busy."""
        for name in ("reinstall", "uefi", "boot"):
            self.cmd(name, {"cancel": True}, timeout=60)
        self.cmd("macro", {"name": "cancel"}, timeout=60)

    def keyboard_ready(self, timeout=90):
        """Waits until a key typed through the agent shows in the UEFI
        shell. The firmware takes a moment after configuring a hot-plugged
        keyboard before it turns its reports into keys (the first ~1.5 s
        of typing were lost in a measured run)."""
        end = time.time() + timeout
        while True:
            self.mark()
            res = self.cmd("key", {"keys": "x"}, timeout=30)
            if res.get("status") == "ok":
                try:
                    self.wait_for("x", 3)
                    break
                except LabError:
                    pass
            if time.time() > end:
                raise LabError("keys typed through the agent never showed "
                               "on the server console; last result %s" % res)
            time.sleep(1)
        self.cmd("key", {"keys": "backspace"}, timeout=30)

    def wait_usb(self, state="configured", timeout=120):
        """Waits until the agent's state says the server's USB host has
        the gadget in `state` (state.usb.state): the server VM may reach
        its shell before the gadget is plugged in (usb-redir connects when
        the Pi is up) and enumerates it then."""
        return self.agent_state(
            lambda d: d.get("usb", {}).get("state") == state, timeout)

    def uefi_prompt(self, timeout=30):
        """A fresh UEFI shell prompt, asked for through the serial console
        (not the agent's keyboard): Enter on an empty line."""
        self.mark()
        self.server_send("\r")
        self.wait_for(SHELL_PROMPT + "$", timeout)

    # --- MQTT -----------------------------------------------------------

    def mqtt(self):
        """A connected client (tests/integration/zbtest.Client) subscribed
        to zerobmc/lab/#."""
        if self._mqtt is None:
            sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))
            import zbtest
            self._mqtt = zbtest.Client(self.state["broker_port"])
            self._mqtt.subscribe("zerobmc/%s/#" % AGENT_ID)
        return self._mqtt

    def wait_online(self, timeout=120):
        t0 = self.state.get("pi_started", time.time())
        self.mqtt().wait(lambda m: m["topic"] == "zerobmc/%s/status"
                         % AGENT_ID and m["payload"] == b"online",
                         timeout, "agent online")
        if "agent_online_s" not in self.state["times"]:
            self.timing("agent_online_s", time.time() - t0)

    def cmd(self, name, payload, timeout=60, wait=True):
        """Publishes a command (dict → JSON with a fresh id); returns the
        result dict, or None without wait."""
        c = self.mqtt()
        self._seq += 1
        cid = "lab%d-%d" % (self._seq, time.monotonic_ns())
        if not isinstance(payload, dict):
            payload = {"text": payload} if name == "type" else \
                {"keys": payload}
        data = json.dumps(dict(payload, id=cid))
        c.publish("zerobmc/%s/cmd/%s" % (AGENT_ID, name), data)
        if not wait:
            return cid
        return self.result(cid, timeout)

    def result(self, cid, timeout=60):
        def pred(m):
            if m["topic"] != "zerobmc/%s/result" % AGENT_ID:
                return False
            try:
                return json.loads(m["payload"]).get("id") == cid
            except ValueError:
                return False
        m = self.mqtt().wait(pred, timeout, "result of " + cid)
        return json.loads(m["payload"])

    def console_mark(self):
        """The number of MQTT messages seen so far: wait_console looks at
        later ones."""
        c = self.mqtt()
        with c.lock:
            return len(c.msgs)

    def wait_console(self, regex, since, timeout):
        """Waits for a line on zerobmc/lab/console (the server's ttyACM0
        through the agent) published after message number `since`;
        returns the time it was seen."""
        c = self.mqtt()
        rx = re.compile(regex)
        topic = "zerobmc/%s/console" % AGENT_ID
        end = time.time() + timeout
        while True:
            with c.lock:
                msgs = c.msgs[since:]
            for m in msgs:
                if m["topic"] == topic and rx.search(
                        m["payload"].decode("utf-8", "replace")):
                    return time.time()
            if time.time() > end:
                raise LabError("no /%s/ on %s within %d s; server console:"
                               "\n%s" % (regex, topic, timeout,
                                         self.console()[-1500:]))
            if "server" in self.state["procs"] and not self.running("server"):
                raise LabError("server VM exited; see "
                               + self.path("server-qemu.out"))
            time.sleep(0.2)

    def agent_state(self, pred=None, timeout=30):
        """The newest state document (matching pred, if given)."""
        topic = "zerobmc/%s/state" % AGENT_ID
        end = time.time() + timeout
        c = self.mqtt()
        while True:
            with c.lock:
                docs = [m for m in c.msgs if m["topic"] == topic]
            for m in reversed(docs):
                try:
                    doc = json.loads(m["payload"])
                except ValueError:
                    continue
                try:
                    ok = pred is None or pred(doc)
                except (KeyError, TypeError, AttributeError):
                    ok = False
                if ok:
                    return doc
                break
            if time.time() > end:
                raise LabError("no matching state within %d s; last: %s"
                               % (timeout, docs[-1]["payload"][:400]
                                  if docs else None))
            time.sleep(0.1)

    # --- whole labs -----------------------------------------------------

    def boot(self, server="uefi", gadget="agent", sections=None,
             zerobmc=None):
        """Broker, Pi and server, in parallel where it helps: the server
        VM boots its firmware while the Pi boots (usb-redir reconnects)."""
        self.start_broker()
        self.start_web()
        self.start_pi(gadget=gadget, sections=sections, wait=False,
                      zerobmc=zerobmc)
        if server != "none":
            self.start_server(server, power_on=False)
        self.wait_pi()
        if gadget in ("agent", "early"):
            self.wait_online()
        if server != "none":
            self._power_on()
        return self

    @classmethod
    def for_test(cls, server="uefi"):
        """The suite's running lab ($ZB_LAB_RUN), or a private one that is
        stopped when the test ends."""
        run = os.environ.get("ZB_LAB_RUN")
        if run and os.path.exists(os.path.join(run, "lab.json")):
            lab = cls(run, owner=False)
            if not lab.running("pi"):
                raise LabError("the suite's lab in %s is not running" % run)
            atexit.register(lab.close_clients)
            lab.settle()
            return lab
        lab = cls(tempfile.mkdtemp(prefix="zblab-"), owner=True)
        lab.own()
        lab.boot(server=server)
        return lab

    def own(self):
        """This process owns the lab: stop it on exit and on signals."""
        atexit.register(self.stop)

        def on_signal(sig, frame):
            self.stop()
            sys.exit(128 + sig)

        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, on_signal)
        self.start_reaper(owner_pid=os.getpid())


HOWTO = """
zerobmc lab: the agent runs in the Pi VM, the server VM shows its screen
(serial console) below. Drive it from another terminal:

  mosquitto_pub -h 127.0.0.1 -t zerobmc/lab/cmd/type -m 'echo hello'
  mosquitto_pub -h 127.0.0.1 -t zerobmc/lab/cmd/key -m 'enter'
  mosquitto_pub -h 127.0.0.1 -t zerobmc/lab/cmd/key -m 'ctrl+alt+delete'
  mosquitto_pub -h 127.0.0.1 -t zerobmc/lab/cmd/reboot -n
  mosquitto_pub -h 127.0.0.1 -t zerobmc/lab/cmd/type \\
      -m '{"text":"echo slow and sure\\n","profile":"bios"}'
  mosquitto_sub -h 127.0.0.1 -t 'zerobmc/lab/#' -v

One keyboard job at a time: a key sent while text is still being typed
gets "busy" (results show below).
Logs: %s (agent: share/agent.log).
Ctrl+C stops everything this started.
"""


def up(run, server, port, raw):
    """scripts/lab: a lab on 127.0.0.1:PORT, the server's console shown
    here until Ctrl+C."""
    if port_taken(port):
        print("lab: 127.0.0.1:%d is taken (a mosquitto already running?). "
              "Stop it, or pick another port with --port." % port,
              file=sys.stderr)
        return 1
    if os.path.exists(os.path.join(run, "lab.json")):
        Lab(run).stop()
    os.makedirs(run, exist_ok=True)
    lab = Lab(run)
    lab.own()
    t0 = time.time()
    print("lab: booting the Pi VM and the server VM (%s) in %s ..."
          % (server, run), flush=True)
    lab.start_broker(port)
    lab.start_web()
    lab.start_pi(wait=False)
    lab.start_server(server, power_on=False)
    lab.wait_pi()
    lab.wait_online()
    lab._power_on()
    print("lab: agent online after %.0f s" % (time.time() - t0))
    print(HOWTO % run, flush=True)
    c = lab.mqtt()
    seen = 0
    offset = 0
    while True:
        raw_bytes = lab.console_raw()
        if len(raw_bytes) > offset:
            chunk = raw_bytes[offset:]
            offset = len(raw_bytes)
            if raw:
                sys.stdout.buffer.write(chunk)
            else:
                sys.stdout.write(strip_ansi(chunk))
            sys.stdout.flush()
        with c.lock:
            msgs = c.msgs[seen:]
            seen = len(c.msgs)
        for m in msgs:
            text = m["payload"].decode("utf-8", "replace")
            if m["topic"].endswith(("/result", "/status")):
                print("\n[mqtt %s] %s" % (m["topic"], text), flush=True)
            elif m["topic"].endswith("/console"):
                # The server's ttyACM0, through the gadget and the agent.
                print("\n[console] %s" % strip_ansi(m["payload"]),
                      flush=True)
        if not lab.running("server") or not lab.running("pi"):
            print("\nlab: a VM stopped; see " + run, file=sys.stderr)
            return 1
        time.sleep(0.1)


def reaper(run, owner, deadline):
    """Stops the lab's processes when the owner is gone, lab.json is gone
    or the deadline passed. Re-reads lab.json since tests restart VMs."""
    path = os.path.join(run, "lab.json")
    procs = {}
    while True:
        try:
            with open(path) as f:
                procs = json.load(f).get("procs", {})
        except (OSError, ValueError):
            if not os.path.exists(path):
                break
        if owner and not os.path.exists("/proc/%d" % owner):
            break
        if time.time() > deadline:
            break
        time.sleep(1)
    for name, entry in procs.items():
        if name != "reaper":
            kill_entry(entry)


def main(argv):
    if len(argv) < 3 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) > 1 and argv[1] in ("-h", "--help") else 2
    what, run = argv[1], argv[2]
    if what == "up":
        opts = dict(zip(argv[3::2], argv[4::2]))
        return up(run, opts.get("--server", "uefi"),
                  int(opts.get("--port", "1883")), opts.get("--raw") == "1")
    if what == "reaper":
        reaper(run, int(argv[3]), float(argv[4]))
        return 0
    if what == "setup":
        server = "uefi"
        if "--server" in argv:
            server = argv[argv.index("--server") + 1]
        if os.path.exists(os.path.join(run, "lab.json")):
            Lab(run).stop()
        os.makedirs(run, exist_ok=True)
        lab = Lab(run)
        lab.start_reaper()
        t0 = time.time()
        try:
            lab.boot(server=server)
            if server == "uefi":
                lab.wait_uefi_shell()
        except Exception:
            lab.stop()
            raise
        lab.timing("setup_s", time.time() - t0)
        lab.close_clients()
        print("lab: running in %s: %s" % (run, json.dumps(lab.state["times"])))
        return 0
    if what == "cleanup":
        lab = Lab(run)
        print("lab: timings %s" % json.dumps(lab.state.get("times", {})))
        lab.stop()
        return 0
    if what == "status":
        lab = Lab(run)
        for name, e in lab.state.get("procs", {}).items():
            print(name, e[0], "running" if alive(e) else "gone")
        print(json.dumps(lab.state.get("times", {})))
        return 0
    if what == "shell":
        print(Lab(run).pi_shell(" ".join(argv[3:]), check=False), end="")
        return 0
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
