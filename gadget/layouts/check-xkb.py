#!/usr/bin/python3
"""Compare the layout tables with the XKB data of this machine.

Runs the test_layouts program with ZB_LAYOUT_DUMP=1 (it prints every
character each layout can type, with its keystrokes), then asks
libxkbcommon (package libxkbcommon0, data from xkb-data) which character
each keystroke gives on Linux, and the X11 Compose table (libx11-data)
what a dead key followed by a key gives. Prints every disagreement and
exits 1 if there is one.

    gadget/layouts/check-xkb.py BUILD/tests/unit/test_layouts

A developer tool, not a test: it needs the system's keyboard data.
"""
import ctypes
import os
import re
import subprocess
import sys

XKB_NAMES = {
    "us": ("us", ""), "us-intl": ("us", "intl"), "gb": ("gb", ""),
    "de": ("de", ""), "ch-de": ("ch", ""), "fr": ("fr", ""),
    "be": ("be", ""), "es": ("es", ""), "it": ("it", ""), "nl": ("nl", ""),
    "pt": ("pt", ""), "dk": ("dk", ""), "no": ("no", ""), "se": ("se", ""),
    "fi": ("fi", ""),
}
COMPOSE = "/usr/share/X11/locale/en_US.UTF-8/Compose"

# HID usage to Linux input keycode, as drivers/hid/hid-input.c maps them.
LETTERS = [30, 48, 46, 32, 18, 33, 34, 35, 23, 36, 37, 38, 50, 49, 24, 25,
           16, 19, 31, 20, 22, 47, 17, 45, 21, 44]
EVDEV = {0x04 + i: k for i, k in enumerate(LETTERS)}
EVDEV.update({0x1e + i: 2 + i for i in range(10)})
EVDEV.update({0x28: 28, 0x29: 1, 0x2a: 14, 0x2b: 15, 0x2c: 57, 0x2d: 12,
              0x2e: 13, 0x2f: 26, 0x30: 27, 0x31: 43, 0x32: 43, 0x33: 39,
              0x34: 40, 0x35: 41, 0x36: 51, 0x37: 52, 0x38: 53, 0x64: 86})
KEY_LEFTSHIFT, KEY_RIGHTALT = 42, 100


class RuleNames(ctypes.Structure):
    _fields_ = [(n, ctypes.c_char_p)
                for n in ("rules", "model", "layout", "variant", "options")]


def load_xkb():
    x = ctypes.CDLL("libxkbcommon.so.0")
    x.xkb_context_new.restype = ctypes.c_void_p
    x.xkb_keymap_new_from_names.restype = ctypes.c_void_p
    x.xkb_keymap_new_from_names.argtypes = [
        ctypes.c_void_p, ctypes.POINTER(RuleNames), ctypes.c_int]
    x.xkb_state_new.restype = ctypes.c_void_p
    x.xkb_state_new.argtypes = [ctypes.c_void_p]
    x.xkb_state_unref.argtypes = [ctypes.c_void_p]
    x.xkb_state_update_key.argtypes = [
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int]
    x.xkb_state_key_get_one_sym.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    x.xkb_state_key_get_one_sym.restype = ctypes.c_uint32
    x.xkb_keysym_to_utf32.argtypes = [ctypes.c_uint32]
    x.xkb_keysym_to_utf32.restype = ctypes.c_uint32
    x.xkb_keysym_get_name.argtypes = [
        ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t]
    return x


def keysym(x, keymap, mods, usage):
    """(name, utf32) of the keysym one keystroke gives."""
    st = x.xkb_state_new(keymap)
    if mods & 0x02:
        x.xkb_state_update_key(st, KEY_LEFTSHIFT + 8, 1)
    if mods & 0x40:
        x.xkb_state_update_key(st, KEY_RIGHTALT + 8, 1)
    sym = x.xkb_state_key_get_one_sym(st, EVDEV[usage] + 8)
    x.xkb_state_unref(st)
    buf = ctypes.create_string_buffer(64)
    x.xkb_keysym_get_name(sym, buf, 64)
    return buf.value.decode(), x.xkb_keysym_to_utf32(sym)


def load_compose():
    table = {}
    pat = re.compile(r'^<(dead_\w+)>\s+<(\w+)>\s*:\s*"((?:\\.|[^"])*)"')
    with open(COMPOSE, encoding="utf-8") as f:
        for line in f:
            m = pat.match(line)
            if m:
                text = m.group(3).encode().decode("unicode_escape") \
                    if "\\" in m.group(3) else m.group(3)
                table[(m.group(1), m.group(2))] = text
    return table


def main():
    prog = sys.argv[1] if len(sys.argv) > 1 else "test_layouts"
    dump = subprocess.run([prog], env=dict(os.environ, ZB_LAYOUT_DUMP="1"),
                          check=True, capture_output=True, text=True).stdout
    x = load_xkb()
    ctx = x.xkb_context_new(0)
    compose = load_compose()
    keymaps = {}
    bad = 0
    count = 0
    for line in dump.splitlines():
        name, cp, n, m0, u0, m1, u1 = line.split()
        cp, n, m0, u0, m1, u1 = map(int, (cp, n, m0, u0, m1, u1))
        if name not in keymaps:
            lay, var = XKB_NAMES[name]
            rn = RuleNames(b"evdev", b"pc105", lay.encode(), var.encode(), b"")
            keymaps[name] = x.xkb_keymap_new_from_names(ctx, ctypes.byref(rn), 0)
        km = keymaps[name]
        count += 1
        if cp in (9, 10):
            want = {9: "Tab", 10: "Return"}[cp]
            got = keysym(x, km, m0, u0)[0]
            if got != want:
                print(f"{name}: U+{cp:04X}: key gives {got}")
                bad += 1
            continue
        if n == 1:
            sym, c = keysym(x, km, m0, u0)
            if c != cp:
                print(f"{name}: U+{cp:04X} {chr(cp)!r}: {m0:02x}/{u0:02x} "
                      f"gives {sym} {chr(c) if c else ''!r}")
                bad += 1
            continue
        dead = keysym(x, km, m0, u0)[0]
        base = keysym(x, km, m1, u1)[0]
        got = compose.get((dead, base))
        if got != chr(cp):
            print(f"{name}: U+{cp:04X} {chr(cp)!r}: {dead} + {base} gives {got!r}")
            bad += 1
    print(f"{count} mappings checked, {bad} disagree with XKB")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
