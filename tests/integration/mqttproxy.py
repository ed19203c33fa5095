"""A TCP proxy between the agent and the broker for fault injection.

It forwards both ways on real sockets. Packets from the client (the
agent) are framed as MQTT (fixed header, remaining length) so a test can
drop chosen ones; the proxy can also cut every connection, optionally
after a given number of bytes, stall (stop forwarding) or delay.
"""
import random
import socket
import threading
import time


def _read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def read_packet(sock):
    """One MQTT control packet: (first byte, whole packet bytes)."""
    head = _read_exact(sock, 1)
    length, mult, raw = 0, 1, b""
    while True:
        b = _read_exact(sock, 1)
        raw += b
        length += (b[0] & 0x7F) * mult
        if not b[0] & 0x80:
            break
        mult *= 128
        if len(raw) > 4:
            raise ValueError("bad remaining length")
    body = _read_exact(sock, length)
    return head[0], head + raw + body


def publish_payload(packet, version=5):
    """The payload of a PUBLISH packet (MQTT 5 framing), or None."""
    first = packet[0]
    if first >> 4 != 3:
        return None
    i = 1
    while packet[i] & 0x80:
        i += 1
    i += 1
    tlen = int.from_bytes(packet[i:i + 2], "big")
    i += 2 + tlen
    if (first >> 1) & 3:
        i += 2  # packet identifier
    if version == 5:
        plen, mult = 0, 1
        while True:
            b = packet[i]
            i += 1
            plen += (b & 0x7F) * mult
            if not b & 0x80:
                break
            mult *= 128
        i += plen
    return packet[i:]


def puback_refusal(packet, reason=0x80):
    """An MQTT 5 PUBACK refusing a QoS 1 PUBLISH (reason: unspecified)."""
    i = 1
    while packet[i] & 0x80:
        i += 1
    i += 1
    tlen = int.from_bytes(packet[i:i + 2], "big")
    pid = packet[i + 2 + tlen:i + 4 + tlen]
    return bytes([0x40, 3]) + pid + bytes([reason])


class Proxy:
    def __init__(self, upstream_port, drop=None, raw=False):
        self.upstream = ("127.0.0.1", upstream_port)
        self.raw = raw  # bytes as they come (TLS): no MQTT framing
        # f(packet bytes) -> None (forward), True (drop) or bytes (drop
        # and answer the client with these), for client packets.
        self.drop = drop
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.lock = threading.Lock()
        self.conns = []
        self.stalled = threading.Event()
        self.delay_s = 0.0
        self.cut_at = None  # bytes forwarded (both ways) before a cut
        self.forwarded = 0
        self.cuts = 0
        self.accepted = 0
        self.dropped = 0
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closing:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(self.upstream, timeout=5)
                u.settimeout(None)
            except OSError:
                c.close()
                continue
            for s in (c, u):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.conns.append((c, u))
                self.accepted += 1
            threading.Thread(target=self._down if self.raw else self._up,
                             args=(c, u), daemon=True).start()
            threading.Thread(target=self._down, args=(u, c),
                             daemon=True).start()

    def _wait(self):
        while self.stalled.is_set() and not self.closing:
            time.sleep(0.01)
        if self.delay_s:
            time.sleep(self.delay_s)

    def _count(self, n, pair):
        with self.lock:
            self.forwarded += n
            if self.cut_at is not None and self.forwarded >= self.cut_at:
                self.cut_at = None
                self.cuts += 1
                self._close(pair)
                return False
        return True

    def _close(self, pair):
        for s in pair:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _up(self, c, u):
        try:
            while True:
                _, pkt = read_packet(c)
                self._wait()
                verdict = self.drop(pkt) if self.drop else None
                if verdict:
                    self.dropped += 1
                    if isinstance(verdict, bytes):
                        c.sendall(verdict)
                    continue
                u.sendall(pkt)
                if not self._count(len(pkt), (c, u)):
                    return
        except (OSError, ConnectionError, ValueError):
            self._close((c, u))

    def _down(self, u, c):
        try:
            while True:
                data = u.recv(65536)
                if not data:
                    break
                self._wait()
                c.sendall(data)
                if not self._count(len(data), (c, u)):
                    return
        except OSError:
            pass
        self._close((c, u))

    def cut(self, after_bytes=0):
        """Cut the connections now, or after more bytes forwarded."""
        with self.lock:
            if after_bytes:
                self.cut_at = self.forwarded + after_bytes
                return
            pairs, self.conns = self.conns, []
            self.cuts += 1
        for p in pairs:
            self._close(p)

    def cut_random(self, rng, max_bytes=4096):
        self.cut(rng.randint(1, max_bytes))

    def close(self):
        self.closing = True
        self.lsock.close()
        with self.lock:
            pairs, self.conns = self.conns, []
        for p in pairs:
            self._close(p)


__all__ = ["Proxy", "read_packet", "publish_payload", "random"]
