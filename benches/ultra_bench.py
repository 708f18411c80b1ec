#!/usr/bin/env python3
"""The ULTRA ML tools (issue 15) timed side by side with their Python reference libraries, on the
same generated input, in the same run.

    tests/interop/.venv/bin/python benches/ultra_bench.py [--server PATH] [--quick] \
        [--out bench-results/ultra.json] [--only search|cluster|classify|duplicates|log_patterns]

Run it with the interop venv's Python (it imports scikit-learn, numpy, scipy and drain3). The
server (default `target/release/ide-agents-mcp`) is driven over stdio JSON-RPC like
`benches/hostile_figures.py`: each case starts a fresh `serve --ultra --cache-dir <tmp>
--telemetry off --config <tmp>/config.toml [--workspace DIR]`, sends `initialize` and
`notifications/initialized`, makes one warm-up call (the first call of a component pays for
loading it) and then times `tools/call` requests as wall time from the request's first byte
written to the response line read. `--quick` shrinks every size 10x for a smoke run.

Cases, with the issue's sizes and where a tool's own bound is lower, that bound:

1. `ide_agents_ultra_search` over a generated 10,000-file workspace (100 dirs x 100 source-like
   files of 40 lines): the first call (index built; 3 times, the stored index removed before
   each), one file rewritten with its mtime moved 2 s ahead (incremental update; 3 times, a
   different file each), then 30 different warm queries (p50 and p90). Targets: query p50 <= 30 ms,
   incremental <= 300 ms. Context only (no reference library is named by the issue): a plain
   Python BM25 over whole files (inverted index, no chunks, no n-gram re-ranking).
2. `ide_agents_ultra_cluster`, k = 8, seed 1, on 10,000 short texts (the issue's size and the
   tool's bound for texts) vs TfidfVectorizer + KMeans(n_clusters=8, n_init=1, random_state=1,
   algorithm="lloyd", tol=0) + silhouette_score: ours runs Lloyd until no label changes and
   always returns the silhouette, so the reference does both.
3. `ide_agents_ultra_classify` with `model` "naive_bayes", then "logistic", on 10,000 training
   and 10,000 predicted texts of 4 classes (the issue's size; the tool's MAX_TEXTS and
   MAX_PREDICT) vs CountVectorizer + MultinomialNB and TfidfVectorizer + LogisticRegression(tol=1e-10,
   max_iter=10000) (our stopping rule; sklearn's default tol=1e-4 is timed as a second row):
   fit + predict_proba + cross_val_score(cv=KFold(2)). Ours always cross-validates; `folds` is
   set to its minimum, 2, on both sides.
4. `ide_agents_ultra_duplicates`, threshold 0.8 (3-token shingles, 128 permutations, the
   defaults) on 5,000 texts, `max_pairs` raised so that every pair found is returned. datasketch
   is not installed: the reference is the exact all-pairs Jaccard of the same shingle sets (a
   sparse binary matrix times its transpose, scipy), which also gives our recall.
5. `ide_agents_ultra_log_patterns` over 1,000,000 generated log lines vs drain3's TemplateMiner
   with the same settings (depth 4, sim_th 0.4, max_children 100, the tool's masking
   instructions as returned by the tool). The tool takes up to 1,000,000 lines, but inline they
   make a ~70 MB request, over the server's default 16 MiB line limit: case 5a sends them inline
   to a server configured with `[server] max_line_bytes`, `[limits] memory_limit_mib` and
   `max_output_bytes` raised; case 5b reads a file through `[roots] logs` with the server's
   default limits, the largest prefix of the same lines that fits the tool's 16 MiB file limit.

Every server runs with `[limits] call_timeout_ms = 600000` (the default 30 s is a budget, not a
speed; the figures do not depend on it). Ours: warm-up, then the median of 3 calls per batch
case. References: a small warm-up in this process, then each run in a forked child (so one can
be stopped): the median of 3 runs, 1 run when the first takes over 20 s, skipped when a run
takes over 120 s (drain3 stops itself at 120 s and reports how far it got). Memory: before each
call the server's peak RSS (VmHWM) is reset through /proc/<pid>/clear_refs; the per-call figure
is the peak during the call minus the RSS before it; the same for a reference run in its child.
The tools run single-threaded in the sandbox; scikit-learn may use every core (os.cpu_count()
is in the JSON).

Prints a markdown table and writes the figures as JSON (default bench-results/ultra.json). Exits
non-zero if any case failed (a tool missing, a JSON-RPC error or an isError result).
"""

import argparse
import heapq
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings

import numpy as np
import scipy.sparse as sp
import sklearn
from drain3 import TemplateMiner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.model_selection import KFold, cross_val_score
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

warnings.simplefilter("ignore")

RUNS = 3
REFERENCE_TIMEOUT_S = 120
SINGLE_RUN_AFTER_S = 20
LOG_FILE_LIMIT = 16 << 20  # the tool's MAX_FILE_BYTES
BASE_CONFIG = "[limits]\ncall_timeout_ms = 600000\n"


# --- the server ----------------------------------------------------------------------------------

def proc_kib(pid, field):
    """A `/proc/<pid>/status` field in KiB (None if unreadable)."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak(pid):
    """Resets the process's VmHWM to its current RSS; False where the kernel refuses."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Failed(Exception):
    """A call answered with a JSON-RPC error or an isError result."""


class Server:
    def __init__(self, binary, config="", workspace=None):
        self.dir = tempfile.mkdtemp(prefix="ultra-bench-")
        self.cache = f"{self.dir}/cache"
        open(f"{self.dir}/config.toml", "w").write(BASE_CONFIG + config)
        args = [binary, "serve", "--ultra", "--cache-dir", self.cache, "--telemetry", "off",
                "--config", f"{self.dir}/config.toml"]
        if workspace:
            args += ["--workspace", workspace]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stderr_tail = []
        threading.Thread(target=self._drain, daemon=True).start()
        self.next_id = 0
        self.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                    "clientInfo": {"name": "ultra-bench", "version": "0"}})
        self._write({"jsonrpc": "2.0", "method": "notifications/initialized"})
        self.tools, cursor = set(), None
        while True:
            listed = self.request("tools/list", {"cursor": cursor} if cursor else {})["result"]
            self.tools |= {t["name"] for t in listed["tools"]}
            cursor = listed.get("nextCursor")
            if not cursor:
                break

    def _drain(self):
        for line in self.proc.stderr:
            self.stderr_tail = (self.stderr_tail + [line.decode("utf-8", "replace")])[-20:]

    def _write(self, message):
        self.proc.stdin.write((json.dumps(message, separators=(",", ":")) + "\n").encode())
        self.proc.stdin.flush()

    def _read(self, id_):
        """The response to `id_` (notifications are skipped) and the raw line."""
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("server closed stdout: " + "".join(self.stderr_tail))
            message = json.loads(line)
            if message.get("id") == id_:
                return message, line

    def request(self, method, params):
        self.next_id += 1
        self._write({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self._read(self.next_id)[0]

    def call(self, tool, arguments):
        """One timed `tools/call`: structured result, seconds, request bytes, response bytes and
        the server's peak RSS growth during the call (MiB; None if not measurable)."""
        if tool not in self.tools:
            raise Failed(f"{tool} is not listed by the server")
        self.next_id += 1
        id_ = self.next_id
        line = (json.dumps({"jsonrpc": "2.0", "id": id_, "method": "tools/call",
                            "params": {"name": tool, "arguments": arguments}}, separators=(",", ":")) + "\n").encode()
        measurable = reset_peak(self.proc.pid)
        before = proc_kib(self.proc.pid, "VmRSS")
        started = time.perf_counter()
        self.proc.stdin.write(line)
        self.proc.stdin.flush()
        while True:
            raw = self.proc.stdout.readline()
            elapsed = time.perf_counter() - started
            if not raw:
                raise RuntimeError("server closed stdout: " + "".join(self.stderr_tail))
            message = json.loads(raw)
            if message.get("id") == id_:
                break
        peak = proc_kib(self.proc.pid, "VmHWM")
        if "error" in message:
            raise Failed(f"{tool}: JSON-RPC error {message['error']}")
        result = message["result"]
        if result.get("isError"):
            text = " ".join(c.get("text", "") for c in result.get("content", []))
            raise Failed(f"{tool}: isError: {text[:2000]}")
        memory = round((peak - before) / 1024, 1) if measurable and peak and before else None
        return {"out": result.get("structuredContent") or {}, "s": elapsed, "request_bytes": len(line),
                "response_bytes": len(raw), "peak_mib": memory}

    def timed(self, tool, arguments, runs=RUNS):
        """`runs` calls: the last output and their figures."""
        calls = [self.call(tool, arguments) for _ in range(runs)]
        return calls[-1]["out"], figures(calls)

    def peak_rss_mib(self):
        kib = proc_kib(self.proc.pid, "VmHWM")
        return round(kib / 1024, 1) if kib else None

    def close(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def ms(seconds):
    return round(seconds * 1000, 2)


def figures(calls):
    """The median milliseconds of `calls`, each run's, the bytes and the largest memory growth."""
    peaks = [c["peak_mib"] for c in calls if c["peak_mib"] is not None]
    return {"ours_ms": ms(statistics.median(c["s"] for c in calls)), "ours_runs_ms": [ms(c["s"]) for c in calls],
            "request_bytes": calls[0]["request_bytes"], "response_bytes": calls[-1]["response_bytes"],
            "ours_peak_mib": max(peaks) if peaks else None}


# --- references, bounded -------------------------------------------------------------------------

def _child(fn, warm, conn):
    if warm:
        warm()
    start_rss = proc_kib(os.getpid(), "VmRSS")
    reset_peak(os.getpid())
    try:
        out = fn()
        peak = proc_kib(os.getpid(), "VmHWM")
        out["peak_mib"] = round((peak - start_rss) / 1024, 1) if peak and start_rss else None
        conn.send(("ok", out))
    except Exception as e:  # reported, not raised: the parent decides
        conn.send(("error", repr(e)))


def run_bounded(fn, warm, timeout):
    """Runs `warm` (untimed) and then `fn` (returning a dict with `s`, its own timing) in a forked
    child; None on timeout. The libraries are first used in the child: OpenMP (scikit-learn's
    KMeans) does not survive a fork once started."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(fn, warm, child))
    process.start()
    child.close()
    message = parent.recv() if parent.poll(timeout) else None
    if message is None:
        process.kill()
    process.join()
    if message is None:
        return None
    if message[0] == "error":
        raise RuntimeError("reference failed: " + message[1])
    return message[1]


def reference(fn, warm=None, timeout=REFERENCE_TIMEOUT_S):
    """Median of up to RUNS bounded runs of `fn`, each after `warm` (see the module doc): a dict of
    figures and the last run's output."""
    runs = []
    for _ in range(RUNS):
        out = run_bounded(fn, warm, timeout)
        if out is None:
            return {"reference_ms": None, "reference_note": f"skipped: over {timeout} s"}, None
        runs.append(out)
        if out["s"] > SINGLE_RUN_AFTER_S:
            break
    peaks = [r["peak_mib"] for r in runs if r.get("peak_mib") is not None]
    return {"reference_ms": ms(statistics.median(r["s"] for r in runs)),
            "reference_runs_ms": [ms(r["s"]) for r in runs],
            "reference_peak_mib": max(peaks) if peaks else None}, runs[-1]


# --- data ----------------------------------------------------------------------------------------

def make_words(rng, n):
    """`n` distinct pronounceable lowercase words (letters only, 4 to 9 characters)."""
    consonants, vowels = "bcdfghklmnprstvz", "aeiou"
    words, seen = [], set()
    while len(words) < n:
        w = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4)))
        if rng.random() < 0.3:
            w += rng.choice(consonants)
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def topic_texts(rng, n, topics, topic_words, common_words, noise):
    """`n` short texts, each of one topic: its words, and a share `noise` of common ones. Returns
    (texts, topic of each)."""
    texts, labels = [], []
    for _ in range(n):
        t = rng.randrange(topics)
        words = [rng.choice(common_words) if rng.random() < noise else rng.choice(topic_words[t])
                 for _ in range(rng.randint(6, 16))]
        texts.append(" ".join(words))
        labels.append(t)
    return texts, labels


LINE_SHAPES = [
    "fn {a}_{b}({c}: &{C}{D}) -> Result<{E}{F}, Error> {{",
    "    let {a}_{b} = {c}.{d}_{e}(&{f})?;",
    "    if {a}.is_{b}() {{ return Ok({c}_{d}); }}",
    "    // {a} {b} the {c} before {d} {e} is {f}",
    "    self.{a}_{b}.insert({c}, {D}{E}::new({f}));",
    "    for {a} in {b}_{c}.iter() {{ {d}({a}, {e}_{f}); }}",
    "}}",
    "pub struct {A}{B} {{ {a}: u32, {b}_{c}: Vec<{D}>, }}",
    "    match {a} {{ {B}::{C} => {d}_{e}(), _ => {f}() }}",
    "",
]


def source_file(rng, vocabulary, weights, lines=40):
    out = []
    for _ in range(lines):
        w = rng.choices(vocabulary, weights, k=6)
        fields = dict(zip("abcdef", w)) | {k.upper(): v.capitalize() for k, v in zip("abcdef", w)}
        out.append(rng.choice(LINE_SHAPES).format(**fields))
    return "\n".join(out) + "\n"


def near_copy(rng, words, vocabulary, edits):
    words = list(words)
    for _ in range(edits):
        words[rng.randrange(len(words))] = rng.choice(vocabulary)
    return " ".join(words)


LOG_SHAPES = [
    "{t} INFO [main] Connection from {ip}:{n} accepted in {n} ms",
    "{t} WARN [pool-{n}] Retry {n} of 5 for request {hex} after {n} ms",
    "{t} ERROR [worker-{n}] Failed to open /var/data/{w}/{w}.log: permission denied",
    "{t} INFO [scheduler] Job {w} finished with status {status} in {n} s",
    "{t} DEBUG [cache] lookup key {hex} hit {bool} size {n}",
    "{t} INFO [http] GET /api/v1/{w}/{n} 200 {n} bytes",
    "{t} INFO [auth] User {user} logged in from {ip}",
    "{t} ERROR [db] Query timeout after {n} ms on table {w}",
    "{t} INFO [gc] Collected {n} objects heap {n} MB",
    "{t} WARN [disk] Usage at {n}% on volume {w}",
    "{t} INFO [session] Session {id} opened for {user}",
    "{t} DEBUG [rpc] Call {w}.{w} took {n} us",
]


def log_lines(rng, n):
    words = make_words(rng, 40)
    users = [f"user{i}" for i in range(50)] + make_words(rng, 50)
    lines = []
    for i in range(n):
        shape = LOG_SHAPES[min(int(rng.expovariate(0.35)), len(LOG_SHAPES) - 1)]
        t = f"{(i // 3600000) % 24:02}:{(i // 60000) % 60:02}:{(i // 1000) % 60:02}.{i % 1000:03}"
        lines.append(re.sub(r"\{(\w+)\}", lambda m: {
            "t": t,
            "ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
            "n": str(rng.randrange(10 ** rng.randint(1, 5))),
            "hex": f"0x{rng.getrandbits(32):08x}",
            "w": rng.choice(words),
            "status": rng.choice(["ok", "failed", "cancelled"]),
            "bool": rng.choice(["true", "false"]),
            "user": rng.choice(users),
            "id": ":".join(f"{rng.getrandbits(8):02x}" for _ in range(6)),
        }[m.group(1)], shape))
    return lines


# --- the cases -----------------------------------------------------------------------------------

def identifier_terms(text):
    """Words of identifiers (split on case changes, `_` and punctuation), lowercased."""
    return [t.lower() for t in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+", text)]


def python_bm25(root, queries, k1=1.2, b=0.75):
    """Context for case 1: read every file, build a BM25 inverted index over whole files, answer
    `queries` (top 10). Returns the build time and each query's time."""
    started = time.perf_counter()
    postings, lengths = {}, []
    for dirpath, _, files in os.walk(root):
        for name in sorted(files):
            terms = identifier_terms(open(os.path.join(dirpath, name), encoding="utf-8").read())
            doc = len(lengths)
            lengths.append(len(terms))
            counts = {}
            for t in terms:
                counts[t] = counts.get(t, 0) + 1
            for t, c in counts.items():
                postings.setdefault(t, []).append((doc, c))
    n, avg = len(lengths), sum(lengths) / max(1, len(lengths))
    build = time.perf_counter() - started
    times = []
    for q in queries:
        started = time.perf_counter()
        scores = {}
        for t in set(identifier_terms(q)):
            docs = postings.get(t, [])
            idf = math.log(1 + (n - len(docs) + 0.5) / (len(docs) + 0.5))
            for doc, tf in docs:
                scores[doc] = scores.get(doc, 0.0) + idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[doc] / avg))
        heapq.nlargest(10, scores.items(), key=lambda kv: kv[1])
        times.append(time.perf_counter() - started)
    return build, times


def states(calls):
    return "state " + ",".join(sorted({c["out"]["index"]["state"] for c in calls}))


def case_search(binary, scale, rng):
    dirs, per_dir = max(1, 100 // scale), 100
    workspace = tempfile.mkdtemp(prefix="ultra-bench-ws-")
    open(f"{workspace}/warmup.txt", "w").write("fn warm_up() {}\n")
    server = Server(binary, workspace=workspace)
    try:
        server.call("ide_agents_ultra_search", {"query": "warm up", "top_k": 10})  # loads the component
        vocabulary = make_words(rng, 400)
        weights = [1 / (i + 1) for i in range(len(vocabulary))]
        for d in range(dirs):
            os.mkdir(f"{workspace}/mod{d:03}")
            for f in range(per_dir):
                open(f"{workspace}/mod{d:03}/{f:03}.rs", "w").write(source_file(rng, vocabulary, weights))
        os.remove(f"{workspace}/warmup.txt")
        # Forget the warm-up's index so that the next call builds from nothing.
        shutil.rmtree(f"{server.cache}/storage", ignore_errors=True)
        queries = [rng.choice([f"{a} {b}", f"{a}_{b}", f"{a}{b.capitalize()}", f"{a} {b} {c}"])
                   for a, b, c in (rng.choices(vocabulary[:200], k=3) for _ in range(30))]

        builds, updates = [], []
        for query in queries[:RUNS]:
            shutil.rmtree(f"{server.cache}/storage", ignore_errors=True)
            builds.append(server.call("ide_agents_ultra_search", {"query": query, "top_k": 10}))
        for i, query in enumerate(queries[RUNS:2 * RUNS]):
            changed = f"{workspace}/mod000/{i:03}.rs"
            open(changed, "w").write(source_file(rng, vocabulary, weights))
            now = time.time() + 2
            os.utime(changed, (now, now))
            updates.append(server.call("ide_agents_ultra_search", {"query": query, "top_k": 10}))
        warm = [server.call("ide_agents_ultra_search", {"query": q, "top_k": 10}) for q in queries]
        files = dirs * per_dir

        def bm25():
            build, times = python_bm25(workspace, queries)
            return {"s": build, "query_s": times}

        statistics_, bm = reference(bm25)
        rows = [
            {"case": "search: first call, index built", "size": f"{files} files", **figures(builds),
             "reference": "Python BM25 index build (whole files)", **statistics_,
             "notes": states(builds) + ", {files} files, {chunks} chunks, {bytes} index bytes".format(
                 **builds[-1]["out"]["index"])},
            {"case": "search: incremental (1 file changed)", "size": f"{files} files", "target_ms": 300,
             **figures(updates), "reference": "n/a", "reference_ms": None,
             "notes": states(updates) + ", read {read}, reused {reused}".format(**updates[-1]["out"]["index"])},
            {"case": "search: warm query p50 (30 queries)", "size": f"{files} files", "target_ms": 30,
             "ours_ms": ms(statistics.median(c["s"] for c in warm)),
             "ours_p90_ms": ms(sorted(c["s"] for c in warm)[int(0.9 * len(warm))]),
             "request_bytes": warm[0]["request_bytes"],
             "ours_peak_mib": max((c["peak_mib"] for c in warm if c["peak_mib"] is not None), default=None),
             "reference": "Python BM25 query (whole files, no re-ranking)",
             "reference_ms": ms(statistics.median(bm["query_s"])) if bm else None,
             "notes": states(warm)},
        ]
        return rows, server.peak_rss_mib()
    finally:
        server.close()
        shutil.rmtree(workspace, ignore_errors=True)


def case_cluster(binary, scale, rng):
    n = 10000 // scale
    vocabulary = make_words(rng, 680)
    texts, _ = topic_texts(rng, n, 8, [vocabulary[i * 60:(i + 1) * 60] for i in range(8)], vocabulary[480:], 0.3)
    args = {"texts": texts, "k": 8, "seed": 1}
    server = Server(binary)
    try:
        server.call("ide_agents_ultra_cluster", {"texts": texts[:40], "k": 2, "seed": 1})
        out, figures = server.timed("ide_agents_ultra_cluster", args)

        def sklearn_cluster(texts=texts):
            started = time.perf_counter()
            x = TfidfVectorizer().fit_transform(texts)
            kmeans = KMeans(n_clusters=8, n_init=1, random_state=1, algorithm="lloyd", tol=0, max_iter=300).fit(x)
            kmeans_s = time.perf_counter() - started
            silhouette = silhouette_score(x, kmeans.labels_)
            return {"s": time.perf_counter() - started, "kmeans_s": kmeans_s, "labels": kmeans.labels_.tolist(),
                    "inertia": float(kmeans.inertia_), "iterations": int(kmeans.n_iter_),
                    "silhouette": float(silhouette)}

        ref, theirs = reference(sklearn_cluster, warm=lambda: sklearn_cluster(texts[:100]))
        notes = (f"ours: {out.get('iterations')} iterations, inertia {out.get('inertia', 0):.2f}, "
                 f"silhouette {out.get('silhouette') or 0:.4f}")
        if theirs:
            ref["reference_kmeans_only_ms"] = ms(theirs["kmeans_s"])
            ari = adjusted_rand_score(out.get("labels", []), theirs["labels"])
            notes += (f"; sklearn: {theirs['iterations']} iterations, inertia {theirs['inertia']:.2f}, silhouette "
                      f"{theirs['silhouette']:.4f}; adjusted Rand index of the labels {ari:.3f}")
        return [{"case": "cluster k=8 (TF-IDF, k-means++, silhouette)",
                 "size": f"{n} texts, {out.get('dimensions')} terms",
                 **figures, "reference": "TfidfVectorizer + KMeans(lloyd, tol=0) + silhouette_score", **ref,
                 "notes": notes}], server.peak_rss_mib()
    finally:
        server.close()


def case_classify(binary, scale, rng):
    n = 10000 // scale
    vocabulary = make_words(rng, 1200)
    classes = ["bug", "docs", "feature", "question"]
    topic_words = [vocabulary[i * 200:(i + 1) * 200] for i in range(4)]
    texts, y = topic_texts(rng, 2 * n, 4, topic_words, vocabulary[800:], 0.7)
    labels = [classes[i] for i in y]
    train, train_y, predict, predict_y = texts[:n], labels[:n], texts[n:], labels[n:]
    server = Server(binary)
    rows = []
    try:
        server.call("ide_agents_ultra_classify", {"texts": train[:20], "labels": train_y[:20], "folds": 2,
                                                  "model": "naive_bayes"})
        pipelines = {
            "naive_bayes": ("CountVectorizer + MultinomialNB",
                            lambda: make_pipeline(CountVectorizer(), MultinomialNB(alpha=1.0))),
            "logistic": ("TfidfVectorizer + LogisticRegression(tol=1e-10)",
                         lambda: make_pipeline(TfidfVectorizer(),
                                               LogisticRegression(C=1.0, tol=1e-10, max_iter=10000))),
            "logistic_default_tol": ("TfidfVectorizer + LogisticRegression() (sklearn defaults, tol=1e-4)",
                                     lambda: make_pipeline(TfidfVectorizer(), LogisticRegression(C=1.0))),
        }
        for model in ["naive_bayes", "logistic"]:
            args = {"texts": train, "labels": train_y, "predict": predict, "model": model, "folds": 2}
            out, figures = server.timed("ide_agents_ultra_classify", args)
            ours = out.get(model, {})
            ours_p = np.array([p["probabilities"] for p in ours.get("predictions", [])])
            ours_accuracy = np.mean([p["label"] == t for p, t in zip(ours.get("predictions", []), predict_y)])
            for key in [model] + (["logistic_default_tol"] if model == "logistic" else []):
                name, make = pipelines[key]

                def sklearn_classify(make=make, train=train, train_y=train_y, predict=predict):
                    started = time.perf_counter()
                    fitted = make().fit(train, train_y)
                    p = fitted.predict_proba(predict)
                    cv = cross_val_score(make(), train, train_y, cv=KFold(2))
                    return {"s": time.perf_counter() - started, "p": p.tolist(), "cv": cv.tolist(),
                            "classes": list(fitted.classes_)}

                ref, theirs = reference(sklearn_classify, warm=lambda m=make: sklearn_classify(
                    m, train[:100], train_y[:100], predict[:100]))
                notes = f"ours: accuracy {ours_accuracy:.3f}, cv {ours.get('cv_mean', 0):.3f}"
                if theirs:
                    p = np.array(theirs["p"])
                    accuracy = np.mean(np.array(theirs["classes"])[p.argmax(1)] == np.array(predict_y))
                    notes += f"; sklearn: accuracy {accuracy:.3f}, cv {np.mean(theirs['cv']):.3f}"
                    if ours_p.shape == p.shape and out.get("classes") == theirs["classes"]:
                        notes += f"; largest probability difference {np.abs(ours_p - p).max():.2e}"
                label = model if key == model else model + ", sklearn default tol"
                rows.append({"case": f"classify {label} (fit, predict, 2-fold CV)",
                             "size": f"{n} train + {n} predict, 4 classes", **figures, "reference": name, **ref,
                             "notes": notes})
        return rows, server.peak_rss_mib()
    finally:
        server.close()


def shingle_sets(texts, size=3):
    """textkit's tokens (lowercased runs of letters and digits) joined in runs of `size`, distinct."""
    out = []
    for text in texts:
        tokens = [t for t in re.split(r"[^0-9a-z]+", text.lower()) if t]
        width = max(1, min(size, len(tokens)))
        out.append({" ".join(tokens[i:i + width]) for i in range(len(tokens) - width + 1)} if tokens else set())
    return out


def exact_pairs(texts, threshold):
    """Every pair (i < j) with Jaccard of shingle sets >= threshold, by a sparse matrix product."""
    sets = shingle_sets(texts)
    ids, rows, cols = {}, [], []
    for i, s in enumerate(sets):
        for shingle in s:
            rows.append(i)
            cols.append(ids.setdefault(shingle, len(ids)))
    x = sp.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(len(sets), len(ids)))
    shared = sp.triu(x @ x.T, k=1).tocoo()
    sizes = np.array([len(s) for s in sets])
    jaccard = shared.data / (sizes[shared.row] + sizes[shared.col] - shared.data)
    keep = jaccard >= threshold
    return set(zip(shared.row[keep].tolist(), shared.col[keep].tolist()))


def case_duplicates(binary, scale, rng):
    n = 5000 // scale
    vocabulary = make_words(rng, 2000)
    bases = [[rng.choice(vocabulary) for _ in range(40)] for _ in range(n * 3 // 5)]
    texts = [" ".join(b) for b in bases]
    while len(texts) < n:
        texts.append(near_copy(rng, rng.choice(bases), vocabulary, rng.randint(0, 3)))
    rng.shuffle(texts)
    args = {"texts": texts, "threshold": 0.8, "max_pairs": 100000}
    server = Server(binary)
    try:
        server.call("ide_agents_ultra_duplicates", {"texts": texts[:20], "threshold": 0.8})
        out, figures = server.timed("ide_agents_ultra_duplicates", args)

        def exact(texts=texts):
            started = time.perf_counter()
            pairs = exact_pairs(texts, 0.8)
            return {"s": time.perf_counter() - started, "pairs": sorted(pairs)}

        ref, theirs = reference(exact, warm=lambda: exact(texts[:100]), timeout=60)
        ours = {(int(p["a"]), int(p["b"])) for p in out.get("pairs", [])}
        notes = (f"ours: {out.get('pairs_found')} pairs from {out.get('candidates')} LSH candidates "
                 f"({out.get('bands')} bands x {out.get('rows')} rows)")
        if theirs:
            truth = {tuple(p) for p in theirs["pairs"]}
            recall = len(ours & truth) / max(1, len(truth))
            notes += f"; exact: {len(truth)} pairs; our recall {recall:.4f}, false pairs {len(ours - truth)}"
        return [{"case": "duplicates (MinHash + LSH, threshold 0.8)", "size": f"{n} texts", **figures,
                 "reference": "exact all-pairs Jaccard (scipy sparse product; datasketch not installed)", **ref,
                 "notes": notes}], server.peak_rss_mib()
    finally:
        server.close()


def drain3_miner(masking):
    config = TemplateMinerConfig()
    config.drain_depth, config.drain_sim_th, config.drain_max_children = 4, 0.4, 100
    config.drain_extra_delimiters = []
    config.masking_instructions = [MaskingInstruction(m["regex_pattern"], m["mask_with"]) for m in masking]
    return TemplateMiner(config=config)


def drain3_run(lines, masking):
    """drain3 over `lines`, stopping itself at the reference time limit (then the figure is an
    extrapolation from the lines done)."""
    def run():
        started = time.perf_counter()
        miner = drain3_miner(masking)
        done = 0
        for done, line in enumerate(lines, 1):
            miner.add_log_message(line)
            if done % 10000 == 0 and time.perf_counter() - started > REFERENCE_TIMEOUT_S:
                break
        elapsed = time.perf_counter() - started
        return {"s": elapsed * len(lines) / done, "done": done,
                "templates": sorted([c.get_template(), c.size] for c in miner.drain.clusters)}
    return run


def log_case(server, name, args, lines, masking, size):
    out, figures = server.timed("ide_agents_ultra_log_patterns", args)
    ref, theirs = reference(drain3_run(lines, masking), warm=drain3_run(lines[:1000], masking),
                            timeout=REFERENCE_TIMEOUT_S + 60)
    ours = sorted([t["template"], t["count"]] for t in out.get("templates", []))
    notes = f"ours: {len(ours)} templates"
    if theirs:
        if theirs["done"] < len(lines):
            ref["reference_note"] = (f"stopped at {REFERENCE_TIMEOUT_S} s after {theirs['done']} lines; "
                                     "time extrapolated")
            notes += f"; drain3 stopped after {theirs['done']} lines"
        else:
            notes += f"; drain3: {len(theirs['templates'])} templates, identical: {ours == theirs['templates']}"
    return {"case": name, "size": size, **figures, "reference": "drain3 TemplateMiner (same settings and masks)",
            **ref, "notes": notes}


def case_log_patterns(binary, scale, rng):
    n = 1_000_000 // scale
    lines = log_lines(rng, n)
    warm_args = {"lines": lines[:50]}
    rows, peaks = [], []

    big = 1 << 30
    server = Server(binary, f"memory_limit_mib = 4096\nmax_output_bytes = {big}\n[server]\nmax_line_bytes = {big}\n")
    try:
        masking = server.call("ide_agents_ultra_log_patterns", warm_args)["out"].get("masking", [])
        rows.append(log_case(server, "log_patterns, lines inline (limits raised)", {"lines": lines}, lines, masking,
                             f"{n} lines, {sum(map(len, lines)) + n} bytes"))
        peaks.append(server.peak_rss_mib())
    finally:
        server.close()

    logs = tempfile.mkdtemp(prefix="ultra-bench-logs-")
    budget, count = LOG_FILE_LIMIT // scale, 0
    with open(f"{logs}/app.log", "w") as f:
        for line in lines:
            budget -= len(line) + 1
            if budget < 0:
                break
            f.write(line + "\n")
            count += 1
    server = Server(binary, f"[roots]\nlogs = {json.dumps(logs)}\n")
    try:
        server.call("ide_agents_ultra_log_patterns", warm_args)
        rows.append(log_case(server, "log_patterns, file under [roots] logs (default limits)", {"path": "app.log"},
                             lines[:count], masking, f"{count} lines, {os.path.getsize(f'{logs}/app.log')} bytes"))
        peaks.append(server.peak_rss_mib())
    finally:
        server.close()
        shutil.rmtree(logs, ignore_errors=True)
    return rows, max(p for p in peaks if p is not None) if any(peaks) else None


CASES = [("search", case_search), ("cluster", case_cluster), ("classify", case_classify),
         ("duplicates", case_duplicates), ("log_patterns", case_log_patterns)]


# --- report --------------------------------------------------------------------------------------

def cell(value, unit=""):
    return "n/a" if value is None else f"{value}{unit}"


def table(rows):
    out = ["| case | size | ours median ms | reference median ms | ratio ref/ours | target | request bytes "
           "| our peak RSS growth per call MiB | reference (peak MiB) | notes |",
           "|---|---|---:|---:|---:|---|---:|---:|---|---|"]
    for r in rows:
        ratio = (round(r["reference_ms"] / r["ours_ms"], 2)
                 if r.get("reference_ms") is not None and r.get("ours_ms") else None)
        r["ratio_reference_over_ours"] = ratio
        target = ""
        if r.get("target_ms") is not None:
            met = r.get("ours_ms") is not None and r["ours_ms"] <= r["target_ms"]
            target = f"<= {r['target_ms']} ms: {'met' if met else 'MISSED'}"
        reference_name = r.get("reference", "")
        if r.get("reference_peak_mib") is not None:
            reference_name += f" ({r['reference_peak_mib']})"
        if r.get("reference_note"):
            reference_name += f" [{r['reference_note']}]"
        out.append(f"| {r['case']} | {r.get('size', '')} | {cell(r.get('ours_ms'))} | {cell(r.get('reference_ms'))} "
                   f"| {cell(ratio)} | {target} | {cell(r.get('request_bytes'))} | {cell(r.get('ours_peak_mib'))} "
                   f"| {reference_name} | {r.get('notes', '')} |")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="target/release/ide-agents-mcp")
    parser.add_argument("--quick", action="store_true", help="every size 10x smaller (a smoke run)")
    parser.add_argument("--out", default="bench-results/ultra.json")
    parser.add_argument("--only", action="append", choices=[name for name, _ in CASES],
                        help="run only this case (may be repeated)")
    options = parser.parse_args()
    binary = os.path.abspath(options.server)
    scale = 10 if options.quick else 1
    rows, failed, server_peaks = [], [], {}
    for name, case in CASES:
        if options.only and name not in options.only:
            continue
        print(f"== {name}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            case_rows, peak = case(binary, scale, random.Random(f"ultra-bench-{name}"))
            rows += case_rows
            server_peaks[name] = peak
        except (Failed, RuntimeError, KeyError, ValueError) as e:
            print(f"FAILED {name}: {e}", file=sys.stderr, flush=True)
            failed.append({"case": name, "error": str(e)})
            rows.append({"case": name, "notes": f"FAILED: {str(e)[:300]}"})
        print(f"   {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print(table(rows))
    if failed:
        print("\nFailed: " + "; ".join(f"{f['case']}: {f['error'][:500]}" for f in failed))
    os.makedirs(os.path.dirname(os.path.abspath(options.out)), exist_ok=True)
    with open(options.out, "w") as f:
        json.dump({"server": binary, "quick": options.quick, "cpu_count": os.cpu_count(),
                   "python": sys.version.split()[0], "sklearn": sklearn.__version__, "numpy": np.__version__,
                   "server_peak_rss_mib_by_case": server_peaks, "rows": rows, "failed": failed}, f, indent=1)
    print(f"\nwrote {options.out}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
