"""A throwaway PostgreSQL server for the tests: initdb in a temporary directory owned by postgres,
the server on a unix socket in that directory (no TCP), stopped by stop() whatever happened.
The socket is a file, so processes in the lab's network namespace reach it too."""
import os
import shutil
import socket
import subprocess

PG_BIN = "/usr/lib/postgresql/15/bin"
AS_PG = ["runuser", "-u", "postgres", "--"]


class Server:
    def __init__(self, parent):
        self.home = os.path.join(parent, "pg")
        os.mkdir(self.home, 0o755)
        shutil.chown(self.home, "postgres", "postgres")
        self.data = os.path.join(self.home, "data")
        subprocess.run(AS_PG + [f"{PG_BIN}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                                "--locale=C", "--no-sync"], check=True, capture_output=True, timeout=120)
        with socket.socket() as s:  # a port number no other test's server uses (it names the socket file)
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        subprocess.run(AS_PG + [f"{PG_BIN}/pg_ctl", "-D", self.data, "-l", os.path.join(self.home, "log"), "-w", "-t",
                                "60", "-o", f"-k {self.home} -p {self.port} -c listen_addresses='' -c fsync=off", "start"],
                       check=True, capture_output=True, timeout=90)
        self.running = True

    def create(self, name):
        subprocess.run(AS_PG + [f"{PG_BIN}/createdb", "-h", self.home, "-p", str(self.port), "-U", "postgres", name],
                       check=True, capture_output=True, timeout=60)
        return f"postgresql:///{name}?host={self.home}&port={self.port}&user=postgres"

    def stop(self):
        if self.running:
            subprocess.run(AS_PG + [f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "immediate", "stop"],
                           capture_output=True, timeout=60)
            self.running = False
