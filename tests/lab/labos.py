#!/usr/bin/python3
"""Builds what the reinstall lab boots (issue 19), without root or loop
mounts: truncate, sfdisk, mkfs.vfat -C, mtools (-i disk.img@@1M) and dd
conv=notrunc.

- An OS disk: a GPT disk image whose EFI system partition holds
  systemd-boot (loader.conf timeout 0, one entry) starting the lab's server
  Linux with zb.os=NAME; that Linux says "zerobmc-lab: OS NAME" on ttyACM0
  (the agent publishes it on zerobmc/lab/console) and on its serial console.
  The server VM boots "OS A" from its virtio disk.
- The installer: a FAT image for the gadget's LUN whose
  \\EFI\\BOOT\\BOOTX64.EFI is systemd-boot starting a small Linux that
  writes the raw image osb.img.gz on the same medium to /dev/vda (as
  MAAS, Ironic and Tinkerbell deploy), adds a boot entry for it with
  efibootmgr (first in BootOrder), and gives the done signal: "zerobmc-lab: installer done" on ttyACM0 and
  the serial console, and a file zerobmc/done on the medium when it is
  writable (the agent's cmd/reinstall "done_marker").
- The UEFI shell of Debian's OVMF, extracted with UEFIExtract (cached like
  the kernel), for the agent's [uefi] shell.

  labos.py os-disk OUT NAME          GPT disk booting "OS NAME"
  labos.py installer OUT [NAME] [media-first]
                                     installer medium writing "OS NAME" (B)
  labos.py uefi-shell                extract the shell, print its path
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import labbuild  # noqa: E402

SYSTEMD_BOOT = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE.fd"
# The UEFI shell application's file GUID in EDK2 (ShellPkg).
SHELL_GUID = "7C04A583-9E3E-4F1C-AD65-E05268D0B4D1"
ESP_START_MIB = 1
OS_CMDLINE = "console=ttyS0,115200 quiet panic=-1"
# The installer writes the disk, mounts its medium and sets a boot entry.
INSTALLER_MODULES = labbuild.SERVER_MODULES + """virtio_ring virtio
virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk fat vfat
nls_cp437 nls_ascii efivarfs""".split()
DONE_LINE = "zerobmc-lab: installer done"
DONE_FILE = "zerobmc/done"  # for the agent's cmd/reinstall "done_marker"


def os_line(name):
    """The line an OS of the lab says on ttyACM0 once it is up."""
    return "zerobmc-lab: OS %s" % name


def _copy_in(img, files):
    """files: {path in the FAT (folders made first): bytes}, with mtools."""
    made = set()
    with tempfile.TemporaryDirectory() as d:
        for name, data in files.items():
            parts = name.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                folder = "/".join(parts[:i])
                if folder not in made:
                    labbuild.run("mmd", "-i", img, "::" + folder)
                    made.add(folder)
            p = os.path.join(d, "f")
            with open(p, "wb") as f:
                f.write(data)
            labbuild.run("mcopy", "-i", img, "-o", p, "::" + name)


def _read(v):
    if isinstance(v, str) and os.path.exists(v):
        with open(v, "rb") as f:
            return f.read()
    return v.encode() if isinstance(v, str) else v


def fat_tree(out, files, label, spare_kb=2048):
    datas = {k: _read(v) for k, v in files.items()}
    # FAT overhead: clusters, tables, folders.
    size_kb = sum(len(d) for d in datas.values()) * 11 // 10 // 1024 + spare_kb
    if os.path.exists(out):
        os.unlink(out)
    labbuild.run("mkfs.vfat", "-C", "-n", label, out, str(max(size_kb, 4096)),
                 stdout=subprocess.DEVNULL)
    _copy_in(out, datas)
    return out


def _boot_files(entry_title, options, initrd):
    """systemd-boot as the removable-media loader and at its own path (for
    a boot entry made with efibootmgr), one entry, no menu."""
    sdboot = _read(SYSTEMD_BOOT)
    k = labbuild.kernel()
    return {
        "EFI/BOOT/BOOTX64.EFI": sdboot,
        "EFI/systemd/systemd-bootx64.efi": sdboot,
        "loader/loader.conf": "default lab.conf\ntimeout 0\n",
        "loader/entries/lab.conf": "title %s\nlinux /vmlinuz\ninitrd "
        "/initrd.gz\noptions %s\n" % (entry_title, options),
        "vmlinuz": k["vmlinuz"],
        "initrd.gz": initrd,
    }


def os_disk(out, name, work=None):
    """A raw GPT disk: one EFI system partition at 1 MiB booting "OS NAME"
    (the lab's server Linux; zb.os=NAME on its command line)."""
    work = work or os.path.dirname(os.path.abspath(out))
    initrd = labbuild.server_initrd(os.path.join(work, "server-initrd.gz"))
    esp = out + ".esp"
    fat_tree(esp, _boot_files("zerobmc lab OS %s" % name,
                          "%s zb.os=%s" % (OS_CMDLINE, name), initrd),
         "ZBOS" + name.upper()[:7])
    esp_bytes = os.path.getsize(esp)
    # The partition table's backup copy needs 33 sectors at the end.
    total = (ESP_START_MIB << 20) + esp_bytes + (1 << 20)
    tmp = out + ".tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    labbuild.run("truncate", "-s", str(total), tmp)
    table = ("label: gpt\nstart=%dMiB, size=%d, "
             "type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"ESP\"\n"
             % (ESP_START_MIB, esp_bytes // 512))
    labbuild.run("sfdisk", "-q", tmp, input=table.encode(),
                 stdout=subprocess.DEVNULL)
    labbuild.run("dd", "if=" + esp, "of=" + tmp, "bs=1M",
                 "seek=%d" % ESP_START_MIB, "conv=notrunc", "status=none")
    os.unlink(esp)
    os.replace(tmp, out)
    return out


def installer_initrd(out):
    """The server Linux plus the installer (rootfs/installer): virtio_blk,
    vfat, efivarfs and efibootmgr with its libraries."""
    k = labbuild.kernel()
    c = labbuild._base(k, INSTALLER_MODULES, "server")
    for src in glob.glob(os.path.join(labbuild.ROOTFS, "installer", "**"),
                         recursive=True):
        if os.path.isfile(src):
            c.host_file(src, os.path.relpath(
                src, os.path.join(labbuild.ROOTFS, "installer")))
    c.program(shutil.which("efibootmgr") or "/usr/bin/efibootmgr")
    c.symlink("init", "usr/bin/busybox")
    return c.write(out)


def installer_img(out, name="B", work=None, media_first=False):
    """The installer medium: boots by itself (systemd-boot as
    \\EFI\\BOOT\\BOOTX64.EFI) and writes osb.img.gz ("OS NAME") to /dev/vda.
    Its boot entry goes first in BootOrder, unless media_first: then the
    medium it booted from stays first."""
    work = work or os.path.dirname(os.path.abspath(out))
    disk = os_disk(os.path.join(work, "os-%s.img" % name), name, work)
    gz = disk + ".gz"
    with open(gz, "wb") as f:
        subprocess.run(["gzip", "-1", "-n", "-c", disk], stdout=f, check=True)
    os.unlink(disk)
    initrd = installer_initrd(os.path.join(work, "installer-initrd.gz"))
    files = _boot_files("zerobmc lab installer", "%s zb.install=%s%s"
                        % (OS_CMDLINE, name,
                           " zb.mediafirst=1" if media_first else ""), initrd)
    files["osb.img.gz"] = gz
    files["zbinstall"] = "%s\n" % name
    fat_tree(out + ".tmp", files, "ZBINSTALL")
    os.unlink(gz)
    os.replace(out + ".tmp", out)
    return out


def uefi_shell():
    """The UEFI shell inside Debian's OVMF_CODE.fd, extracted once into the
    cache; returns the path of the PE32+ application."""
    dest = os.path.join(labbuild.CACHE, "uefi-shell-x64.efi")
    if os.path.exists(dest):
        return dest
    os.makedirs(labbuild.CACHE, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=labbuild.CACHE) as d:
        code = os.path.join(d, "OVMF_CODE.fd")
        shutil.copyfile(OVMF_CODE, code)
        labbuild.run("UEFIExtract", code, SHELL_GUID, "-o",
                     os.path.join(d, "sh"), "-m", "body", "-t", "10",
                     stdout=subprocess.DEVNULL)
        bodies = [p for p in glob.glob(os.path.join(d, "sh", "**"),
                                       recursive=True)
                  if os.path.isfile(p) and open(p, "rb").read(2) == b"MZ"]
        if not bodies:
            raise SystemExit("labos: no UEFI shell (%s) in %s"
                             % (SHELL_GUID, OVMF_CODE))
        shutil.copyfile(max(bodies, key=os.path.getsize), dest + ".tmp")
    os.replace(dest + ".tmp", dest)
    return dest


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 2
    what = argv[1]
    if what == "os-disk" and len(argv) == 4:
        print(os_disk(argv[2], argv[3]))
    elif what == "installer" and len(argv) in (3, 4, 5):
        print(installer_img(argv[2], argv[3] if len(argv) > 3 else "B",
                            media_first=argv[4:] == ["media-first"]))
    elif what == "uefi-shell":
        print(uefi_shell())
    else:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
