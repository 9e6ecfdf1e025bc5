"""A real `lmaas serve` for tests over loopback: two small models trained by the real binary, laid out as a
repository, and a server child process whose port and first admin key are read from its output.
Shared by tests/e2e/serve_test.py and the SDK tests (sdk/python/tests).

    work = lmaas_server.start(path_to_lmaas, path_to_shared_data)  # trains sent-en and sent-zh under work/models
    s = lmaas_server.Server("--sentiment-en-model", "sent-en")     # then s.port, s.admin_key, s.request(...)
    ...
    s.stop(); lmaas_server.finish()
"""
import http.client, json, os, re, shutil, signal, subprocess, tempfile, threading, time

LMAAS = WORK = None


def start(lmaas, data):
    """Trains the two models into a fresh work directory; returns it."""
    global LMAAS, WORK
    LMAAS, WORK = lmaas, tempfile.mkdtemp(prefix="lmaas-serve-test-")
    train("sent-en", os.path.join(data, "sentiment/en/mr/train.tsv"), [])
    train("sent-zh", os.path.join(data, "sentiment/zh/waimai_10k/train.tsv"), [])
    return WORK


def finish():
    shutil.rmtree(WORK, ignore_errors=True)


def train(name, data, extra):
    out = os.path.join(WORK, "models", name, "1")
    subprocess.run([LMAAS, "train", "--train", data, "--valid-fraction", "0.1", "--arch", "bow", "--embedding-dim", "16",
                    "--epochs", "2", "--threads", "2", "--seed", "3", "--log-format", "json", "--out", out] + extra,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(out + ".ckpt", ignore_errors=True)


class Server:
    """A `lmaas serve` child process; port and first admin key read from its output."""

    def __init__(self, *flags, data_dir=None):
        self.data_dir = data_dir or tempfile.mkdtemp(dir=WORK)
        self.proc = subprocess.Popen([LMAAS, "serve", "--models", os.path.join(WORK, "models"), "--port", "0",
                                      "--data-dir", self.data_dir] + list(flags),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.admin_key = None
        self.port = None
        deadline = time.time() + 60
        while self.port is None and time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("lmaas serve exited: %s" % self.proc.stdout.read())
            m = re.search(r"listening on http://[^:]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
        if "--no-auth" not in flags:
            first = self.proc.stdout.readline()
            m = re.search(r"(lmaas-[0-9a-f]+)", first)
            self.admin_key = m.group(1) if m else None
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(self, method, path, body=None, key=None, headers=None, conn=None):
        c = conn or self.conn()
        h = dict(headers or {})
        if key:
            h["Authorization"] = "Bearer " + key
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = data.decode(errors="replace")
        headers = {}  # a repeated header's values joined, as HTTP reads them: a duplicate shows
        for k, v in r.getheaders():
            headers[k.lower()] = headers[k.lower()] + ", " + v if k.lower() in headers else v
        return r.status, parsed, headers

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            return self.proc.wait(timeout=60)
        return self.proc.returncode


def keys(data_dir, *args):
    out = subprocess.run([LMAAS, "keys"] + list(args) + ["--data-dir", data_dir], check=True, capture_output=True, text=True)
    return out.stdout


def node_check(cwd, script, env, timeout):
    """Runs `node script` in cwd (its node_modules from scripts/install-node-deps) with env added; prints
    its output; exits the test with status 1 when it fails."""
    if not os.path.isdir(os.path.join(cwd, "node_modules")):
        raise SystemExit("%s has no node_modules: run scripts/install-node-deps" % cwd)
    out = subprocess.run(["node", script], cwd=cwd, env=dict(os.environ, **env), capture_output=True, text=True,
                         timeout=timeout)
    print(out.stdout + out.stderr)
    if out.returncode != 0:
        raise SystemExit(1)

