//! Who may call (`[auth]`): static bearer tokens (each naming its principal, compared in constant
//! time) and OAuth 2.1 resource-server mode (JWT access tokens checked against a JWKS from a file
//! or URL, cached and refetched for an unknown key id: issuer, audience (the RFC 8707 resource),
//! expiry and scopes). A rejection is 401 with a `WWW-Authenticate: Bearer` challenge naming the
//! RFC 9728 metadata (`/.well-known/oauth-protected-resource`) and the scopes, or 403
//! `insufficient_scope`. Each principal is held to its own calls in flight and calls per second,
//! so one client cannot starve the others (429). A token is never passed on: tools and the
//! backend see no request headers.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::host::Secret;

/// Default calls one principal may have in flight.
pub const DEFAULT_MAX_IN_FLIGHT_PER_PRINCIPAL: usize = 16;
/// Default calls per second one principal may start (burst: one second's worth).
pub const DEFAULT_CALLS_PER_SECOND_PER_PRINCIPAL: u32 = 100;
/// How long fetched keys are trusted before the JWKS is read again.
const JWKS_TTL: Duration = Duration::from_secs(300);
/// Shortest time between two reads of the JWKS (an unknown `kid` triggers one).
const JWKS_MIN_REFRESH: Duration = Duration::from_secs(1);
/// Clock skew allowed on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;

/// A static bearer token and the principal it authenticates.
#[derive(Debug, Clone)]
pub struct StaticToken {
    /// The principal's name (in logs, limits and metrics).
    pub principal: String,
    /// The token.
    pub token: Secret,
}

/// Where the JWKS comes from.
#[derive(Debug, Clone)]
pub enum JwksSource {
    /// A JSON file, reread when a token names an unknown key.
    File(PathBuf),
    /// An `http(s)` URL, fetched and cached.
    Url(String),
}

/// OAuth 2.1 resource-server settings.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// The authorization server: the `iss` every token must carry.
    pub issuer: String,
    /// This server's resource identifier (its MCP endpoint URL): the `aud` every token must
    /// carry, and the `resource` of its metadata.
    pub resource: String,
    /// The keys that sign tokens.
    pub jwks: JwksSource,
    /// Scopes every token must have.
    pub required_scopes: Vec<String>,
}

/// `[auth]`, resolved.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Static bearer tokens.
    pub tokens: Vec<StaticToken>,
    /// OAuth resource-server mode.
    pub oauth: Option<OAuthSettings>,
    /// Calls one principal may have in flight.
    pub max_in_flight_per_principal: usize,
    /// Calls per second one principal may start.
    pub calls_per_second_per_principal: u32,
}

/// An authenticated caller.
#[derive(Debug)]
pub struct Principal {
    /// Its name: the static token's principal, or the JWT's `sub`.
    pub name: String,
    /// Its scopes; `None`: a static token, which holds every scope.
    pub scopes: Option<HashSet<String>>,
}

impl Principal {
    /// The scopes of `wanted` the principal lacks.
    pub fn missing<'a>(&self, wanted: &'a [String]) -> Vec<&'a str> {
        match &self.scopes {
            None => Vec::new(),
            Some(have) => wanted.iter().filter(|s| !have.contains(*s)).map(String::as_str).collect(),
        }
    }
}

/// Why a request is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejection {
    /// No bearer token (401, a challenge without an error).
    Missing,
    /// A token that is not valid (401 `invalid_token`).
    Invalid(String),
    /// A valid token without these scopes (403 `insufficient_scope`).
    InsufficientScope(Vec<String>),
    /// The principal is over its limits (429).
    Limited(String),
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    scp: Option<Vec<String>>,
}

/// The cached signing keys.
struct Keys {
    by_kid: HashMap<String, (Algorithm, DecodingKey)>,
    fetched: Option<Instant>,
}

/// Whether two secrets are equal, in time independent of where they differ: both are hashed
/// (so lengths do not show either) and the digests compared without an early exit.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    let diff = a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| std::hint::black_box(acc | (x ^ y)));
    diff == 0
}

/// The algorithm a key signs with: its `alg`, else what its key type implies.
fn key_algorithm(jwk: &jsonwebtoken::jwk::Jwk) -> Option<Algorithm> {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve};
    if let Some(alg) = jwk.common.key_algorithm {
        // `KeyAlgorithm`'s names are the JOSE names `Algorithm` parses.
        return format!("{alg:?}").parse().ok();
    }
    match &jwk.algorithm {
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Some(Algorithm::ES256),
            EllipticCurve::P384 => Some(Algorithm::ES384),
            _ => None,
        },
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::OctetKeyPair(_) => Some(Algorithm::EdDSA),
        AlgorithmParameters::OctetKey(_) => None,
    }
}

/// Per-principal limits.
struct Limits {
    in_flight: Arc<Semaphore>,
    tokens: f64,
    refilled: Instant,
    /// Calls refused for being over the limits.
    refused: u64,
}

/// Rejection reasons, as counted.
const REASONS: [&str; 4] = ["missing_token", "invalid_token", "insufficient_scope", "rate_limited"];

impl Rejection {
    fn reason(&self) -> usize {
        match self {
            Self::Missing => 0,
            Self::Invalid(_) => 1,
            Self::InsufficientScope(_) => 2,
            Self::Limited(_) => 3,
        }
    }
}

/// Checks requests against [`AuthSettings`].
pub struct Authenticator {
    settings: AuthSettings,
    keys: tokio::sync::Mutex<Keys>,
    limits: Mutex<HashMap<String, Limits>>,
    http: reqwest::Client,
    rejections: [std::sync::atomic::AtomicU64; REASONS.len()],
}

/// A call slot of one principal, held while its call runs.
pub type PrincipalSlot = OwnedSemaphorePermit;

impl Authenticator {
    /// An authenticator for `settings`.
    pub fn new(settings: AuthSettings) -> anyhow::Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()?;
        Ok(Self {
            settings,
            keys: tokio::sync::Mutex::new(Keys { by_kid: HashMap::new(), fetched: None }),
            limits: Mutex::new(HashMap::new()),
            http,
            rejections: Default::default(),
        })
    }

    /// The settings.
    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// The principal behind an `Authorization` header value.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Arc<Principal>, Rejection> {
        let Some(value) = authorization else { return Err(Rejection::Missing) };
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => token.trim(),
            _ => return Err(Rejection::Invalid("the Authorization header must be `Bearer <token>`".into())),
        };
        if let Some(principal) = self.static_principal(token) {
            return Ok(principal);
        }
        let Some(oauth) = &self.settings.oauth else {
            return Err(Rejection::Invalid("unknown token".into()));
        };
        let principal = self.verify_jwt(oauth, token).await?;
        let missing = principal.missing(&oauth.required_scopes);
        if !missing.is_empty() {
            return Err(Rejection::InsufficientScope(missing.into_iter().map(str::to_owned).collect()));
        }
        Ok(principal)
    }

    fn static_principal(&self, token: &str) -> Option<Arc<Principal>> {
        // Every configured token is compared, in constant time, whichever matches.
        let mut found = None;
        for t in &self.settings.tokens {
            let same = same_secret(t.token.expose().as_bytes(), token.as_bytes());
            if same && found.is_none() {
                found = Some(Arc::new(Principal { name: t.principal.clone(), scopes: None }));
            }
        }
        found
    }

    async fn verify_jwt(&self, oauth: &OAuthSettings, token: &str) -> Result<Arc<Principal>, Rejection> {
        let invalid = |why: String| Rejection::Invalid(why);
        let header = jsonwebtoken::decode_header(token).map_err(|e| invalid(format!("not a JWT: {e}")))?;
        let kid = header.kid.ok_or_else(|| invalid("the token names no key (`kid`)".into()))?;
        let (alg, key) = self.key(oauth, &kid).await?;
        if header.alg != alg {
            return Err(invalid(format!("the token's algorithm {:?} is not its key's {alg:?}", header.alg)));
        }
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&oauth.issuer]);
        validation.set_audience(&[&oauth.resource]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| invalid(e.to_string()))?;
        let claims = data.claims;
        let mut scopes: HashSet<String> =
            claims.scope.as_deref().unwrap_or_default().split_whitespace().map(str::to_owned).collect();
        scopes.extend(claims.scp.unwrap_or_default());
        let name = claims.sub.unwrap_or_else(|| "(no sub)".into());
        Ok(Arc::new(Principal { name, scopes: Some(scopes) }))
    }

    /// The key `kid`, reading the JWKS again when it is unknown (at most every few seconds) or
    /// the cache is old.
    async fn key(&self, oauth: &OAuthSettings, kid: &str) -> Result<(Algorithm, DecodingKey), Rejection> {
        let mut keys = self.keys.lock().await;
        let stale = keys.fetched.is_none_or(|t| t.elapsed() > JWKS_TTL);
        let may_refresh = keys.fetched.is_none_or(|t| t.elapsed() > JWKS_MIN_REFRESH);
        if stale || (!keys.by_kid.contains_key(kid) && may_refresh) {
            match self.fetch(&oauth.jwks).await {
                Ok(fresh) => *keys = Keys { by_kid: fresh, fetched: Some(Instant::now()) },
                Err(e) => tracing::warn!("cannot read the JWKS: {e}"),
            }
        }
        keys.by_kid.get(kid).cloned().ok_or_else(|| Rejection::Invalid(format!("unknown signing key {kid:?}")))
    }

    async fn fetch(&self, source: &JwksSource) -> anyhow::Result<HashMap<String, (Algorithm, DecodingKey)>> {
        let text = match source {
            JwksSource::File(path) => tokio::fs::read_to_string(path).await?,
            JwksSource::Url(url) => self.http.get(url).send().await?.error_for_status()?.text().await?,
        };
        let set: JwkSet = serde_json::from_str(&text)?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = &jwk.common.key_id else { continue };
            let Some(alg) = key_algorithm(jwk) else { continue };
            // Only asymmetric keys: a shared secret in a published key set would let anyone sign.
            if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
                continue;
            }
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                keys.insert(kid.clone(), (alg, key));
            }
        }
        Ok(keys)
    }

    /// Takes a call slot of `principal` (in flight, and one call of its per-second budget).
    pub fn admit(&self, principal: &Principal) -> Result<PrincipalSlot, Rejection> {
        let mut limits = self.limits.lock().unwrap_or_else(|p| p.into_inner());
        let rate = f64::from(self.settings.calls_per_second_per_principal.max(1));
        let limit = limits.entry(principal.name.clone()).or_insert_with(|| Limits {
            in_flight: Arc::new(Semaphore::new(self.settings.max_in_flight_per_principal.max(1))),
            tokens: rate,
            refilled: Instant::now(),
            refused: 0,
        });
        let now = Instant::now();
        limit.tokens = (limit.tokens + now.duration_since(limit.refilled).as_secs_f64() * rate).min(rate);
        limit.refilled = now;
        if limit.tokens < 1.0 {
            limit.refused += 1;
            return Err(Rejection::Limited(format!("more than {rate} calls per second")));
        }
        let Ok(slot) = limit.in_flight.clone().try_acquire_owned() else {
            limit.refused += 1;
            return Err(Rejection::Limited(format!(
                "more than {} calls in flight",
                self.settings.max_in_flight_per_principal
            )));
        };
        limit.tokens -= 1.0;
        Ok(slot)
    }

    /// Counts a refused request.
    pub fn count(&self, rejection: &Rejection) {
        self.rejections[rejection.reason()].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Rejections by reason, and calls refused per principal, Prometheus text format.
    pub fn render_metrics(&self, out: &mut String) {
        use std::fmt::Write as _;
        crate::mcp::metrics::header(
            out,
            "ide_agents_mcp_auth_rejections_total",
            "counter",
            "Requests refused by authorization, by reason.",
        );
        for (reason, count) in REASONS.iter().zip(&self.rejections) {
            let _ = writeln!(
                out,
                "ide_agents_mcp_auth_rejections_total{{reason=\"{reason}\"}} {}",
                count.load(std::sync::atomic::Ordering::Relaxed)
            );
        }
        crate::mcp::metrics::header(
            out,
            "ide_agents_mcp_principal_rejections_total",
            "counter",
            "Calls refused for being over a principal's limits.",
        );
        let limits = self.limits.lock().unwrap_or_else(|p| p.into_inner());
        let mut principals: Vec<_> = limits.iter().collect();
        principals.sort_by(|a, b| a.0.cmp(b.0));
        for (name, limit) in principals {
            let name = crate::telemetry::metrics::label(name);
            let _ =
                writeln!(out, "ide_agents_mcp_principal_rejections_total{{principal=\"{name}\"}} {}", limit.refused);
        }
    }

    /// The RFC 9728 metadata document.
    pub fn metadata(&self) -> serde_json::Value {
        let mut scopes: Vec<&str> = Vec::new();
        let mut servers = Vec::new();
        let mut resource = None;
        if let Some(oauth) = &self.settings.oauth {
            scopes.extend(oauth.required_scopes.iter().map(String::as_str));
            servers.push(oauth.issuer.as_str());
            resource = Some(oauth.resource.as_str());
        }
        serde_json::json!({
            "resource": resource,
            "authorization_servers": servers,
            "scopes_supported": scopes,
            "bearer_methods_supported": ["header"],
            "resource_name": crate::about::SERVER_NAME,
        })
    }

    /// The `WWW-Authenticate` challenge for `rejection`, naming the metadata at `metadata_url`.
    pub fn challenge(&self, rejection: &Rejection, metadata_url: &str) -> String {
        let scope = match rejection {
            Rejection::InsufficientScope(missing) => missing.join(" "),
            _ => self.settings.oauth.as_ref().map(|o| o.required_scopes.join(" ")).unwrap_or_default(),
        };
        let mut challenge = format!("Bearer resource_metadata=\"{metadata_url}\"");
        if !scope.is_empty() {
            challenge.push_str(&format!(", scope=\"{scope}\""));
        }
        match rejection {
            Rejection::Invalid(why) => {
                let why = why.replace(['"', '\\'], "'");
                challenge.push_str(&format!(", error=\"invalid_token\", error_description=\"{why}\""));
            }
            Rejection::InsufficientScope(_) => challenge.push_str(", error=\"insufficient_scope\""),
            Rejection::Missing | Rejection::Limited(_) => {}
        }
        challenge
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(tokens: &[(&str, &str)]) -> Authenticator {
        Authenticator::new(AuthSettings {
            tokens: tokens
                .iter()
                .map(|(p, t)| StaticToken { principal: (*p).into(), token: Secret::new((*t).into()) })
                .collect(),
            oauth: None,
            max_in_flight_per_principal: 2,
            calls_per_second_per_principal: 3,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn static_tokens_name_their_principal() {
        let a = auth(&[("ci", "s3cret"), ("ide", "other")]);
        assert_eq!(a.authenticate(Some("Bearer s3cret")).await.unwrap().name, "ci");
        assert_eq!(a.authenticate(Some("bearer other")).await.unwrap().name, "ide");
        assert_eq!(a.authenticate(None).await.unwrap_err(), Rejection::Missing);
        assert!(matches!(a.authenticate(Some("Bearer nope")).await, Err(Rejection::Invalid(_))));
        assert!(matches!(a.authenticate(Some("Basic s3cret")).await, Err(Rejection::Invalid(_))));
    }

    #[tokio::test]
    async fn each_principal_has_its_own_limits() {
        let a = auth(&[("ci", "t")]);
        let ci = a.authenticate(Some("Bearer t")).await.unwrap();
        let other = Principal { name: "other".into(), scopes: None };
        let first = a.admit(&ci).unwrap();
        let _second = a.admit(&ci).unwrap();
        assert!(matches!(a.admit(&ci), Err(Rejection::Limited(m)) if m.contains("in flight")));
        assert!(a.admit(&other).is_ok(), "another principal is not affected");
        drop(first);
        let _third = a.admit(&ci).unwrap();
        // Three per second: the fourth start within the second is refused.
        assert!(matches!(a.admit(&ci), Err(Rejection::Limited(m)) if m.contains("per second")));
    }

    #[test]
    fn secrets_compare_by_value() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
    }

    #[test]
    fn challenges_name_the_metadata_and_the_error() {
        let a = auth(&[]);
        let url = "https://mcp.example/.well-known/oauth-protected-resource";
        assert_eq!(a.challenge(&Rejection::Missing, url), format!("Bearer resource_metadata=\"{url}\""));
        let c = a.challenge(&Rejection::InsufficientScope(vec!["tools:echo".into()]), url);
        assert!(c.contains("scope=\"tools:echo\"") && c.contains("error=\"insufficient_scope\""), "{c}");
        assert!(a.challenge(&Rejection::Invalid("bad \"sig\"".into()), url).contains("error=\"invalid_token\""));
    }
}
