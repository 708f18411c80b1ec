//! A loopback HTTP server for the tests: plain HTTP/1.1, or TLS with ALPN (`h2`, `http/1.1`) and
//! a certificate from a throwaway CA. It counts accepted TCP connections.
//!
//! Routes: `/ok` (200 "ok"), `/redirect?to=URL` (302), `/slow?ms=N`, `/big?n=N` (N bytes),
//! `/echo` (method, body and whether an Authorization header arrived). [`TestServer::api`] serves
//! a [`Handler`] instead (the fake backend and GitHub API).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

/// One request, as a [`Handler`] sees it.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string (without `?`), or empty.
    pub query: String,
    /// Headers, lowercased names.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl ApiRequest {
    /// The first header called `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The query parameter `key`, percent-decoded.
    pub fn param(&self, key: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes()).find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
    }
}

/// An answer: status, content type, body.
pub type ApiReply = (u16, &'static str, Vec<u8>);

/// Answers requests (run on the blocking pool, so it may block).
pub type Handler = Arc<dyn Fn(ApiRequest) -> ApiReply + Send + Sync>;

/// A running test server; stops when dropped.
pub struct TestServer {
    /// Where it listens (127.0.0.1).
    pub addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    /// Plain HTTP/1.1 and h2c.
    pub fn plain() -> Self {
        Self::start(None, None)
    }

    /// Plain HTTP/1.1 answered by `handler`.
    pub fn api(handler: Handler) -> Self {
        Self::start(None, Some(handler))
    }

    /// TLS with ALPN h2 + http/1.1; writes the CA certificate (PEM) to `ca_file`.
    pub fn tls(ca_file: &Path) -> Self {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "ide-agents-mcp test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        std::fs::write(ca_file, ca_cert.pem()).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf_params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Self::start(Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))), None)
    }

    fn start(tls: Option<tokio_rustls::TlsAcceptor>, handler: Option<Handler>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let count = accepted.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let stream = tokio::select! {
                        _ = &mut stopped => return,
                        accepted = listener.accept() => match accepted { Ok((s, _)) => s, Err(_) => continue },
                    };
                    count.fetch_add(1, Ordering::SeqCst);
                    let (tls, handler) = (tls.clone(), handler.clone());
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let handler = handler.clone();
                            async move {
                                match handler {
                                    Some(h) => serve_api(h, req).await,
                                    None => route(req).await,
                                }
                            }
                        });
                        let builder = auto::Builder::new(TokioExecutor::new());
                        match tls {
                            Some(acceptor) => {
                                if let Ok(stream) = acceptor.accept(stream).await {
                                    let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                                }
                            }
                            None => {
                                let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                    });
                }
            });
        });
        Self { addr, accepted, stop: Some(stop) }
    }

    /// TCP connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn serve_api(handler: Handler, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let headers =
        req.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned())).collect();
    let body = req.into_body().collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
    let request = ApiRequest { method, path, query, headers, body };
    let (status, content_type, body) =
        tokio::task::spawn_blocking(move || handler(request)).await.unwrap_or((500, "text/plain", b"panic".to_vec()));
    Ok(Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap())
}

fn query<'a>(req: &'a Request<Incoming>, key: &str) -> Option<&'a str> {
    req.uri().query()?.split('&').find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

async fn route(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let reply =
        |status: u16, body: Vec<u8>| Response::builder().status(status).body(Full::new(Bytes::from(body))).unwrap();
    Ok(match req.uri().path() {
        "/ok" => reply(200, b"ok".to_vec()),
        "/redirect" => {
            let to = query(&req, "to").unwrap_or("/ok").to_owned();
            Response::builder().status(302).header("location", to).body(Full::new(Bytes::new())).unwrap()
        }
        "/slow" => {
            let ms = query(&req, "ms").and_then(|v| v.parse().ok()).unwrap_or(1000);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            reply(200, b"slow".to_vec())
        }
        "/big" => {
            let n = query(&req, "n").and_then(|v| v.parse().ok()).unwrap_or(1 << 20);
            reply(200, vec![b'x'; n])
        }
        "/echo" => {
            let method = req.method().to_string();
            let auth = req.headers().contains_key("authorization");
            let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            reply(200, format!("{method} auth={auth} {}", String::from_utf8_lossy(&body)).into_bytes())
        }
        _ => reply(404, b"not found".to_vec()),
    })
}
