"""A `certdoctor worker` process whose JSON lines are collected as they come (the lab tests of the
queue: worker-live, serve-queue-live)."""
import json
import os
import signal
import subprocess
import threading


class WorkerProcess:
    def __init__(self, cmd):
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=dict(os.environ, LANG="C", LC_ALL="C", USER="night"))
        self.events = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                e = json.loads(line)
            except json.JSONDecodeError:
                continue
            with self.cond:
                self.events.append(e)
                self.cond.notify_all()

    def wait_for(self, predicate, timeout):
        with self.cond:
            return self.cond.wait_for(lambda: predicate(self.events), timeout)

    def of(self, kind):
        with self.cond:
            return [e for e in self.events if e["event"] == kind]

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def finish(self, timeout):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.reader.join(10)
        return rc, self.proc.stderr.read()
