//! Resolution: defaults, then the file, then environment variables and flags, checked and turned
//! into [`Settings`]. Every out-of-range or malformed value fails naming its key.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use super::file::{FileConfig, config_path, read_file};
use super::{ConfigError, MAX_MEMORY_MIB, MAX_STORAGE_QUOTA_MIB, ServeArgs, grants, invalid, secret_value};
use crate::caches::CacheSettings;
use crate::host::ToolPolicy;
use crate::host::http::HttpSettings;
use crate::host::policy::Binding;
use crate::host::workspace::Root;
use crate::mcp::ServerSettings;
use crate::mcp::server::DEFAULT_BUILTIN_RESERVE;
use crate::runtime::RuntimeSettings;
use crate::telemetry::TelemetrySettings;

/// Everything the server needs to know, resolved.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The file the settings came from, if any.
    pub file: Option<PathBuf>,
    /// ULTRA tool group enabled.
    pub ultra: bool,
    /// Watch the tools directories for added, changed and removed components (`--watch`).
    pub watch: bool,
    /// Async worker threads that run calls.
    pub worker_threads: usize,
    /// Extra tool directories.
    pub tools_dirs: Vec<PathBuf>,
    /// Runtime limits and cache directory.
    pub runtime: RuntimeSettings,
    /// MCP session settings.
    pub server: ServerSettings,
    /// Outbound HTTP.
    pub http: HttpSettings,
    /// Serve MCP over Streamable HTTP with these settings instead of stdio.
    pub listen: Option<crate::mcp::http::HttpSettings>,
    /// Caches.
    pub caches: CacheSettings,
    /// Telemetry.
    pub telemetry: TelemetrySettings,
    /// Per-tool permissions, by tool name.
    pub tools: HashMap<String, ToolPolicy>,
}

impl ServeArgs {
    /// Resolves defaults, the configuration file and these arguments into [`Settings`].
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let path = config_path(self.config.as_deref());
        let file = match &path {
            Some(p) => read_file(p)?,
            None => FileConfig::default(),
        };
        resolve(self, file, path)
    }
}

fn in_range<T: PartialOrd + std::fmt::Display + Copy>(
    file: &Option<PathBuf>,
    key: &str,
    value: T,
    min: T,
    max: T,
) -> Result<T, ConfigError> {
    if value < min || value > max {
        return Err(invalid(file, key, format!("{value} is outside {min}..={max}")));
    }
    Ok(value)
}

/// Applies `args` over `file` over the defaults.
pub fn resolve(args: &ServeArgs, file: FileConfig, path: Option<PathBuf>) -> Result<Settings, ConfigError> {
    let p = &path;
    let secs = |s: u64| Duration::from_secs(s);
    let mut runtime = RuntimeSettings::default();
    if let Some(ms) = args.call_timeout_ms.or(file.limits.call_timeout_ms) {
        runtime.call_timeout = Duration::from_millis(in_range(p, "limits.call_timeout_ms", ms, 1, 24 * 3600 * 1000)?);
    }
    if let Some(mib) = args.memory_limit_mib.or(file.limits.memory_limit_mib) {
        runtime.memory_limit = (in_range(p, "limits.memory_limit_mib", mib, 1, MAX_MEMORY_MIB)? as usize) << 20;
    }
    if let Some(n) = args.max_concurrent_calls.or(file.limits.max_concurrent_calls) {
        runtime.max_concurrent_calls = in_range(p, "limits.max_concurrent_calls", n, 1, 1024)?;
    }
    if let Some(n) = file.limits.max_output_bytes {
        runtime.max_output_bytes = in_range(p, "limits.max_output_bytes", n, 1, 1 << 30)?;
    }
    let l = &file.limits;
    if let Some(ms) = l.describe_timeout_ms {
        runtime.describe_timeout = Duration::from_millis(in_range(p, "limits.describe_timeout_ms", ms, 1, 600_000)?);
    }
    if let Some(mib) = l.describe_memory_mib {
        runtime.describe_memory = (in_range(p, "limits.describe_memory_mib", mib, 1, MAX_MEMORY_MIB)? as usize) << 20;
    }
    if let Some(ms) = l.compile_timeout_ms {
        runtime.compile.timeout = Duration::from_millis(in_range(p, "limits.compile_timeout_ms", ms, 1, 3_600_000)?);
    }
    if let Some(mib) = l.compile_memory_mib {
        runtime.compile.memory = (in_range(p, "limits.compile_memory_mib", mib, 64, 1 << 20)? as usize) << 20;
    }
    if let Some(n) = l.max_core_instances_per_component {
        runtime.max_core_instances_per_component = in_range(p, "limits.max_core_instances_per_component", n, 1, 1000)?;
    }
    if let Some(mib) = l.max_component_mib {
        runtime.compile.max_component_bytes = (in_range(p, "limits.max_component_mib", mib, 1, 4096)? as usize) << 20;
    }
    runtime.cache_dir = if args.no_cache {
        None
    } else {
        args.cache_dir.clone().or(file.cache_dir).or_else(crate::runtime::cache::default_dir)
    };

    let mut server = ServerSettings::default();
    if let Some(n) = args.page_size.or(file.server.page_size) {
        server.page_size = in_range(p, "server.page_size", n, 1, 10_000)?;
    }
    if let Some(n) = args.max_line_bytes.or(file.server.max_line_bytes) {
        server.max_line_bytes = in_range(p, "server.max_line_bytes", n, 1024, 1 << 30)?;
    }
    if let Some(v) = args.validate_builtin_output.or(file.server.validate_builtin_output) {
        server.validate_builtin_output = v;
    }
    server.max_calls_per_tool = runtime.max_concurrent_calls.div_ceil(2).max(1);
    if let Some(n) = file.limits.max_concurrent_calls_per_tool {
        server.max_calls_per_tool = in_range(p, "limits.max_concurrent_calls_per_tool", n, 1, 1024)?;
    }
    server.max_calls_per_component = runtime.max_concurrent_calls.div_ceil(4).max(1);
    if let Some(n) = file.limits.max_concurrent_calls_per_component {
        server.max_calls_per_component = in_range(p, "limits.max_concurrent_calls_per_component", n, 1, 1024)?;
    }
    server.builtin_reserve = (runtime.max_concurrent_calls / 8).clamp(1, DEFAULT_BUILTIN_RESERVE);
    if let Some(n) = file.limits.builtin_reserve {
        server.builtin_reserve =
            in_range(p, "limits.builtin_reserve", n, 0, runtime.max_concurrent_calls.saturating_sub(1))?;
    }
    if let Some(ms) = file.server.discovery_wait_ms {
        server.discovery_wait = Duration::from_millis(in_range(p, "server.discovery_wait_ms", ms, 0, 600_000)?);
    }
    if let Some(source) = file.server.request_state_key {
        let key = secret_value(p, "server.request_state_key", source)?;
        let min = crate::mcp::request_state::MIN_KEY_BYTES;
        if key.expose().len() < min {
            return Err(invalid(p, "server.request_state_key", format!("the key must be at least {min} bytes")));
        }
        server.request_state_key = Some(key);
    }

    let h = file.http;
    let mut http = HttpSettings::default();
    if let Some(n) = h.max_idle_per_host {
        http.max_idle_per_host = in_range(p, "http.max_idle_per_host", n, 0, 1000)?;
    }
    if let Some(s) = h.idle_timeout_s {
        http.idle_timeout = secs(in_range(p, "http.idle_timeout_s", s, 1, 3600)?);
    }
    if let Some(n) = h.max_in_flight {
        http.max_in_flight = in_range(p, "http.max_in_flight", n, 1, 10_000)?;
    }
    if let Some(n) = h.max_response_bytes {
        http.max_response_bytes = in_range(p, "http.max_response_bytes", n, 1, 1 << 30)?;
    }
    if let Some(ms) = h.timeout_ms {
        http.timeout = Duration::from_millis(in_range(p, "http.timeout_ms", ms, 1, 3600 * 1000)?);
    }
    http.extra_root_certs = h.extra_root_certs.unwrap_or_default();

    let c = file.cache;
    let mut caches = CacheSettings::default();
    if let Some(s) = c.schema_ttl_s {
        caches.schema_ttl = secs(in_range(p, "cache.schema_ttl_s", s, 1, 86_400)?);
    }
    if let Some(s) = c.resource_ttl_s {
        caches.resource_ttl = secs(in_range(p, "cache.resource_ttl_s", s, 1, 86_400)?);
    }
    if let Some(s) = c.prompt_ttl_s {
        caches.prompt_ttl = secs(in_range(p, "cache.prompt_ttl_s", s, 1, 86_400)?);
    }
    if let Some(s) = c.guest_ttl_s {
        caches.guest_ttl = secs(in_range(p, "cache.guest_ttl_s", s, 1, 7 * 86_400)?);
    }
    if let Some(n) = c.guest_max_bytes {
        caches.guest_max_bytes = in_range(p, "cache.guest_max_bytes", n, 0, 1 << 34)?;
    }
    if let Some(n) = c.guest_max_bytes_per_component {
        caches.guest_max_bytes_per_component = in_range(p, "cache.guest_max_bytes_per_component", n, 0, 1 << 34)?;
    }
    if let Some(n) = c.guest_max_entry_bytes {
        caches.guest_max_entry_bytes = in_range(p, "cache.guest_max_entry_bytes", n, 1, 1 << 30)?;
    }

    let t = file.telemetry;
    let mut telemetry = TelemetrySettings::default();
    if let Some(enabled) = t.enabled {
        telemetry.enabled = enabled;
    }
    match args.telemetry.clone().or(t.path) {
        Some(path) if path.as_os_str() == "off" => telemetry.enabled = false,
        Some(path) => telemetry.path = path,
        None => {}
    }
    if let Some(n) = t.batch_size {
        telemetry.batch_size = in_range(p, "telemetry.batch_size", n, 1, 100_000)?;
    }
    if let Some(ms) = t.flush_interval_ms {
        telemetry.flush_interval = Duration::from_millis(in_range(p, "telemetry.flush_interval_ms", ms, 1, 3_600_000)?);
    }
    if let Some(n) = t.queue_capacity {
        telemetry.queue_capacity = in_range(p, "telemetry.queue_capacity", n, 1, 10_000_000)?;
    }

    let auth = auth_settings(file.auth, p)?;
    let mut tools = grants::builtin_policies(args, &file.roots, file.backend, file.github, p)?;
    for (name, section) in file.tools {
        let key = |k: &str| format!("tools.{name}.{k}");
        let policy = tools.entry(name.clone()).or_default();
        for (i, entry) in section.http_allow.iter().enumerate() {
            policy.http_allow.add(entry).map_err(|reason| invalid(p, format!("{}[{i}]", key("http_allow")), reason))?;
        }
        if let Some(ms) = section.call_timeout_ms {
            policy.call_timeout =
                Some(Duration::from_millis(in_range(p, &key("call_timeout_ms"), ms, 1, 24 * 3600 * 1000)?));
        }
        if let Some(mib) = section.memory_limit_mib {
            policy.memory_limit = Some((in_range(p, &key("memory_limit_mib"), mib, 1, MAX_MEMORY_MIB)? as usize) << 20);
        }
        if let Some(n) = section.max_concurrent_calls {
            policy.max_concurrent_calls = Some(in_range(p, &key("max_concurrent_calls"), n, 1, 1024)?);
        }
        if let Some(n) = section.max_output_bytes {
            policy.max_output_bytes = Some(in_range(p, &key("max_output_bytes"), n, 1, 1 << 30)?);
        }
        if let Some(reuse) = section.reuse_instance {
            policy.reuse_instance = reuse;
        }
        if let Some(mib) = section.storage_quota_mib {
            policy.storage_quota = in_range(p, &key("storage_quota_mib"), mib, 0, MAX_STORAGE_QUOTA_MIB)? << 20;
        }
        for (i, scheme) in section.link_schemes.into_iter().enumerate() {
            let ok = scheme.len() <= 32
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            if !ok {
                return Err(invalid(
                    p,
                    format!("{}[{i}]", key("link_schemes")),
                    format!("{scheme:?} is not a URI scheme"),
                ));
            }
            policy.link_schemes.push(scheme.to_ascii_lowercase());
        }
        policy.scopes.extend(section.scopes);
        if section.component.is_some() || section.sha256.is_some() {
            if policy.binding == Binding::Builtin {
                return Err(invalid(
                    p,
                    key("component"),
                    "this is a built-in tool; `component` and `sha256` pin extensions",
                ));
            }
            if let Some(digest) = &section.sha256
                && !(digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                return Err(invalid(p, key("sha256"), "must be 64 hex digits"));
            }
            policy.binding = Binding::Component { file: section.component, sha256: section.sha256 };
        }
        policy.config.extend(section.config);
        for (secret, source) in section.secrets {
            let value = secret_value(p, &format!("{}.{secret}", key("secrets")), source)?;
            policy.secrets.insert(secret, value);
        }
        for (root, path) in section.read_roots {
            let opened =
                Root::open(&path).map_err(|reason| invalid(p, format!("{}.{root}", key("read_roots")), reason))?;
            policy.roots.insert(root, opened);
        }
    }

    let worker_threads = match args.worker_threads.or(file.server.worker_threads) {
        Some(n) => in_range(p, "server.worker_threads", n, 1, 256)?,
        None => default_worker_threads(),
    };

    Ok(Settings {
        file: path.clone(),
        ultra: args.ultra || file.ultra.unwrap_or(false),
        watch: args.watch,
        worker_threads,
        tools_dirs: if args.tools_dirs.is_empty() {
            file.tools_dirs.unwrap_or_default()
        } else {
            args.tools_dirs.clone()
        },
        runtime,
        server,
        http,
        listen: listen_settings(args, auth)?,
        caches,
        telemetry,
        tools,
    })
}

/// The Streamable HTTP listener, if `--http` asks for one. A non-loopback address is refused
/// unless forced: no client authentication is configured, so anyone who can reach the port could
/// call every tool.
fn listen_settings(
    args: &ServeArgs,
    auth: Option<crate::mcp::http::auth::AuthSettings>,
) -> Result<Option<crate::mcp::http::HttpSettings>, ConfigError> {
    let Some(bind) = args.http else { return Ok(None) };
    if !bind.ip().is_loopback() && auth.is_none() && !args.http_allow_unauthenticated {
        return Err(invalid(
            &None,
            "--http",
            format!(
                "{bind} is not a loopback address and no client authentication is configured: anyone who \
                 can reach it could call every tool. Configure [auth] (docs/configuration.md), bind \
                 127.0.0.1 behind an authenticating proxy, or pass --http-allow-unauthenticated to \
                 serve it anyway"
            ),
        ));
    }
    let mut listen = crate::mcp::http::HttpSettings::new(bind);
    listen.auth = auth;
    listen.allowed_hosts.clone_from(&args.http_allowed_hosts);
    listen.allowed_origins.clone_from(&args.http_allowed_origins);
    listen.max_body_bytes = args.max_line_bytes.unwrap_or(listen.max_body_bytes);
    if let Some(n) = args.http_max_connections {
        listen.max_connections = n;
    }
    if let Some(ms) = args.http_grace_ms {
        listen.grace = Duration::from_millis(ms);
    }
    listen.tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(crate::mcp::http::TlsFiles { cert: cert.clone(), key: key.clone() }),
        (None, None) => None,
        _ => return Err(invalid(&None, "--tls-cert", "TLS needs both --tls-cert and --tls-key")),
    };
    Ok(Some(listen))
}

/// `[auth]`: `None` when it configures neither tokens nor an issuer.
fn auth_settings(
    section: super::file::AuthSection,
    p: &Option<PathBuf>,
) -> Result<Option<crate::mcp::http::auth::AuthSettings>, ConfigError> {
    use crate::mcp::http::auth::{self, AuthSettings, JwksSource, OAuthSettings, StaticToken};
    let mut tokens = Vec::new();
    for (i, entry) in section.tokens.into_iter().enumerate() {
        let key = format!("auth.tokens[{i}].token");
        let token = secret_value(p, &key, entry.token)?;
        if token.expose().len() < 16 {
            return Err(invalid(p, key, "a bearer token must be at least 16 characters"));
        }
        tokens.push(StaticToken { principal: entry.principal, token });
    }
    let oauth = match (section.issuer, section.resource, section.jwks_url, section.jwks_file) {
        (None, None, None, None) => None,
        (Some(issuer), Some(resource), url, file) => {
            let jwks = match (url, file) {
                (Some(url), None) if url.starts_with("https://") || url.starts_with("http://") => JwksSource::Url(url),
                (None, Some(file)) => JwksSource::File(file),
                _ => {
                    return Err(invalid(p, "auth.jwks_url", "give exactly one of jwks_url (http/https) and jwks_file"));
                }
            };
            Some(OAuthSettings { issuer, resource, jwks, required_scopes: section.scopes })
        }
        _ => return Err(invalid(p, "auth.issuer", "OAuth needs issuer, resource and jwks_url or jwks_file")),
    };
    if tokens.is_empty() && oauth.is_none() {
        return Ok(None);
    }
    Ok(Some(AuthSettings {
        tokens,
        oauth,
        max_in_flight_per_principal: match section.max_calls_in_flight_per_principal {
            Some(n) => in_range(p, "auth.max_calls_in_flight_per_principal", n, 1, 100_000)?,
            None => auth::DEFAULT_MAX_IN_FLIGHT_PER_PRINCIPAL,
        },
        calls_per_second_per_principal: match section.max_calls_per_second_per_principal {
            Some(n) => in_range(p, "auth.max_calls_per_second_per_principal", n, 1, 1_000_000)?,
            None => auth::DEFAULT_CALLS_PER_SECOND_PER_PRINCIPAL,
        },
    }))
}

/// One worker thread per core. With stdin and stdout polled on the runtime (pipes and sockets,
/// how IDEs start us) the server has no reader or writer threads of its own, and on the 2-core
/// reference machine two workers beat one at every load: health at 16 in flight 25k -> 36k
/// calls/s, p99 1.03 -> 0.73 ms; see `docs/design/0005-calls-on-every-core.md`.
pub fn default_worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

impl Settings {
    /// The largest memory limit any tool may have: the engine's hard cap.
    pub fn max_memory_limit(&self) -> usize {
        self.tools.values().filter_map(|t| t.memory_limit).fold(self.runtime.memory_limit, usize::max)
    }
}
