//! Integration tests: the real server binary over stdio, real components built from
//! `guest-tools/`, and the official Python and TypeScript MCP clients.
//!
//! One test binary with a module per area (see `support.rs` for the harness).

mod auth;
mod backend;
mod check;
mod command;
mod components;
mod conformance;
mod github;
mod golden;
mod hardening;
mod hostile;
mod http_server;
mod interop;
mod layering;
mod lazy;
mod metrics;
mod new_tool;
mod plain;
mod protocol;
mod rounds;
mod sandbox;
mod scale_out;
mod services;
mod streamable_http;
mod support;
mod ultra;
mod ultra_learn;
mod ultra_ops;
mod ultra_retrieval;
mod ultra_search;
mod ultra_text;
mod watch;
mod workspace;
