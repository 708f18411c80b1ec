//! Configuration: defaults (the seed report's values), an optional TOML file, environment
//! variables and command-line flags, in rising order of precedence, resolved once at startup into
//! [`Settings`]. Invalid configuration fails at startup naming the file, the key and the reason.
//!
//! The file is `--config FILE`, else `$IDE_AGENTS_MCP_CONFIG`, else
//! `$XDG_CONFIG_HOME/ide-agents-mcp/config.toml` (or `~/.config/...`) if it exists. See
//! `docs/configuration.md` for every key.
//!
//! The composition root: `serve` and `main` import it, no library module does. Its parts:
//! `cli.rs` (flags), `file.rs` (the file's schema), `resolve.rs` (precedence and checks),
//! `grants.rs` (what the built-in tools are granted, as a table).

use std::path::PathBuf;

use crate::host::Secret;

mod cli;
mod file;
mod grants;
mod resolve;

pub use cli::{CheckArgs, Cli, Command, CompileArgs, EmbedDocsArgs, ServeArgs, StatsArgs, WitArgs};
pub use file::{FileConfig, SecretSource, config_path, read_file};
pub use grants::DEFAULT_POLICY;
pub use resolve::{Settings, default_worker_threads, resolve};

/// Largest per-call memory limit, MiB.
const MAX_MEMORY_MIB: u64 = 4096;

/// Largest persistent-storage quota of one tool, MiB.
const MAX_STORAGE_QUOTA_MIB: u64 = 64 << 10;

/// A configuration error, naming where it is.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration file {file}: {source}")]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has an unknown key or a value of the wrong type.
    #[error("invalid configuration file {file}: {message}")]
    Parse {
        /// The file.
        file: PathBuf,
        /// The parser's message (it names the key and line).
        message: String,
    },
    /// A value is out of range or malformed.
    #[error("invalid configuration{}: `{key}`: {reason}", file.as_ref().map(|f| format!(" in {}", f.display())).unwrap_or_default())]
    Invalid {
        /// The file, if the value came from one.
        file: Option<PathBuf>,
        /// The key, dotted (`tools.github.http_allow[0]`).
        key: String,
        /// Why.
        reason: String,
    },
}

/// A [`ConfigError::Invalid`] for `key`.
pub(crate) fn invalid(file: &Option<PathBuf>, key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { file: file.clone(), key: key.into(), reason: reason.into() }
}

/// A secret's value: inline, or read from the environment variable it names.
pub(crate) fn secret_value(file: &Option<PathBuf>, key: &str, source: SecretSource) -> Result<Secret, ConfigError> {
    match source {
        SecretSource::Value(v) => Ok(Secret::new(v)),
        SecretSource::Env { env } => std::env::var(&env)
            .map(Secret::new)
            .map_err(|_| invalid(file, key, format!("environment variable {env} is not set"))),
        SecretSource::File { file: path } => std::fs::read_to_string(&path)
            .map(|s| Secret::new(s.trim().to_owned()))
            .map_err(|e| invalid(file, key, format!("cannot read {}: {e}", path.display()))),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::*;
    use crate::runtime::limits;

    fn parse(toml_text: &str) -> Result<Settings, ConfigError> {
        let file: FileConfig = toml::from_str(toml_text)
            .map_err(|e| ConfigError::Parse { file: "test.toml".into(), message: e.to_string() })?;
        resolve(&ServeArgs::default(), file, Some("test.toml".into()))
    }

    #[test]
    fn defaults_are_the_seed_values() {
        let s = parse("").unwrap();
        assert_eq!(s.caches.schema_ttl, Duration::from_secs(300));
        assert_eq!(s.caches.resource_ttl, Duration::from_secs(60));
        assert_eq!(s.http.max_idle_per_host, 20);
        assert_eq!(s.http.idle_timeout, Duration::from_secs(30));
        assert_eq!(s.http.max_in_flight, 50);
        assert_eq!(s.telemetry.batch_size, 100);
        assert_eq!(s.telemetry.flush_interval, Duration::from_secs(10));
        assert!(s.telemetry.path.ends_with("ide-agents-mcp/mcp_tool_spans.jsonl"), "{:?}", s.telemetry.path);
        assert!(!s.ultra);
        assert_eq!(s.runtime.call_timeout, limits::DEFAULT_CALL_TIMEOUT);
        // The test suite runs debug builds: built-in output is schema-checked in every test.
        assert_eq!(s.server.validate_builtin_output, cfg!(debug_assertions));
    }

    #[test]
    fn built_in_output_checking_can_be_set_either_way() {
        assert!(parse("[server]\nvalidate_builtin_output = true").unwrap().server.validate_builtin_output);
        let file: FileConfig = toml::from_str("[server]\nvalidate_builtin_output = true").unwrap();
        let args = ServeArgs { validate_builtin_output: Some(false), ..ServeArgs::default() };
        assert!(!resolve(&args, file, None).unwrap().server.validate_builtin_output);
        let cli = Cli::try_parse_from(["ide-agents-mcp", "serve", "--validate-builtin-output", "false"]).unwrap();
        let Some(Command::Serve(serve)) = cli.command else { panic!("not serve") };
        assert_eq!(serve.validate_builtin_output, Some(false));
    }

    #[test]
    fn errors_name_the_key() {
        let e = parse("[http]\nmax_idle_per_hots = 3").unwrap_err().to_string();
        assert!(e.contains("max_idle_per_hots") && e.contains("test.toml"), "{e}");
        let e = parse("[telemetry]\nbatch_size = 0").unwrap_err().to_string();
        assert!(e.contains("`telemetry.batch_size`") && e.contains("outside"), "{e}");
        let e = parse("[tools.gh]\nhttp_allow = [\"ftp://x\"]").unwrap_err().to_string();
        assert!(e.contains("`tools.gh.http_allow[0]`"), "{e}");
        let e = parse("[tools.gh.secrets]\ntoken = { env = \"IDE_AGENTS_SURELY_UNSET_VAR\" }").unwrap_err().to_string();
        assert!(e.contains("`tools.gh.secrets.token`") && e.contains("IDE_AGENTS_SURELY_UNSET_VAR"), "{e}");
        let e = parse("ultra = \"yes\"").unwrap_err().to_string();
        assert!(e.contains("ultra"), "{e}");
    }

    #[test]
    fn flags_override_the_file_and_secrets_stay_hidden() {
        let file: FileConfig = toml::from_str(
            "[limits]\ncall_timeout_ms = 100\nmemory_limit_mib = 8\n[tools.gh]\nmemory_limit_mib = 512\n\
             [tools.gh.secrets]\ntoken = \"hunter2\"",
        )
        .unwrap();
        let args = ServeArgs { call_timeout_ms: Some(200), ..ServeArgs::default() };
        let s = resolve(&args, file, None).unwrap();
        assert_eq!(s.runtime.call_timeout, Duration::from_millis(200));
        assert_eq!(s.runtime.memory_limit, 8 << 20);
        assert_eq!(s.max_memory_limit(), 512 << 20);
        let gh = &s.tools["gh"];
        assert_eq!(gh.secrets["token"].expose(), "hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn built_in_tools_get_their_grants_and_sections_override() {
        let dir = tempfile::tempdir().unwrap();
        let s = parse("").unwrap();
        let github = &s.tools["ide_agents_github_get_issue"];
        let api: url::Url = "https://api.github.com/repos/a/b".parse().unwrap();
        assert!(github.http_allow.check(&api).is_some(), "api.github.com is allowed by default");
        assert_eq!(github.config["base_url"], "https://api.github.com");
        assert!(!s.tools.contains_key("ide_agents_command"), "no backend, no grant");
        assert!(s.tools.values().all(|p| p.roots.is_empty()), "no roots by default");

        let s = parse(&format!(
            "[roots]\nworkspace = {:?}\n[backend]\nbase_url = \"http://127.0.0.1:8765/\"\ntoken = \"t0k\"\n\
             [tools.ide_agents_command]\ncall_timeout_ms = 5\nconfig = {{ extra = \"1\" }}",
            dir.path()
        ))
        .unwrap();
        let command = &s.tools["ide_agents_command"];
        let local: url::Url = "http://127.0.0.1:8765/v1/runs".parse().unwrap();
        assert!(command.http_allow.check(&local).is_some());
        assert_eq!(command.config["backend_base_url"], "http://127.0.0.1:8765");
        assert_eq!((command.config["extra"].as_str(), command.secrets["token"].expose()), ("1", "t0k"));
        assert_eq!(command.call_timeout, Some(Duration::from_millis(5)));
        for tool in DEFAULT_POLICY.root_tools {
            assert_eq!(s.tools[*tool].roots["workspace"].path(), dir.path());
        }
        let e = parse("[roots]\nkb = \"/nonexistent/notes\"").unwrap_err().to_string();
        assert!(e.contains("`roots.kb`") && e.contains("/nonexistent/notes"), "{e}");
        let e = parse("[backend]\nbase_url = \"ftp://x\"").unwrap_err().to_string();
        assert!(e.contains("`backend.base_url`"), "{e}");
        let e = parse("[tools.x.read_roots]\ndocs = \"/nonexistent\"").unwrap_err().to_string();
        assert!(e.contains("`tools.x.read_roots.docs`"), "{e}");
    }

    #[test]
    fn cli_parses() {
        assert!(Cli::try_parse_from(["ide-agents-mcp", "serve", "--call-timeout-ms", "0"]).is_err());
        let cli = Cli::try_parse_from(["ide-agents-mcp", "serve", "--tools-dir", "/a", "--tools-dir", "/b"]).unwrap();
        let Some(Command::Serve(args)) = cli.command else { panic!() };
        assert_eq!(args.tools_dirs.len(), 2);
        let cli = Cli::try_parse_from(["ide-agents-mcp", "stats", "f.jsonl", "--json"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Stats(StatsArgs { json: true, .. }))));
    }
}
