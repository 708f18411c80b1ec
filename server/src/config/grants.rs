//! The grants the built-in tools get by default: persistent storage for those that keep an index,
//! and what the shared sections (`[roots]`, `[backend]`,
//! `[github]` and their flags), as data: [`DEFAULT_POLICY`] says which tools each section is
//! granted to and under which keys; [`builtin_policies`] applies it, bound to built-in components
//! only. `[tools.<name>]` sections apply on top.

use std::collections::HashMap;
use std::path::PathBuf;

use super::file::{RootsSection, ServiceSection};
use super::{ConfigError, ServeArgs, invalid, secret_value};
use crate::host::policy::Binding;
use crate::host::workspace::Root;
use crate::host::{Secret, ToolPolicy};

/// What the shared sections grant, and to which tools.
#[derive(Debug)]
pub struct DefaultPolicy {
    /// Tools granted every `[roots]` directory, under its root name.
    pub root_tools: &'static [&'static str],
    /// Tools granted persistent storage, with their quota in bytes.
    pub storage: &'static [(&'static str, u64)],
    /// The service sections.
    pub services: &'static [ServiceGrant],
}

/// One service section (`[backend]`, `[github]`): its origin joins the tools' HTTP allow-list,
/// its URL becomes a configuration value and its token the `token` secret.
#[derive(Debug)]
pub struct ServiceGrant {
    /// The section's name, as in the file.
    pub section: &'static str,
    /// The tools it is granted to.
    pub tools: &'static [&'static str],
    /// The `config.get` key the base URL is given under.
    pub url_key: &'static str,
    /// The base URL when the section gives none (`None`: no grant without one).
    pub default_url: Option<&'static str>,
    /// The environment variable the token is read from when the section gives none.
    pub token_env: Option<&'static str>,
}

/// The built-in tools' grants.
pub static DEFAULT_POLICY: DefaultPolicy = DefaultPolicy {
    root_tools: &[
        "ide_agents_resource",
        "ide_agents_prompt",
        "ide_agents_ultra_rank",
        "ide_agents_ultra_search",
        "ide_agents_ultra_duplicates",
        "ide_agents_ultra_test_select",
        "ide_agents_ultra_context_pack",
        "ide_agents_ultra_keywords",
        "ide_agents_ultra_summarize",
        "ide_agents_ultra_log_patterns",
    ],
    // The search index of a 10,000-file workspace takes tens of MiB.
    storage: &[("ide_agents_ultra_search", 256 << 20)],
    services: &[
        ServiceGrant {
            section: "backend",
            tools: &["ide_agents_command"],
            url_key: "backend_base_url",
            default_url: None,
            token_env: None,
        },
        ServiceGrant {
            section: "github",
            tools: &[
                "ide_agents_github_get_issue",
                "ide_agents_github_list_pulls",
                "ide_agents_github_get_pull",
                "ide_agents_github_get_pull_diff",
                "ide_agents_github_search_code",
                "ide_agents_github_comment_issue",
            ],
            url_key: "base_url",
            default_url: Some("https://api.github.com"),
            token_env: Some("GITHUB_TOKEN"),
        },
    ],
};

impl DefaultPolicy {
    /// Whether the table grants anything to `tool`.
    pub fn names(&self, tool: &str) -> bool {
        self.root_tools.contains(&tool)
            || self.storage.iter().any(|(t, _)| *t == tool)
            || self.services.iter().any(|s| s.tools.contains(&tool))
    }
}

/// The policies of the built-in tools, from `[roots]`, `[backend]` and `[github]` (and their
/// flags), as [`DEFAULT_POLICY`] grants them.
pub(super) fn builtin_policies(
    args: &ServeArgs,
    roots: &RootsSection,
    backend: ServiceSection,
    github: ServiceSection,
    p: &Option<PathBuf>,
) -> Result<HashMap<String, ToolPolicy>, ConfigError> {
    let mut tools: HashMap<String, ToolPolicy> = HashMap::new();
    let workspace = args.workspace.as_ref().or(roots.workspace.as_ref());
    for (name, path) in [("workspace", workspace), ("kb", roots.kb.as_ref()), ("logs", roots.logs.as_ref())] {
        let Some(path) = path else { continue };
        let root = Root::open(path).map_err(|reason| invalid(p, format!("roots.{name}"), reason))?;
        for tool in DEFAULT_POLICY.root_tools {
            builtin_entry(&mut tools, tool).roots.insert(name.to_owned(), root.clone());
        }
    }
    for (tool, quota) in DEFAULT_POLICY.storage {
        builtin_entry(&mut tools, tool).storage_quota = *quota;
    }
    let mut sections = [("backend", backend), ("github", github)];
    // The backend URL also comes from `--backend-url`.
    if let Some(url) = &args.backend_url {
        sections[0].1.base_url = Some(url.clone());
    }
    for (name, section) in sections {
        let grant = DEFAULT_POLICY.services.iter().find(|s| s.section == name).expect("every section has a grant");
        let Some(url) = section.base_url.or_else(|| grant.default_url.map(str::to_owned)) else { continue };
        let token = match section.token.map(|s| secret_value(p, &format!("{name}.token"), s)).transpose()? {
            Some(token) => Some(token),
            None => grant.token_env.and_then(|var| std::env::var(var).ok()).filter(|t| !t.is_empty()).map(Secret::new),
        };
        grant_service(&mut tools, grant, &url, token.as_ref(), p)?;
    }
    Ok(tools)
}

/// The policy of the built-in tool `tool`: only a built-in component gets it.
fn builtin_entry<'a>(tools: &'a mut HashMap<String, ToolPolicy>, tool: &str) -> &'a mut ToolPolicy {
    let policy = tools.entry(tool.to_owned()).or_default();
    policy.binding = Binding::Builtin;
    policy
}

/// Grants `url`'s origin, the URL and the token to `grant`'s tools.
fn grant_service(
    tools: &mut HashMap<String, ToolPolicy>,
    grant: &ServiceGrant,
    url: &str,
    token: Option<&Secret>,
    p: &Option<PathBuf>,
) -> Result<(), ConfigError> {
    let key = format!("{}.base_url", grant.section);
    let origin = url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .map(|u| u.origin().ascii_serialization())
        .ok_or_else(|| invalid(p, &key, format!("{url:?} is not an http(s) URL")))?;
    for tool in grant.tools {
        let policy = builtin_entry(tools, tool);
        policy.http_allow.add(&origin).map_err(|reason| invalid(p, &key, reason))?;
        policy.config.insert(grant.url_key.to_owned(), url.trim_end_matches('/').to_owned());
        if let Some(token) = token {
            policy.secrets.insert("token".to_owned(), token.clone());
        }
    }
    Ok(())
}
