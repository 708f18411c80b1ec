//! The ranking fixture: a small code corpus (functions in Python, Rust, TypeScript and Go, named
//! and written as code is, without comments that restate a query) and natural-language queries,
//! each with the one function it is about. The test asserts that `ide_agents_ultra_rank`'s
//! ranking (code tokens, synonym expansion, BM25 + n-gram blend) finds the right function first
//! more often than plain BM25 over plain tokens, and prints both top-1 rates.

use textkit::{Bm25, DEFAULT_B, DEFAULT_K1, tokenize};

use crate::rank::{DEFAULT_ALPHA, Relevance};

/// (id, code).
const CORPUS: &[(&str, &str)] = &[
    (
        "levenshtein",
        "def levenshtein(a, b):\n    prev = list(range(len(b) + 1))\n    for i, ca in enumerate(a, 1):\n        cur = [i]\n        for j, cb in enumerate(b, 1):\n            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))\n        prev = cur\n    return prev[-1]",
    ),
    (
        "delete_user",
        "fn delete_user(db: &mut Db, user_id: u64) -> Result<()> {\n    db.execute(\"DELETE FROM users WHERE id = ?\", [user_id])?;\n    Ok(())\n}",
    ),
    (
        "load_settings",
        "export function loadSettings(path: string): Settings {\n  const raw = fs.readFileSync(path, 'utf8');\n  return JSON.parse(raw) as Settings;\n}",
    ),
    (
        "login",
        "def login(username, password):\n    user = User.get(username)\n    if not user or not bcrypt.checkpw(password, user.pw_hash):\n        raise Unauthorized()\n    return Session.create(user)",
    ),
    (
        "sha256_file",
        "fn sha256_file(path: &Path) -> io::Result<String> {\n    let mut hasher = Sha256::new();\n    io::copy(&mut File::open(path)?, &mut hasher)?;\n    Ok(hex::encode(hasher.finalize()))\n}",
    ),
    (
        "memoize",
        "def memoize(fn):\n    table = {}\n    def wrapper(*args):\n        if args not in table:\n            table[args] = fn(*args)\n        return table[args]\n    return wrapper",
    ),
    (
        "with_backoff",
        "async function withBackoff<T>(op: () => Promise<T>, attempts = 5): Promise<T> {\n  for (let n = 0; ; n++) {\n    try { return await op(); } catch (e) {\n      if (n + 1 >= attempts) throw e;\n      await sleep(100 * 2 ** n);\n    }\n  }\n}",
    ),
    (
        "dedupe",
        "def dedupe(items):\n    seen = set()\n    out = []\n    for x in items:\n        if x not in seen:\n            seen.add(x)\n            out.append(x)\n    return out",
    ),
    (
        "mean",
        "func Mean(xs []float64) float64 {\n\tvar s float64\n\tfor _, x := range xs {\n\t\ts += x\n\t}\n\treturn s / float64(len(xs))\n}",
    ),
    (
        "word_freq",
        "def word_freq(text):\n    counts = Counter()\n    for w in re.findall(r'\\w+', text.lower()):\n        counts[w] += 1\n    return counts.most_common()",
    ),
    (
        "dijkstra",
        "def dijkstra(graph, src):\n    dist = {src: 0}\n    heap = [(0, src)]\n    while heap:\n        d, u = heapq.heappop(heap)\n        for v, w in graph[u]:\n            if d + w < dist.get(v, inf):\n                dist[v] = d + w\n                heapq.heappush(heap, (d + w, v))\n    return dist",
    ),
    (
        "sieve",
        "fn sieve(n: usize) -> Vec<usize> {\n    let mut is = vec![true; n + 1];\n    (2..=n).filter(|&i| { if is[i] { (i * i..=n).step_by(i).for_each(|j| is[j] = false); } is[i] }).collect()\n}",
    ),
    ("gcd", "def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return a"),
    (
        "bisect_left",
        "fn bisect_left(xs: &[i64], target: i64) -> usize {\n    let (mut lo, mut hi) = (0, xs.len());\n    while lo < hi {\n        let mid = (lo + hi) / 2;\n        if xs[mid] < target { lo = mid + 1 } else { hi = mid }\n    }\n    lo\n}",
    ),
    (
        "is_valid_email",
        "export function isValidEmail(s: string): boolean {\n  return /^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$/i.test(s);\n}",
    ),
    (
        "read_env_port",
        "fn read_env_port() -> u16 {\n    std::env::var(\"PORT\").ok().and_then(|p| p.parse().ok()).unwrap_or(8080)\n}",
    ),
    (
        "parse_args",
        "def parse_args(argv):\n    p = argparse.ArgumentParser()\n    p.add_argument('--verbose', action='store_true')\n    p.add_argument('input')\n    return p.parse_args(argv)",
    ),
    (
        "token_bucket",
        "class TokenBucket:\n    def __init__(self, rate, capacity):\n        self.rate, self.capacity = rate, capacity\n        self.tokens, self.stamp = capacity, time.monotonic()\n    def allow(self):\n        now = time.monotonic()\n        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)\n        self.stamp = now\n        if self.tokens >= 1:\n            self.tokens -= 1\n            return True\n        return False",
    ),
    (
        "capitalize_words",
        "export const capitalizeWords = (s: string) => s.split(' ').map(w => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');",
    ),
    (
        "strip_whitespace",
        "fn collapse_spaces(s: &str) -> String {\n    s.split_whitespace().collect::<Vec<_>>().join(\" \")\n}",
    ),
    ("celsius_to_fahrenheit", "def c_to_f(c):\n    return c * 9 / 5 + 32"),
    (
        "reverse_string",
        "func Reverse(s string) string {\n\tr := []rune(s)\n\tfor i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {\n\t\tr[i], r[j] = r[j], r[i]\n\t}\n\treturn string(r)\n}",
    ),
    (
        "gzip_bytes",
        "def gzip_bytes(data: bytes) -> bytes:\n    buf = io.BytesIO()\n    with gzip.GzipFile(fileobj=buf, mode='wb') as f:\n        f.write(data)\n    return buf.getvalue()",
    ),
    (
        "list_dir_recursive",
        "fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {\n    for entry in fs::read_dir(dir)? {\n        let p = entry?.path();\n        if p.is_dir() { walk(&p, out)?; } else { out.push(p); }\n    }\n    Ok(())\n}",
    ),
    (
        "fetch_json",
        "export async function getJson<T>(url: string): Promise<T> {\n  const res = await fetch(url);\n  if (!res.ok) throw new Error(`HTTP ${res.status}`);\n  return res.json();\n}",
    ),
    (
        "mutex_counter",
        "struct Counter { n: Mutex<u64> }\nimpl Counter {\n    fn incr(&self) -> u64 { let mut g = self.n.lock().unwrap(); *g += 1; *g }\n}",
    ),
    ("parse_iso_date", "def parse_iso_date(s):\n    return datetime.strptime(s, '%Y-%m-%d').date()"),
    (
        "shuffle",
        "fn shuffle<T>(xs: &mut [T], rng: &mut impl Rng) {\n    for i in (1..xs.len()).rev() {\n        let j = rng.gen_range(0..=i);\n        xs.swap(i, j);\n    }\n}",
    ),
    (
        "max_by_key",
        "def argmax(xs):\n    best = 0\n    for i in range(1, len(xs)):\n        if xs[i] > xs[best]:\n            best = i\n    return best",
    ),
    (
        "send_email",
        "def send_mail(to, subject, body):\n    msg = EmailMessage()\n    msg['To'], msg['Subject'] = to, subject\n    msg.set_content(body)\n    with smtplib.SMTP('localhost') as s:\n        s.send_message(msg)",
    ),
    (
        "resize_image",
        "def thumbnail(path, size=(128, 128)):\n    with Image.open(path) as im:\n        im.thumbnail(size)\n        im.save(path + '.thumb.png')",
    ),
    (
        "cron_schedule",
        "export function everyMinute(job: () => void): NodeJS.Timer {\n  return setInterval(job, 60_000);\n}",
    ),
    ("sort_by_age", "def sort_people(people):\n    return sorted(people, key=lambda p: p.age)"),
    (
        "json_serialize",
        "fn to_json<T: Serialize>(value: &T) -> String {\n    serde_json::to_string_pretty(value).expect(\"serializable\")\n}",
    ),
];

/// (query, id of the function it is about).
const QUERIES: &[(&str, &str)] = &[
    ("edit distance between two strings", "levenshtein"),
    ("remove a user account from the database", "delete_user"),
    ("read the configuration file", "load_settings"),
    ("authenticate with username and password", "login"),
    ("checksum of a file", "sha256_file"),
    ("cache the results of a function", "memoize"),
    ("retry an operation with exponential backoff", "with_backoff"),
    ("remove duplicates from a list keeping order", "dedupe"),
    ("average of numbers", "mean"),
    ("count how often each word occurs", "word_freq"),
    ("shortest path in a weighted graph", "dijkstra"),
    ("prime numbers up to n", "sieve"),
    ("greatest common divisor", "gcd"),
    ("binary search for insertion point", "bisect_left"),
    ("check that an email address is valid", "is_valid_email"),
    ("port from environment variable", "read_env_port"),
    ("command line arguments", "parse_args"),
    ("rate limit requests", "token_bucket"),
    ("uppercase first letter of every word", "capitalize_words"),
    ("trim repeated whitespace", "strip_whitespace"),
    ("temperature conversion celsius", "celsius_to_fahrenheit"),
    ("reverse a string", "reverse_string"),
    ("compress bytes", "gzip_bytes"),
    ("all files in a folder and its subfolders", "list_dir_recursive"),
    ("download json over http", "fetch_json"),
    ("thread safe counter with a lock", "mutex_counter"),
    ("parse a date string", "parse_iso_date"),
    ("random permutation of an array", "shuffle"),
    ("index of the largest element", "max_by_key"),
    ("send an email message", "send_email"),
    ("make a smaller picture", "resize_image"),
    ("run a job on a timer every minute", "cron_schedule"),
    ("order people by age", "sort_by_age"),
    ("serialize a value to json", "json_serialize"),
];

/// Top-1 hit rates (plain BM25 over plain tokens, the ranker) over [`QUERIES`].
fn top1_rates() -> (f64, f64) {
    let texts: Vec<String> = CORPUS.iter().map(|(_, t)| (*t).to_owned()).collect();
    let plain = Bm25::new(&texts.iter().map(|t| tokenize(t)).collect::<Vec<_>>(), DEFAULT_K1, DEFAULT_B);
    let position = |id: &str| CORPUS.iter().position(|(c, _)| *c == id).unwrap();
    let (mut plain_hits, mut ranker_hits) = (0, 0);
    for &(query, id) in QUERIES {
        let want = position(id);
        let q = tokenize(query);
        let scores: Vec<f64> = (0..texts.len()).map(|i| plain.score(&q, i)).collect();
        let best = (0..texts.len()).fold(0, |b, i| if scores[i] > scores[b] { i } else { b });
        plain_hits += usize::from(best == want && scores[best] > 0.0);
        let ranker = Relevance::new(query, &texts, DEFAULT_ALPHA, DEFAULT_K1, DEFAULT_B, true);
        let top = ranker.order()[0];
        ranker_hits += usize::from(top == want);
        if top != want {
            eprintln!("ranker miss: {query:?} -> {} (wanted {id})", CORPUS[top].0);
        }
    }
    let n = QUERIES.len() as f64;
    (plain_hits as f64 / n, ranker_hits as f64 / n)
}

#[test]
fn the_code_aware_ranker_beats_plain_bm25_at_top_1() {
    assert!(QUERIES.len() >= 30);
    let (plain, ranker) = top1_rates();
    eprintln!("top-1 hit rate over {} queries: plain BM25 {plain:.3}, ultra_rank {ranker:.3}", QUERIES.len());
    assert!(ranker > plain, "ranker {ranker} vs plain {plain}");
}
