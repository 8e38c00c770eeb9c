#!/usr/bin/env python3
"""QMP helper for native/test/snapshot-probe.sh (no shell strings, no exec: migration).

  snapqmp.py hold AGENT_SOCK READY_FILE
      listen on AGENT_SOCK like the production sandbox process (QEMU's agent chardev is
      server=off), accept QEMU's connection and keep it open without sending a frame;
      touches READY_FILE once listening. Runs until killed.
  snapqmp.py wait-port QMP_SOCK CHARDEV TIMEOUT_S
      wait until the guest has opened the virtio-serial port behind CHARDEV
      (query-chardev frontend-open, or the VSERPORT_CHANGE event); prints ms waited.
  snapqmp.py save QMP_SOCK FILE MODE [CAP...]
      stop the VM (unless CAP "live" is given: then QEMU stops it for the last pass and
      the clones resume by themselves), set the migration capabilities CAP (e.g. x-ignore-shared), migrate
      to FILE, then quit QEMU. MODE: fd (getfd + SCM_RIGHTS + migrate fd:NAME) or
      unix (migrate unix:SOCK; this helper listens and copies the stream into FILE).
      Prints key=value timings and the stream size.
  snapqmp.py restore QMP_SOCK FILE [CAP...]
      for a QEMU started with -incoming defer: set CAPs, getfd the opened FILE and
      migrate-incoming fd:NAME (or, when FILE is "fd:N", use the fd QEMU inherited),
      "cont" if the template was saved stopped, wait until the VM runs; prints ms.
  snapqmp.py cmd QMP_SOCK COMMAND [JSON_ARGS]
      run one QMP command, print its return value as JSON.
"""
import json
import os
import socket
import sys
import threading
import time


class Qmp:
    def __init__(self, path, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.002)
        self.sock = s
        self.buf = b""
        self.events = []
        self._read()  # greeting
        self.execute("qmp_capabilities")

    def _read(self, timeout=None):
        self.sock.settimeout(timeout)
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("QMP connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def send(self, command, args=None, fds=None):
        msg = {"execute": command}
        if args:
            msg["arguments"] = args
        data = json.dumps(msg).encode() + b"\n"
        if fds:
            socket.send_fds(self.sock, [data], fds)
        else:
            self.sock.sendall(data)

    def reply(self):
        while True:
            m = self._read()
            if "event" in m:
                self.events.append(m)
                continue
            if "error" in m:
                raise RuntimeError(f"QMP error: {m['error']}")
            return m.get("return")

    def execute(self, command, args=None, fds=None):
        self.send(command, args, fds)
        return self.reply()

    def wait_event(self, pred, timeout):
        deadline = time.monotonic() + timeout
        for e in self.events:
            if pred(e):
                return e
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                m = self._read(left)
            except socket.timeout:
                return None
            if "event" in m:
                self.events.append(m)
                if pred(m):
                    return m


def now_ms():
    return time.monotonic() * 1000.0


def cmd_hold(sock_path, ready_file):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1)
    open(ready_file, "w").close()
    conn, _ = srv.accept()
    # keep QEMU's agent chardev connected; swallow (never expected) guest bytes
    while True:
        data = conn.recv(65536)
        if not data:
            time.sleep(3600)


def cmd_wait_port(qmp_path, chardev, timeout):
    t0 = now_ms()
    q = Qmp(qmp_path)
    deadline = time.monotonic() + float(timeout)
    while time.monotonic() < deadline:
        for c in q.execute("query-chardev"):
            if c["label"] == chardev and c.get("frontend-open"):
                print(f"{now_ms() - t0:.0f}")
                return 0
        # virtio-serial reports the guest opening the port as VSERPORT_CHANGE
        if q.wait_event(lambda e: e["event"] == "VSERPORT_CHANGE" and e["data"].get("open"), 0.05):
            print(f"{now_ms() - t0:.0f}")
            return 0
    print("timeout", file=sys.stderr)
    return 1


def set_caps(q, caps):
    if caps:
        q.execute("migrate-set-capabilities",
                  {"capabilities": [{"capability": c, "state": True} for c in caps]})


def wait_migration(q, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = q.execute("query-migrate")
        status = st.get("status")
        if status == "completed":
            return st
        if status in ("failed", "cancelled"):
            raise RuntimeError(f"migration {status}: {st.get('error-desc', st)}")
        time.sleep(0.005)
    raise RuntimeError("migration timed out")


def cmd_save(qmp_path, path, mode, caps):
    q = Qmp(qmp_path)
    t0 = now_ms()
    # "live": migrate the running VM; QEMU stops it itself for the last pass, and the
    # destination then resumes on its own (a VM stopped before migrating arrives paused
    # and needs a QMP "cont" on every clone).
    live = "live" in caps
    caps = [c for c in caps if c != "live"]
    # the default 32 MiB/s cap is for live migration over a network; a local file takes it all
    q.execute("migrate-set-parameters", {"max-bandwidth": 1 << 40, "downtime-limit": 2000})
    if not live:
        q.execute("stop")
    t_stop = now_ms()
    set_caps(q, caps)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    copier = None
    try:
        if mode == "fd":
            q.execute("getfd", {"fdname": "snap"}, fds=[fd])
            q.execute("migrate", {"uri": "fd:snap"})
        elif mode == "unix":
            sock_path = path + ".sock"
            srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            srv.bind(sock_path)
            srv.listen(1)

            def copy():
                conn, _ = srv.accept()
                with conn:
                    while True:
                        data = conn.recv(1 << 20)
                        if not data:
                            break
                        os.write(fd, data)
                srv.close()
                os.unlink(sock_path)

            copier = threading.Thread(target=copy)
            copier.start()
            q.execute("migrate", {"uri": "unix:" + sock_path})
        else:
            raise SystemExit(f"unknown save mode {mode}")
        st = wait_migration(q)
        if copier:
            copier.join()
    finally:
        os.close(fd)
    t_done = now_ms()
    ram = st.get("ram", {})
    print(f"stop_ms={t_stop - t0:.0f} migrate_ms={t_done - t_stop:.0f} "
          f"qemu_total_ms={st.get('total-time')} ram_transferred={ram.get('transferred')} "
          f"ram_normal_pages={ram.get('normal')} file_bytes={os.path.getsize(path)}")
    try:
        q.execute("quit")
    except (EOFError, ConnectionResetError):
        pass
    return 0


def cmd_restore(qmp_path, path, caps):
    t0 = now_ms()
    q = Qmp(qmp_path)
    set_caps(q, caps)
    if path.startswith("fd:"):
        # an fd QEMU inherited at spawn: incoming fd: URIs accept a plain number
        uri = path
    else:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        q.execute("getfd", {"fdname": "snap"}, fds=[fd])
        os.close(fd)
        uri = "fd:snap"
    q.execute("migrate-incoming", {"uri": uri})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        st = q.execute("query-status")
        if st.get("status") == "paused" and q.execute("query-migrate").get("status") == "completed":
            q.execute("cont")  # the template was stopped before it was saved
            continue
        if st.get("status") == "running":
            print(f"{now_ms() - t0:.0f}")
            return 0
        if st.get("status") not in ("inmigrate", "prelaunch", "paused", "postmigrate", "finish-migrate"):
            raise RuntimeError(f"unexpected status {st}")
        time.sleep(0.002)
    raise RuntimeError("restore timed out")


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    op = argv[1]
    if op == "hold":
        return cmd_hold(argv[2], argv[3])
    if op == "wait-port":
        return cmd_wait_port(argv[2], argv[3], argv[4])
    if op == "save":
        return cmd_save(argv[2], argv[3], argv[4], argv[5:])
    if op == "restore":
        return cmd_restore(argv[2], argv[3], argv[4:])
    if op == "cmd":
        q = Qmp(argv[2])
        print(json.dumps(q.execute(argv[3], json.loads(argv[4]) if len(argv) > 4 else None)))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
