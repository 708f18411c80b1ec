//! MCP over Streamable HTTP (`ide-agents-mcp serve --http ADDR`): one endpoint (`/mcp`) for both
//! protocol eras, `GET /healthz` for probes. This module owns the listener: accepting
//! connections (at most [`HttpSettings::max_connections`] at once; past that a 503), TLS when
//! given a certificate, HTTP/1.1 and HTTP/2 (hyper), header size and header-read time limits, and
//! graceful shutdown on SIGTERM/SIGINT. What one request means is `handler.rs`; which headers are
//! accepted is `guard.rs`; initialize-era sessions are `sessions.rs`; response bodies and SSE
//! framing are `body.rs`. See `docs/design/0007-streamable-http.md` for why hyper.

pub mod auth;
pub mod body;
pub mod guard;
pub mod handler;
pub mod sessions;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::McpServer;
use handler::Endpoint;

/// Default longest request body (the stdio line limit's default).
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 << 20;
/// Default largest request head (request line and headers); larger heads get 431.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 << 10;
/// Default time a client has to send a request's headers (slow clients are cut off).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a client has to send a request's body (408 past it).
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Default connections served at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default initialize-era sessions alive at once.
pub const DEFAULT_MAX_SESSIONS: usize = 1024;
/// Default idle time after which an initialize-era session ends.
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(3600);
/// Default time calls in flight get to finish after SIGTERM.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);
/// Time a TLS client has to finish its handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A certificate chain and its private key, PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// How the HTTP transport listens and what it accepts.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Address to listen on.
    pub bind: SocketAddr,
    /// The MCP endpoint's path.
    pub path: String,
    /// Extra accepted `Host` names.
    pub allowed_hosts: Vec<String>,
    /// Accepted browser `Origin`s.
    pub allowed_origins: Vec<String>,
    /// Longest request body, bytes (413 past it).
    pub max_body_bytes: usize,
    /// Largest request head, bytes (431 past it).
    pub max_header_bytes: usize,
    /// Time to send the request head.
    pub header_timeout: Duration,
    /// Time to send the body (408 past it).
    pub body_timeout: Duration,
    /// Connections served at once (503 past it).
    pub max_connections: usize,
    /// Initialize-era sessions alive at once.
    pub max_sessions: usize,
    /// Idle time after which a session ends.
    pub session_idle: Duration,
    /// Time calls in flight get after SIGTERM.
    pub grace: Duration,
    /// TLS, when given.
    pub tls: Option<TlsFiles>,
    /// Client authentication, when configured (`[auth]`).
    pub auth: Option<auth::AuthSettings>,
}

impl HttpSettings {
    /// Defaults for listening on `bind`.
    pub fn new(bind: SocketAddr) -> Self {
        Self {
            bind,
            path: "/mcp".into(),
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_sessions: DEFAULT_MAX_SESSIONS,
            session_idle: DEFAULT_SESSION_IDLE,
            grace: DEFAULT_GRACE,
            tls: None,
            auth: None,
        }
    }
}

/// The answer to a connection over the limit (written raw: no HTTP machinery is spent on it).
fn over_capacity() -> Vec<u8> {
    let body = r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"too many connections; retry later"}}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Binds `settings.bind` (so that a caller learns the port before serving, e.g. port 0).
pub async fn bind(settings: &HttpSettings) -> anyhow::Result<TcpListener> {
    TcpListener::bind(settings.bind).await.with_context(|| format!("cannot listen on {}", settings.bind))
}

/// Serves MCP on `listener` until a termination signal; then stops accepting, lets calls in
/// flight finish within the grace period (the rest are answered with an error), and returns.
pub async fn serve(server: Arc<McpServer>, settings: HttpSettings, listener: TcpListener) -> anyhow::Result<()> {
    let tls = settings.tls.as_ref().map(tls_acceptor).transpose()?;
    let local = listener.local_addr()?;
    let allowed = guard::Allowed {
        loopback: local.ip().is_loopback(),
        hosts: settings.allowed_hosts.clone(),
        origins: settings.allowed_origins.clone(),
    };
    let auth = settings.auth.clone().map(auth::Authenticator::new).transpose()?;
    let endpoint = Arc::new(Endpoint {
        auth,
        server: server.clone(),
        sessions: sessions::Sessions::new(settings.max_sessions, settings.session_idle),
        allowed,
        settings: settings.clone(),
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout)
        .max_buf_size(settings.max_header_bytes.max(8192));
    builder.http2().timer(TokioTimer::new()).max_header_list_size(settings.max_header_bytes as u32);
    let builder = Arc::new(builder);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(settings.max_connections.max(1)));
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(address = %local, "serving MCP over Streamable HTTP at {scheme}://{local}{}", settings.path);
    let signal = super::stdio::termination_signal();
    tokio::pin!(signal);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors and the like: wait a moment rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            signal = &mut signal => {
                tracing::info!("received {signal}; shutting down");
                break;
            }
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "connection limit reached; answering 503");
            tokio::spawn(async move {
                let mut stream = stream;
                let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(&over_capacity())).await;
                let _ = stream.shutdown().await;
            });
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (endpoint, builder, tls) = (endpoint.clone(), builder.clone(), tls.clone());
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            match tls {
                None => serve_connection(&builder, endpoint, stream, watcher).await,
                Some(acceptor) => match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => serve_connection(&builder, endpoint, stream, watcher).await,
                    Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                },
            }
        });
    }
    drop(listener);
    server.begin_shutdown();
    if tokio::time::timeout(settings.grace + Duration::from_millis(500), graceful.shutdown()).await.is_err() {
        tracing::info!("connections still open after the grace period; closing them");
    }
    Ok(())
}

async fn serve_connection<S>(
    builder: &auto::Builder<TokioExecutor>,
    endpoint: Arc<Endpoint>,
    stream: S,
    watcher: hyper_util::server::graceful::Watcher,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request| {
        let endpoint = endpoint.clone();
        async move { Ok::<_, std::convert::Infallible>(endpoint.handle(request).await) }
    });
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!("connection ended: {e}");
    }
}

/// A TLS acceptor from PEM files (ALPN: h2, http/1.1).
fn tls_acceptor(files: &TlsFiles) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .with_context(|| format!("cannot read the certificate {}", files.cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("bad certificate PEM in {}", files.cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .with_context(|| format!("cannot read the private key {}", files.key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the certificate and key do not form a usable pair")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
