#!/usr/bin/env python3
"""A Pusher Channels client in Python over the C ABI (ctypes and libpusher_ffi.so): the
sans-IO core does the protocol, this file the sockets, the clock and the loop.

    pusher_client.py HOST PORT KEY SECRET CHANNEL... [--count N] [--timeout-ms MS]
                     [--master-key B64] [--lib PATH]

Prints one line per event, as examples/c/client.c does. Exits 0 after N channel events, 1 on
a fatal error or when the time runs out, 2 on bad arguments.
"""
import argparse
import ctypes as C
import os
import select
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_LIB = os.path.join(HERE, "..", "..", "adapters", "ffi", "target", "release", "libpusher_ffi.so")


class Str(C.Structure):
    _fields_ = [("ptr", C.c_void_p), ("len", C.c_size_t)]

    def text(self):
        return C.string_at(self.ptr, self.len).decode() if self.ptr else None


class Config(C.Structure):
    _fields_ = [("app_key", Str), ("host", Str), ("path_prefix", Str), ("client_name", Str),
                ("version", Str), ("use_tls", C.c_bool)] + \
               [(f, C.c_uint64) for f in ("activity_timeout_ms", "pong_timeout_ms",
                                          "unavailable_timeout_ms", "connect_timeout_ms",
                                          "backoff_base_ms", "backoff_cap_ms", "stable_after_ms")] + \
               [("max_attempts", C.c_uint32), ("max_message", C.c_size_t),
                ("client_events_per_sec", C.c_uint32)]


class Buffers(C.Structure):
    _fields_ = [("rx", C.c_void_p), ("rx_len", C.c_size_t), ("tx", C.c_void_p),
                ("tx_len", C.c_size_t), ("presence", C.c_void_p), ("presence_len", C.c_size_t)]


class Event(C.Structure):
    _fields_ = [("kind", C.c_int), ("channel", Str), ("name", Str), ("data", Str),
                ("user_id", Str), ("socket_id", Str), ("reason", Str), ("code", C.c_int32),
                ("retry_in_ms", C.c_int64), ("count", C.c_uint64), ("previous", C.c_int),
                ("current", C.c_int), ("retry", C.c_int), ("is_new", C.c_bool)]


# PusherEventKind, PusherAction and PusherState values (pusher.h).
STATE_CHANGED, DISCONNECTED, ERROR, MALFORMED, AUTH_REQUIRED = 1, 2, 4, 5, 6
SUBSCRIBED, SUBSCRIPTION_ERROR, MESSAGE, DECRYPTION_FAILED = 8, 9, 10, 18
OPEN_PLAIN, OPEN_TLS, CLOSE = 1, 2, 3
STATES = ["initialized", "connecting", "connected", "unavailable", "disconnected", "failed"]


class Pusher:
    """The ABI's functions with their signatures, and strings kept alive while borrowed."""

    def __init__(self, path):
        try:
            self.lib = lib = C.CDLL(path)
        except OSError as e:
            raise RuntimeError(f"cannot load the C ABI library ({e}); build it with "
                               "`cargo build --release` in adapters/ffi, or pass --lib") from None
        P, I32, U64, SZ = C.c_void_p, C.c_int32, C.c_uint64, C.c_size_t
        sigs = {
            "pusher_client_size": ([], SZ), "pusher_client_align": ([], SZ),
            "pusher_config_default": ([C.POINTER(Config), Str, Str], I32),
            "pusher_client_init": ([P, SZ, C.POINTER(Config), Buffers, U64, C.POINTER(P)], I32),
            "pusher_client_hold_for_rekey": ([P, P, SZ], I32),
            "pusher_connect": ([P, U64], I32), "pusher_handle_connected": ([P, U64], I32),
            "pusher_handle_closed": ([P, U64], I32), "pusher_handle_timeout": ([P, U64], I32),
            "pusher_poll_action": ([P, C.POINTER(C.c_int)], I32),
            "pusher_poll_timeout": ([P, C.POINTER(U64)], I32),
            "pusher_rx_buffer": ([P, C.POINTER(P), C.POINTER(SZ)], I32),
            "pusher_commit_rx": ([P, SZ, U64], I32),
            "pusher_poll_transmit": ([P, C.POINTER(P), C.POINTER(SZ)], I32),
            "pusher_consume_tx": ([P, SZ], I32),
            "pusher_poll_event": ([P, C.POINTER(Event)], I32),
            "pusher_subscribe": ([P, Str], I32),
            "pusher_provide_auth": ([P, Str, Str, Str, Str], I32),
            "pusher_provide_encrypted_auth": ([P, Str, Str, Str, Str], I32),
            "pusher_auth_failed": ([P, Str, Str, I32], I32),
            "pusher_sign_channel": ([Str, Str, P, Str, Str, Str, P, SZ, C.POINTER(SZ),
                                     C.POINTER(Str), C.POINTER(Str)], I32),
            "pusher_decode_master_key": ([Str, P], I32),
            "pusher_strerror": ([I32], C.c_char_p),
        }
        for name, (args, res) in sigs.items():
            f = getattr(lib, name)
            f.argtypes, f.restype = args, res
        self.kept = []

    def s(self, text):
        """A Str of `text`, kept alive for the client's life (the client borrows config strings)."""
        if text is None:
            return Str(None, 0)
        b = C.create_string_buffer(text.encode(), len(text.encode()))
        self.kept.append(b)
        return Str(C.cast(b, C.c_void_p), len(b))

    def check(self, what, r):
        if r < 0:
            raise RuntimeError(f"{what}: {self.lib.pusher_strerror(r).decode()} ({r})")
        return r


def now_ms():
    return int(time.monotonic() * 1000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host"), ap.add_argument("port", type=int)
    ap.add_argument("key"), ap.add_argument("secret"), ap.add_argument("channels", nargs="+")
    ap.add_argument("--count", type=int, default=-1)
    ap.add_argument("--timeout-ms", type=int, default=60000)
    ap.add_argument("--master-key")
    ap.add_argument("--lib", default=os.environ.get("PUSHER_FFI_LIB", DEFAULT_LIB))
    a = ap.parse_args()
    p = Pusher(a.lib)
    lib = p.lib

    master = None
    if a.master_key:
        master = (C.c_uint8 * 32)()
        p.check("--master-key", lib.pusher_decode_master_key(p.s(a.master_key), master))

    config = Config()
    p.check("config", lib.pusher_config_default(C.byref(config), p.s(a.key), p.s(f"{a.host}:{a.port}")))
    config.use_tls = False
    align = lib.pusher_client_align()
    raw = C.create_string_buffer(lib.pusher_client_size() + align)
    mem = (C.addressof(raw) + align - 1) // align * align
    rx, tx, hold = (C.create_string_buffer(n) for n in (16384, 2048, 2048))
    buffers = Buffers(C.addressof(rx), len(rx), C.addressof(tx), len(tx), None, 0)
    client = C.c_void_p()
    p.check("init", lib.pusher_client_init(mem, lib.pusher_client_size(), C.byref(config), buffers,
                                           int.from_bytes(os.urandom(8), "little"), C.byref(client)))
    c = client.value
    p.check("hold", lib.pusher_client_hold_for_rekey(c, C.addressof(hold), len(hold)))
    for ch in a.channels:
        p.check(ch, lib.pusher_subscribe(c, p.s(ch)))

    sock, events, start = None, 0, now_ms()
    lib.pusher_connect(c, start)
    ev, action, ptr, n, deadline = Event(), C.c_int(), C.c_void_p(), C.c_size_t(), C.c_uint64()

    def flush():
        nonlocal sock
        while sock and lib.pusher_poll_transmit(c, C.byref(ptr), C.byref(n)) == 1:
            try:
                sent = sock.send(C.string_at(ptr.value, n.value))
            except OSError as e:
                print(f"send: {e}", file=sys.stderr)
                sock.close()
                sock = None
                lib.pusher_handle_closed(c, now_ms())
                return
            p.check("consume_tx", lib.pusher_consume_tx(c, sent))

    while True:
        while lib.pusher_poll_action(c, C.byref(action)) == 1:
            if action.value == OPEN_PLAIN:
                try:
                    sock = socket.create_connection((a.host, a.port), timeout=5)
                    lib.pusher_handle_connected(c, now_ms())
                except OSError as e:
                    print(f"connect {a.host}:{a.port}: {e}", file=sys.stderr)
                    lib.pusher_handle_closed(c, now_ms())
            elif action.value == OPEN_TLS:
                print("the server asks for TLS, which this example does not do", file=sys.stderr)
                return 1
            else:
                flush()
                if sock:
                    sock.close()
                sock = None
                lib.pusher_handle_closed(c, now_ms())
        flush()
        while (r := lib.pusher_poll_event(c, C.byref(ev))) == 1:
            k = ev.kind
            if k == STATE_CHANGED:
                print("state", STATES[ev.current])
                if STATES[ev.current] in ("failed", "disconnected"):
                    return 1
            elif k == DISCONNECTED:
                print(f"disconnected: {ev.reason.text()} (code {ev.code}, retry in {ev.retry_in_ms} ms)")
            elif k == AUTH_REQUIRED:
                out, length, auth, secret = C.create_string_buffer(256), C.c_size_t(), Str(), Str()
                r = lib.pusher_sign_channel(p.s(a.key), p.s(a.secret), master, ev.socket_id, ev.channel,
                                            Str(None, 0), out, len(out), C.byref(length),
                                            C.byref(auth), C.byref(secret))
                if r == 0 and secret.ptr:
                    r = lib.pusher_provide_encrypted_auth(c, ev.channel, ev.socket_id, auth, secret)
                elif r == 0:
                    r = lib.pusher_provide_auth(c, ev.channel, ev.socket_id, auth, Str(None, 0))
                if r < 0:
                    print(f"authorize: {lib.pusher_strerror(r).decode()}", file=sys.stderr)
                    lib.pusher_auth_failed(c, ev.channel, ev.socket_id, -1)
            elif k == SUBSCRIBED:
                print("subscribed", ev.channel.text())
            elif k == SUBSCRIPTION_ERROR:
                print(f"subscription error {ev.channel.text()} (status {ev.code})")
            elif k == ERROR:
                print(f"server error {ev.code}: {ev.data.text()}")
            elif k == MALFORMED:
                print(f"malformed message: {ev.reason.text()}")
            elif k == DECRYPTION_FAILED:
                print(f"undecryptable {ev.channel.text()}: {ev.reason.text()}")
            elif k == MESSAGE:
                print("event", ev.channel.text(), ev.name.text(), ev.data.text())
                if ev.channel.ptr:
                    events += 1
                    if events == a.count:
                        return 0
        sys.stdout.flush()
        p.check("poll_event", r)
        now = now_ms()
        if now - start > a.timeout_ms:
            print(f"timed out after {a.timeout_ms} ms with {events} events", file=sys.stderr)
            return 1
        wait = 1.0
        if lib.pusher_poll_timeout(c, C.byref(deadline)) == 1:
            wait = max(0.0, min(1.0, (deadline.value - now) / 1000))
        if sock:
            if select.select([sock], [], [], wait)[0]:
                p.check("rx_buffer", lib.pusher_rx_buffer(c, C.byref(ptr), C.byref(n)))
                if n.value:
                    try:
                        data = sock.recv(n.value)
                    except OSError as e:
                        data = b""
                        print(f"recv: {e}", file=sys.stderr)
                    if data:
                        C.memmove(ptr.value, data, len(data))
                        p.check("commit_rx", lib.pusher_commit_rx(c, len(data), now_ms()))
                    else:
                        print("transport closed: by peer")
                        sock.close()
                        sock = None
                        lib.pusher_handle_closed(c, now_ms())
        else:
            time.sleep(wait)
        if lib.pusher_poll_timeout(c, C.byref(deadline)) == 1 and deadline.value <= now_ms():
            lib.pusher_handle_timeout(c, now_ms())


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print(e, file=sys.stderr)
        sys.exit(2)
