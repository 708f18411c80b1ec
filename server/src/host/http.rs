//! `http`: outbound HTTP for tools through one shared, pooled reqwest client.
//!
//! Policy, checked on every hop (redirects are followed here, not by reqwest):
//! - the URL's origin must be on the calling tool's allow-list (deny by default);
//! - a literal IP that is not public (loopback, private, link-local, CGNAT, metadata...) must be
//!   named explicitly, not through a wildcard;
//! - a hostname is resolved by [`GuardedResolver`], which drops non-public addresses unless the
//!   host is named explicitly in an allow-list, so a public name cannot be pointed at an internal
//!   address (DNS rebinding) and the check holds for the address actually dialled.
//!
//! At most `max_in_flight` requests run at once (a semaphore; waits are counted); bodies are
//! capped; each failure maps to a distinct WIT error case.
//!
//! Shared by every call: the [`HttpClient`] (in [`HostServices`](super::HostServices)). Owned by
//! each call: its [`HttpCtx`] (the time it spent in requests). The interface is implemented on
//! [`HttpView`], a borrow of both and of the calling tool's allow-list.

use std::collections::HashSet;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, COOKIE, HeaderMap, HeaderName, HeaderValue, LOCATION, PROXY_AUTHORIZATION};
use reqwest::{Method, Url};
use tokio::sync::Semaphore;
use wasmtime::component::{HasData, Linker};

use crate::bindings::ide_agents::tool::http::{self, Error, Host, Request, Response};

/// Redirect hops followed before giving up.
pub const MAX_REDIRECTS: usize = 10;
/// Time to establish a connection (DNS + TCP + TLS).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Outbound HTTP settings (seed report defaults).
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Idle connections kept per host.
    pub max_idle_per_host: usize,
    /// How long an idle connection is kept.
    pub idle_timeout: Duration,
    /// Requests in flight across the server.
    pub max_in_flight: usize,
    /// Largest response body.
    pub max_response_bytes: u64,
    /// Default and maximum time per request (redirects included).
    pub timeout: Duration,
    /// Extra PEM root certificates to trust.
    pub extra_root_certs: Vec<PathBuf>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_idle_per_host: 20,
            idle_timeout: Duration::from_secs(30),
            max_in_flight: 50,
            max_response_bytes: 10 << 20,
            timeout: Duration::from_secs(30),
            extra_root_certs: Vec::new(),
        }
    }
}

/// One allowed origin.
#[derive(Debug, Clone, PartialEq)]
struct AllowedOrigin {
    scheme: String,
    /// Exact host, or for a wildcard the suffix including the leading dot (`.example.com`).
    host: String,
    wildcard: bool,
    port: u16,
}

/// How a URL matched an allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// Named exactly.
    Explicit,
    /// Through a `*.domain` entry.
    Wildcard,
}

/// Origins a tool may reach.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllowList {
    origins: Vec<AllowedOrigin>,
}

impl AllowList {
    /// Adds an entry: `https://host`, `http://host:port`, `https://*.domain`, `http://[::1]:8080`.
    pub fn add(&mut self, entry: &str) -> Result<(), String> {
        let (scheme, rest) = entry.split_once("://").ok_or("expected scheme://host[:port]")?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(format!("scheme must be http or https, not {scheme:?}"));
        }
        let (wildcard, rest) = match rest.strip_prefix("*.") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let url = Url::parse(&format!("{scheme}://{rest}")).map_err(|e| format!("{entry:?} is not an origin: {e}"))?;
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err(format!("{entry:?} must be an origin only (no path, query or credentials)"));
        }
        let host = url.host_str().ok_or("missing host")?.to_owned();
        if wildcard && url.host().is_some_and(|h| !matches!(h, url::Host::Domain(_))) {
            return Err("a wildcard needs a domain name".into());
        }
        let port = url.port_or_known_default().ok_or("missing port")?;
        let host = if wildcard { format!(".{host}") } else { host };
        self.origins.push(AllowedOrigin { scheme, host, wildcard, port });
        Ok(())
    }

    /// How `url` is allowed, if it is.
    pub fn check(&self, url: &Url) -> Option<Match> {
        let (scheme, host, port) = (url.scheme(), url.host_str()?, url.port_or_known_default()?);
        let mut found = None;
        for o in self.origins.iter().filter(|o| o.scheme == scheme && o.port == port) {
            if !o.wildcard && o.host == host {
                return Some(Match::Explicit);
            }
            if o.wildcard && host.ends_with(&o.host) {
                found = Some(Match::Wildcard);
            }
        }
        found
    }

    /// Hosts named exactly (for the resolver's exceptions).
    pub fn explicit_hosts(&self) -> impl Iterator<Item = &str> {
        self.origins.iter().filter(|o| !o.wildcard).map(|o| o.host.as_str())
    }
}

/// Whether `ip` is a public unicast address (not loopback, private, link-local, shared, metadata,
/// multicast, documentation or reserved).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let seg = v6.segments();
            let nat64 = seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0];
            if nat64 {
                let o = v6.octets();
                return is_public_v4(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00 // unique local fc00::/7 (incl. fd00:ec2::254 metadata)
                || (seg[0] & 0xffc0) == 0xfe80 // link-local
                || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
                || v6 == Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, incl. the 169.254.169.254 metadata service
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space, incl. 100.100.100.200 metadata
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

/// A resolver error meaning "resolved, but only to addresses this host may not use".
#[derive(Debug)]
struct AddressDenied(String);

impl std::fmt::Display for AddressDenied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AddressDenied {}

/// Resolves with the system resolver, then drops non-public addresses unless the host is named
/// explicitly in some allow-list.
struct GuardedResolver {
    explicit: Arc<HashSet<String>>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let explicit = self.explicit.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if explicit.contains(&host) {
                return Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs);
            }
            let total = addrs.len();
            let public: Vec<SocketAddr> = addrs.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() && total > 0 {
                return Err(Box::new(AddressDenied(format!(
                    "{host} resolves only to non-public addresses; name it explicitly in http_allow to allow that"
                ))) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Counters of the shared client.
#[derive(Debug, Default)]
pub struct HttpStats {
    /// Requests sent (each hop).
    pub requests: AtomicU64,
    /// Requests that waited for a slot.
    pub waits: AtomicU64,
    /// Connections established.
    pub connections_opened: Arc<AtomicU64>,
}

/// The shared outbound client. The reqwest client (TLS configuration, system roots) is built on
/// first use, so servers whose tools never use HTTP do not pay for it at startup.
pub struct HttpClient {
    client: std::sync::OnceLock<Result<reqwest::Client, String>>,
    extra_roots: Vec<reqwest::Certificate>,
    slots: Semaphore,
    settings: HttpSettings,
    explicit: Arc<HashSet<String>>,
    /// Counters.
    pub stats: HttpStats,
}

impl HttpClient {
    /// Prepares the client. `explicit_hosts` are the hosts named exactly by any tool's allow-list.
    /// Extra root certificates are read and checked now, so a bad path fails at startup.
    pub fn new(settings: HttpSettings, explicit_hosts: HashSet<String>) -> anyhow::Result<Self> {
        use anyhow::Context;
        let mut extra_roots = Vec::new();
        for path in &settings.extra_root_certs {
            let pem =
                std::fs::read(path).with_context(|| format!("cannot read http.extra_root_certs {}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .with_context(|| format!("http.extra_root_certs {} is not PEM", path.display()))?;
            anyhow::ensure!(!certs.is_empty(), "http.extra_root_certs {} holds no certificate", path.display());
            extra_roots.extend(certs);
        }
        Ok(Self {
            client: std::sync::OnceLock::new(),
            extra_roots,
            slots: Semaphore::new(settings.max_in_flight),
            settings,
            explicit: Arc::new(explicit_hosts),
            stats: HttpStats::default(),
        })
    }

    fn client(&self) -> Result<&reqwest::Client, Error> {
        self.client
            .get_or_init(|| {
                // reqwest is built without a bundled crypto provider; use ring (ignore "already installed").
                let _ = rustls::crypto::ring::default_provider().install_default();
                let mut builder = reqwest::Client::builder()
                    .pool_max_idle_per_host(self.settings.max_idle_per_host)
                    .pool_idle_timeout(self.settings.idle_timeout)
                    .redirect(reqwest::redirect::Policy::none())
                    .connect_timeout(CONNECT_TIMEOUT)
                    .user_agent(concat!("ide-agents-mcp/", env!("CARGO_PKG_VERSION")))
                    .dns_resolver(Arc::new(GuardedResolver { explicit: self.explicit.clone() }))
                    .connector_layer(CountConnections(self.stats.connections_opened.clone()));
                for cert in &self.extra_roots {
                    builder = builder.add_root_certificate(cert.clone());
                }
                builder.build().map_err(|e| {
                    tracing::error!("cannot build the HTTP client: {e}");
                    format!("the HTTP client could not be built: {e}")
                })
            })
            .as_ref()
            .map_err(|e| Error::Failed(e.clone()))
    }

    /// Requests running now.
    pub fn in_flight(&self) -> u32 {
        (self.settings.max_in_flight - self.slots.available_permits()) as u32
    }

    /// The largest body a request may send or a response bring (`http.max_response_bytes`).
    pub fn max_body_bytes(&self) -> u64 {
        self.settings.max_response_bytes
    }

    /// Sends `req` for a tool with allow-list `allow`.
    pub async fn send(&self, allow: &AllowList, req: Request) -> Result<Response, Error> {
        let limit = req
            .timeout_ms
            .map_or(self.settings.timeout, |ms| Duration::from_millis(ms.into()).min(self.settings.timeout));
        tokio::time::timeout(limit, self.exchange(allow, req)).await.unwrap_or(Err(Error::Timeout))
    }

    fn authorize(&self, allow: &AllowList, url: &Url) -> Result<(), Error> {
        let Some(how) = allow.check(url) else {
            return Err(Error::Denied(format!("{} is not in this tool's http_allow list", origin(url))));
        };
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal
            && !is_public(ip)
            && how != Match::Explicit
        {
            return Err(Error::Denied(format!("{ip} is not a public address; name it explicitly in http_allow")));
        }
        if how == Match::Wildcard && url.host_str().is_some_and(|h| self.explicit.contains(h)) {
            return Err(Error::Denied(format!(
                "{} is allowed for this tool only through a wildcard; name it explicitly",
                origin(url)
            )));
        }
        Ok(())
    }

    async fn exchange(&self, allow: &AllowList, req: Request) -> Result<Response, Error> {
        let mut method = parse_method(&req.method)?;
        let mut url = Url::parse(&req.url).map_err(|e| Error::BadUrl(format!("{}: {e}", req.url)))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(Error::BadUrl(format!("{}: only http and https are supported", req.url)));
        }
        let mut headers = header_map(&req.headers)?;
        let mut body = req.body;
        for hop in 0..=MAX_REDIRECTS {
            self.authorize(allow, &url)?;
            let _slot = match self.slots.try_acquire() {
                Ok(slot) => slot,
                Err(_) => {
                    self.stats.waits.fetch_add(1, Ordering::Relaxed);
                    self.slots.acquire().await.expect("never closed")
                }
            };
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let mut request = self.client()?.request(method.clone(), url.clone()).headers(headers.clone());
            if let Some(b) = &body {
                request = request.body(b.clone());
            }
            let response = request.send().await.map_err(classify)?;
            let location = response.headers().get(LOCATION).and_then(|l| l.to_str().ok());
            if let (true, Some(location)) = (response.status().is_redirection(), location) {
                if hop == MAX_REDIRECTS {
                    return Err(Error::Failed(format!("more than {MAX_REDIRECTS} redirects")));
                }
                let next = url.join(location).map_err(|e| Error::Failed(format!("bad redirect {location:?}: {e}")))?;
                let status = response.status().as_u16();
                if status == 303 || ((status == 301 || status == 302) && method == Method::POST) {
                    method = Method::GET;
                    body = None;
                    headers.remove(reqwest::header::CONTENT_TYPE);
                    headers.remove(reqwest::header::CONTENT_LENGTH);
                }
                if next.origin() != url.origin() {
                    for h in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION] {
                        headers.remove(h);
                    }
                }
                url = next;
                continue;
            }
            return read_response(response, self.settings.max_response_bytes).await;
        }
        unreachable!("the loop returns on its last hop")
    }
}

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

fn parse_method(method: &str) -> Result<Method, Error> {
    match method.to_ascii_uppercase().as_str() {
        m @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => {
            Method::from_bytes(m.as_bytes()).map_err(|e| Error::BadUrl(e.to_string()))
        }
        other => Err(Error::BadUrl(format!("unsupported method {other:?}"))),
    }
}

/// Request headers a tool may not set: connection-level and hop-by-hop headers (the host's client
/// manages the connection, framing and target host), as wasmtime-wasi-http's default forbidden
/// list has them, plus `Content-Length`, `Expect` and the `Proxy-*` family. Setting `Host` would
/// let a tool granted one origin address another virtual host behind the same address.
pub const FORBIDDEN_HEADERS: &[&str] = &[
    "connection",
    "content-length",
    "expect",
    "host",
    "http2-settings",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Whether a tool may not set the request header `name` (lower case): [`FORBIDDEN_HEADERS`] and
/// any `proxy-*` header.
pub(super) fn forbidden_header(name: &str) -> bool {
    FORBIDDEN_HEADERS.contains(&name) || name.starts_with("proxy-")
}

fn header_map(pairs: &[(String, String)]) -> Result<HeaderMap, Error> {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::BadUrl(format!("bad header name {name:?}")))?;
        if forbidden_header(name.as_str()) {
            return Err(Error::Denied(format!(
                "forbidden header {name:?}: connection-level headers are set by the host, not by tools"
            )));
        }
        let value = HeaderValue::from_str(value).map_err(|_| Error::BadUrl(format!("bad value for header {name}")))?;
        map.append(name, value);
    }
    Ok(map)
}

async fn read_response(mut response: reqwest::Response, cap: u64) -> Result<Response, Error> {
    if response.content_length().is_some_and(|n| n > cap) {
        return Err(Error::TooLarge(cap));
    }
    let status = response.status().as_u16();
    let version = format!("{:?}", response.version());
    let url = response.url().to_string();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        if body.len() as u64 + chunk.len() as u64 > cap {
            return Err(Error::TooLarge(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response { status, headers, body, version, url })
}

/// Maps a reqwest error to the WIT error case.
fn classify(error: reqwest::Error) -> Error {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    let mut chain = Vec::new();
    while let Some(e) = source {
        if let Some(denied) = e.downcast_ref::<AddressDenied>() {
            return Error::Denied(denied.0.clone());
        }
        chain.push(e.to_string());
        source = e.source();
    }
    chain.dedup();
    let text = chain.join(": ");
    if error.is_timeout() {
        Error::Timeout
    } else if error.is_connect() {
        Error::ConnectFailed(text)
    } else if error.is_builder() {
        Error::BadUrl(text)
    } else {
        Error::Failed(text)
    }
}

/// A connector layer counting established connections.
#[derive(Clone)]
struct CountConnections(Arc<AtomicU64>);

impl<S> tower_layer::Layer<S> for CountConnections {
    type Service = Counted<S>;
    fn layer(&self, inner: S) -> Counted<S> {
        Counted { inner, opened: self.0.clone() }
    }
}

#[derive(Clone)]
struct Counted<S> {
    inner: S,
    opened: Arc<AtomicU64>,
}

impl<S, R> tower_service::Service<R> for Counted<S>
where
    S: tower_service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let opened = self.opened.clone();
        let connecting = self.inner.call(req);
        Box::pin(async move {
            let conn = connecting.await;
            if conn.is_ok() {
                opened.fetch_add(1, Ordering::Relaxed);
            }
            conn
        })
    }
}

/// What `http` keeps for one call.
#[derive(Debug, Default)]
pub struct HttpCtx {
    /// Time spent in host HTTP requests during the call.
    time: Duration,
}

impl HttpCtx {
    /// Time the call has spent in host HTTP requests.
    pub fn time(&self) -> Duration {
        self.time
    }
}

/// What `http` sees of a call: its [`HttpCtx`], the shared client, and the calling tool and its
/// allow-list.
pub struct HttpView<'a> {
    pub(super) ctx: &'a mut HttpCtx,
    pub(super) client: &'a HttpClient,
    pub(super) allow: &'a AllowList,
    /// The calling tool (tags failures in the log).
    pub(super) tool: &'a str,
}

struct HasHttp;

impl HasData for HasHttp {
    type Data<'a> = HttpView<'a>;
}

/// Links `http` into `linker`, reaching each store's HTTP state through `view`.
pub(super) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> HttpView<'_>,
) -> wasmtime::Result<()> {
    http::add_to_linker::<T, HasHttp>(linker, view)
}

impl Host for HttpView<'_> {
    async fn send(&mut self, req: Request) -> Result<Response, Error> {
        let started = Instant::now();
        let result = self.client.send(self.allow, req).await;
        self.ctx.time += started.elapsed();
        if let Err(e) = &result {
            tracing::debug!(tool = %self.tool, "http request failed: {e:?}");
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowList {
        let mut l = AllowList::default();
        entries.iter().for_each(|e| l.add(e).unwrap());
        l
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn allow_list_matches_scheme_host_port_and_wildcards() {
        let l = list(&["https://api.github.com", "http://127.0.0.1:8080", "https://*.example.com"]);
        assert_eq!(l.check(&url("https://api.github.com/repos")), Some(Match::Explicit));
        assert_eq!(l.check(&url("https://API.GITHUB.COM:443/")), Some(Match::Explicit));
        assert_eq!(l.check(&url("http://api.github.com/")), None, "scheme");
        assert_eq!(l.check(&url("https://api.github.com:8443/")), None, "port");
        assert_eq!(l.check(&url("http://127.0.0.1:8080/x")), Some(Match::Explicit));
        assert_eq!(l.check(&url("https://a.b.example.com/")), Some(Match::Wildcard));
        assert_eq!(l.check(&url("https://example.com/")), None, "wildcard needs a subdomain");
        assert_eq!(l.check(&url("https://badexample.com/")), None);
        assert_eq!(l.explicit_hosts().collect::<Vec<_>>(), ["api.github.com", "127.0.0.1"]);
    }

    #[test]
    fn allow_list_entries_are_validated() {
        let mut l = AllowList::default();
        assert!(l.add("ftp://x.com").is_err());
        assert!(l.add("https://x.com/path").is_err());
        assert!(l.add("x.com").is_err());
        assert!(l.add("https://*.10.0.0.1").is_err());
        assert!(l.add("http://[::1]:9000").is_ok());
        assert_eq!(l.check(&url("http://[::1]:9000/")), Some(Match::Explicit));
    }

    #[test]
    fn public_and_non_public_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "224.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} must not be public");
        }
        for ip in ["1.1.1.1", "140.82.112.3", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[test]
    fn connection_level_headers_are_refused() {
        let pair = |n: &str| vec![(n.to_owned(), "x".to_owned())];
        for name in
            ["Host", "connection", "Content-Length", "Transfer-Encoding", "TE", "Upgrade", "Proxy-Authorization"]
        {
            match header_map(&pair(name)) {
                Err(Error::Denied(m)) => assert!(m.contains("forbidden header"), "{m}"),
                other => panic!("{name} must be refused, got {other:?}"),
            }
        }
        assert_eq!(header_map(&pair("Accept")).unwrap().len(), 1);
        assert_eq!(header_map(&pair("X-Proxyish")).unwrap().len(), 1);
    }
}
