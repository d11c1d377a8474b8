#!/usr/bin/env python3
"""End to end through the C ABI: the C client (examples/c, built by the system compiler, also
under AddressSanitizer and UndefinedBehaviorSanitizer) and the Python client (examples/python,
ctypes) against a real server, each receiving events triggered over REST on a public, a
private and an encrypted channel; the sanitized C client also rides out a server restart.

    e2e.py --pusher BIN --c-client BIN [--c-client-sanitized BIN] [--lib SO]
           [--server devserver|soketi]

The server is our dev server (`pusher serve`), or soketi from $PUSHER_PEERS_DIR. REST
triggers go through `pusher trigger` (the CLI), which is checked against soketi elsewhere.
"""
import argparse
import base64
import os
import queue
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
APP_ID, KEY, SECRET = "123456", "app-key", "app-secret"
MASTER_KEY = base64.b64encode(bytes(range(7, 39))).decode()
CHANNELS = ["orders", "private-inbox", "private-encrypted-vault"]
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer", "SUMMARY:")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=20):
    end = time.time() + seconds
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not start")


class Server:
    def __init__(self, kind, pusher, port):
        self.kind, self.pusher, self.port, self.proc = kind, pusher, port, None

    def start(self):
        if self.kind == "devserver":
            cmd = [self.pusher, "serve", "--port", str(self.port), "-q",
                   "--app-id", APP_ID, "--key", KEY, "--secret", SECRET]
            env = os.environ
        else:
            peers = os.environ["PUSHER_PEERS_DIR"]
            cmd = [os.path.join(peers, "node_modules", ".bin", "soketi"), "start"]
            env = dict(os.environ, SOKETI_HOST="127.0.0.1", SOKETI_PORT=str(self.port),
                       SOKETI_METRICS_HOST="127.0.0.1", SOKETI_METRICS_SERVER_PORT=str(free_port()),
                       SOKETI_DEFAULT_APP_ID=APP_ID, SOKETI_DEFAULT_APP_KEY=KEY,
                       SOKETI_DEFAULT_APP_SECRET=SECRET)
        cwd = os.environ.get("PUSHER_PEERS_DIR") if self.kind == "soketi" else None
        self.proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


class Client:
    """A client process whose output lines are read as they come."""

    def __init__(self, cmd, env=None):
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines, self.seen, self.err = queue.Queue(), [], []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True).start()
        self.err_thread = threading.Thread(target=self._collect, args=(self.proc.stderr,), daemon=True)
        self.err_thread.start()

    @staticmethod
    def _read(stream, q):
        for line in stream:
            q.put(line.rstrip("\n"))

    def _collect(self, stream):
        for line in stream:
            self.err.append(line.rstrip("\n"))

    def expect(self, wanted, seconds=20):
        """Waits until every line in `wanted` has been printed (in any order)."""
        missing, end = list(wanted), time.time() + seconds
        while missing:
            try:
                line = self.lines.get(timeout=max(0.01, end - time.time()))
            except queue.Empty:
                self.fail(f"did not print {missing} within {seconds} s")
            self.seen.append(line)
            if line in missing:
                missing.remove(line)

    def finish(self, seconds=20):
        try:
            code = self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.fail("did not exit")
        self.err_thread.join(5)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        if code != 0:
            self.fail(f"exited with {code}")
        bad = [l for l in self.err if any(m in l for m in SANITIZER_MARKS)]
        if bad:
            self.fail("sanitizer report")

    def fail(self, why):
        print(f"FAIL {' '.join(self.cmd[:1])}: {why}")
        print("  stdout:", *self.seen, sep="\n    ")
        print("  stderr:", *self.err, sep="\n    ")
        sys.exit(1)


def trigger(pusher, port, channel, event, data):
    cmd = [pusher, "trigger", "--host", "127.0.0.1", "--port", str(port), "--insecure",
           "--app-id", APP_ID, "--key", KEY, "--secret", SECRET, channel, event, data]
    if "encrypted" in channel:
        cmd += ["--encryption-master-key", MASTER_KEY]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"trigger failed: {r.stdout}{r.stderr}")


def round_of_events(client, pusher, port, tag):
    """Subscribed to all three channels: one REST event each, all received and decrypted."""
    client.expect([f"subscribed {c}" for c in CHANNELS])
    for c in CHANNELS:
        trigger(pusher, port, c, "reading", f'{{"round":"{tag}","on":"{c}","temp":"21.5°C"}}')
    client.expect([f'event {c} reading {{"round":"{tag}","on":"{c}","temp":"21.5°C"}}' for c in CHANNELS])


def run(name, cmd, server, pusher, restart):
    port = server.port
    client = Client(cmd + ["127.0.0.1", str(port), KEY, SECRET, *CHANNELS,
                           "--master-key", MASTER_KEY, "--timeout-ms", "60000",
                           "--count", str(len(CHANNELS) * (2 if restart else 1))])
    round_of_events(client, pusher, port, "first")
    if restart:
        # The server goes away and comes back on the same port: the client reconnects,
        # re-authorizes its channels for the new socket id and receives again.
        server.stop()
        client.expect(["state connecting"])
        server.start()
        client.expect(["state connected"], seconds=40)
        round_of_events(client, pusher, port, "second")
    client.finish()
    reconnects = sum(1 for l in client.seen if l.startswith("disconnected:"))
    print(f"ok {name}: {len(CHANNELS) * (2 if restart else 1)} REST events received"
          + (f", {reconnects} disconnects ridden out" if restart else ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pusher", required=True)
    ap.add_argument("--c-client", required=True)
    ap.add_argument("--c-client-sanitized")
    ap.add_argument("--valgrind", action="store_true", help="also run the C client under valgrind")
    ap.add_argument("--lib", default=os.path.join(ROOT, "adapters", "ffi", "target", "release", "libpusher_ffi.so"))
    ap.add_argument("--server", default="devserver", choices=["devserver", "soketi"])
    a = ap.parse_args()
    server = Server(a.server, a.pusher, free_port())
    server.start()
    try:
        run(f"C client on {a.server}", [a.c_client], server, a.pusher, restart=False)
        if a.c_client_sanitized:
            run(f"C client under ASan+UBSan on {a.server}, with a server restart",
                [a.c_client_sanitized], server, a.pusher, restart=True)
        if a.valgrind:
            run(f"C client under valgrind on {a.server}",
                ["valgrind", "--error-exitcode=9", "--leak-check=full", "-q", a.c_client],
                server, a.pusher, restart=True)
        run(f"Python client (ctypes) on {a.server}",
            [sys.executable, os.path.join(ROOT, "examples", "python", "pusher_client.py"), "--lib", a.lib],
            server, a.pusher, restart=False)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
