//! Runtime and protocol micro benchmarks for `micro` (included as a module): JSON-RPC parse and
//! dispatch; descriptor cache hit vs miss; component load from the AOT cache vs compile;
//! instantiate with the pooling allocator vs on demand; a guest call in a fresh vs a reused
//! instance; parallel vs sequential tool calls.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ide_agents_mcp::bindings::ToolPre;
use ide_agents_mcp::caches::{CacheSettings, GuestCache, HostCaches};
use ide_agents_mcp::host::http::{HttpClient, HttpSettings};
use ide_agents_mcp::host::{CallEnv, Detached, HostServices, HostState, ToolPolicy};
use ide_agents_mcp::mcp::dispatch::{Action, Era};
use ide_agents_mcp::mcp::request::parse_call_params;
use ide_agents_mcp::mcp::session::Peer;
use ide_agents_mcp::mcp::{McpServer, ServerParts, ServerSettings, jsonrpc};
use ide_agents_mcp::runtime::linked::ToolLinked;
use ide_agents_mcp::runtime::registry::{Component, ComponentSource};
use ide_agents_mcp::runtime::{Runtime, RuntimeSettings, engine};
use ide_agents_mcp::telemetry::{Telemetry, TelemetrySettings};
use serde_json::{Value, json};
use wasmtime::Store;

use super::{median, per_iter_ns};

fn services() -> Arc<HostServices> {
    Arc::new(HostServices {
        http: HttpClient::new(HttpSettings::default(), Default::default()).unwrap(),
        guest_cache: GuestCache::new(1 << 20, 1 << 20, 1 << 16, Duration::from_secs(60)),
        storage: ide_agents_mcp::host::storage::Storage::default(),
    })
}

fn runtime(cache_dir: Option<&Path>) -> Runtime {
    let settings = RuntimeSettings { cache_dir: cache_dir.map(Path::to_path_buf), ..RuntimeSettings::default() };
    Runtime::new(settings, services()).unwrap()
}

fn health() -> ComponentSource {
    ComponentSource::Builtin(builtin("health"))
}

fn builtin(name: &str) -> &'static ide_agents_mcp::builtins::Builtin {
    ide_agents_mcp::builtins::BUILTIN_COMPONENTS.iter().find(|b| b.name == name).unwrap()
}

/// One small call per ULTRA component, for the cost of a fresh instance of each: (component,
/// tool, arguments). `ultra_search` is measured by instantiation alone (its calls need a workspace).
const ULTRA_CALLS: &[(&str, &str, &str)] = &[
    ("ultra", "ide_agents_ultra_rank", r#"{"query":"cache","candidates":["cache pool","http pool"]}"#),
    ("ultra_text", "ide_agents_ultra_keywords", r#"{"texts":["the cache pool evicts","the http pool retries"]}"#),
    ("ultra_learn", "ide_agents_ultra_evaluate", r#"{"labels":[0,1,1,0],"predictions":[0,1,0,0]}"#),
    ("ultra_ops", "ide_agents_ultra_anomalies", r#"{"series":[1,2,3,2,1,40,2,3]}"#),
    ("ultra_search", "", ""),
];

/// A call's environment as the server builds it: the tool's names, its policy and the services
/// are shared (cloned `Arc`s); the hooks are made per call.
fn env() -> CallEnv {
    static TEMPLATE: std::sync::OnceLock<CallEnv> = std::sync::OnceLock::new();
    let template = TEMPLATE.get_or_init(|| CallEnv {
        tool: "ide_agents_health".into(),
        component: "builtin:health".into(),
        progress_token: None,
        hooks: Arc::new(Detached),
        services: services(),
        policy: Arc::new(ToolPolicy::default()),
    });
    CallEnv { hooks: Arc::new(Detached), ..template.clone() }
}

/// A store ready to run: no deadline reached in a benchmark.
fn store(engine: &wasmtime::Engine) -> Store<HostState> {
    let mut store = Store::new(engine, HostState::new(env(), 64 << 20));
    store.limiter(|s| &mut s.limiter);
    store.set_epoch_deadline(u64::MAX / 2);
    store
}

fn pre_of(engine: &wasmtime::Engine, name: &str) -> ToolLinked {
    pre_from(engine, builtin(name).bytes)
}

/// `bytes` linked as the server links a component of the world (`runtime::linked`).
fn pre_from(engine: &wasmtime::Engine, bytes: &[u8]) -> ToolLinked {
    let component = wasmtime::component::Component::new(engine, bytes).unwrap();
    let linker = ide_agents_mcp::host::linker(engine).unwrap();
    ToolLinked::new(ToolPre::new(linker.instantiate_pre(&component).unwrap()).unwrap()).unwrap()
}

/// The server without its transport: what `tools/call` runs after the line is read.
fn server(rt: &tokio::runtime::Runtime, cache: &Path, guests: Option<&Path>) -> Arc<McpServer> {
    let runtime = runtime(Some(cache));
    let mut sources = vec![health()];
    if let Some(dir) = guests {
        sources.push(ComponentSource::File(dir.join("echo.wasm")));
    }
    let registry = rt.block_on(runtime.discover(sources));
    let parts = ServerParts {
        settings: ServerSettings::default(),
        policies: Default::default(),
        telemetry: Arc::new(Telemetry::start(&TelemetrySettings { enabled: false, ..TelemetrySettings::default() })),
        caches: HostCaches::new(&CacheSettings::default()),
        ultra: false,
    };
    Arc::new(McpServer::new(runtime, registry, parts))
}

/// Runs every runtime benchmark; `scale` divides iteration counts (`--quick`); `health_wasm`, if
/// given, replaces the embedded health component in the instantiation and guest-call rows.
pub fn run(rt: &tokio::runtime::Runtime, guests: Option<&Path>, health_wasm: Option<&Path>, scale: usize) -> Value {
    let health_bytes = match health_wasm {
        Some(path) => std::fs::read(path).unwrap_or_else(|e| panic!("--health-wasm {}: {e}", path.display())),
        None => builtin("health").bytes.to_vec(),
    };
    let pre = |engine: &wasmtime::Engine| pre_from(engine, &health_bytes);
    let dir = tempfile::tempdir().unwrap();
    let mut results = serde_json::Map::new();

    // JSON-RPC: parse a tools/call line and prepare the call (params, tool lookup); and a ping.
    let server = server(rt, dir.path(), guests);
    let call_line =
        br#"{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"ide_agents_health","arguments":{}}}"#;
    let ping_line = br#"{"jsonrpc":"2.0","id":43,"method":"ping"}"#;
    let n = 200_000 / scale;
    let call_ns = per_iter_ns(n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            let jsonrpc::Incoming::Request { params, .. } = jsonrpc::parse(call_line) else { panic!() };
            std::hint::black_box(parse_call_params(params).ok().and_then(|c| server.prepare_call(c, None).ok()));
        }
        t.elapsed()
    });
    let (ping_out, _ping_sink) = ide_agents_mcp::mcp::outbox::outbox(1, 1 << 20);
    let ping_peer = Peer::new(ping_out);
    let ping_ns = per_iter_ns(n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            let Action::Answer(line) = server.dispatch(jsonrpc::parse(ping_line), &ping_peer, Era::Detect) else {
                panic!()
            };
            std::hint::black_box(line);
        }
        t.elapsed()
    });
    results.insert(
        "jsonrpc".into(),
        json!({"tools_call_parse_and_prepare_ns": call_ns, "ping_parse_answer_serialise_ns": ping_ns}),
    );

    // Descriptor cache: discovery of one component with a warm cache vs compile + describe. The
    // component is a file, as a user's tool is: the built-ins' descriptors are embedded in the
    // binary, so discovering a built-in never compiles.
    let health_file = dir.path().join("health.wasm");
    std::fs::write(&health_file, builtin("health").bytes).unwrap();
    let health_on_disk = || vec![ComponentSource::File(health_file.clone())];
    let warm = runtime(Some(dir.path()));
    rt.block_on(warm.discover(health_on_disk()));
    let cold = runtime(None);
    let hit_ns = per_iter_ns(200 / scale.min(10), |n| {
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(rt.block_on(warm.discover(health_on_disk())));
        }
        t.elapsed()
    });
    let miss_ns = per_iter_ns(3, |n| {
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(rt.block_on(cold.discover(health_on_disk())));
        }
        t.elapsed()
    });
    results.insert(
        "descriptor_cache".into(),
        json!({"hit_us": hit_ns / 1e3, "miss_compile_and_describe_us": miss_ns / 1e3, "speedup": miss_ns / hit_ns}),
    );

    // Component load: from the AOT cache (read, check, deserialize, link) vs compile.
    let sha = match health() {
        ComponentSource::Builtin(b) => b.sha256.to_owned(),
        ComponentSource::File(_) => unreachable!(),
    };
    let aot_ns = per_iter_ns(200 / scale.min(10), |n| {
        let t = Instant::now();
        for _ in 0..n {
            let component = Component::new(health(), sha.clone());
            std::hint::black_box(rt.block_on(warm.load(&component)).unwrap());
        }
        t.elapsed()
    });
    let compile_ns = per_iter_ns(3, |n| {
        let t = Instant::now();
        for _ in 0..n {
            let component = Component::new(health(), sha.clone());
            std::hint::black_box(rt.block_on(cold.load(&component)).unwrap());
        }
        t.elapsed()
    });
    results.insert(
        "component_load".into(),
        json!({"aot_us": aot_ns / 1e3, "compile_us": compile_ns / 1e3, "speedup": compile_ns / aot_ns}),
    );

    // Instantiate (and drop) with the pooling allocator vs on-demand allocation; then a call in a
    // fresh instance vs in one reused instance.
    let pooling = engine::build(engine::EngineSettings {
        max_concurrent_calls: 64,
        max_memory: 256 << 20,
        idle_instances: 0,
        max_core_instances_per_component: ide_agents_mcp::runtime::limits::DEFAULT_MAX_CORE_INSTANCES_PER_COMPONENT,
    })
    .unwrap();
    let mut config = wasmtime::Config::new();
    config.epoch_interruption(true).concurrency_support(false);
    let on_demand = wasmtime::Engine::new(&config).unwrap();
    let n = 20_000 / scale;
    let instantiate = |engine: &wasmtime::Engine| {
        let pre = pre(engine);
        per_iter_ns(n, |n| {
            rt.block_on(async {
                let t = Instant::now();
                for _ in 0..n {
                    let mut store = store(engine);
                    std::hint::black_box(pre.instantiate(&mut store).await.unwrap());
                }
                t.elapsed()
            })
        })
    };
    let pooled_ns = instantiate(&pooling);
    let on_demand_ns = instantiate(&on_demand);
    results.insert(
        "instantiate".into(),
        json!({"pooling_us": pooled_ns / 1e3, "on_demand_us": on_demand_ns / 1e3, "speedup": on_demand_ns / pooled_ns}),
    );

    let pre_pooled = pre(&pooling);
    let fresh_ns = per_iter_ns(n, |n| {
        rt.block_on(async {
            let t = Instant::now();
            for _ in 0..n {
                let mut store = store(&pooling);
                let instance = pre_pooled.instantiate(&mut store).await.unwrap();
                let r = pre_pooled.call(&mut store, instance, "ide_agents_health", "{}").await.unwrap();
                std::hint::black_box(r.unwrap());
            }
            t.elapsed()
        })
    });
    let reused_ns = rt.block_on(async {
        let mut store = store(&pooling);
        // A reused instance keeps the typed bindings, as the server does.
        let tool = pre_pooled.pre.instantiate_async(&mut store).await.unwrap();
        let mut rounds = Vec::new();
        for _ in 0..7 {
            let t = Instant::now();
            for _ in 0..n {
                let r = tool.ide_agents_tool_tools().call_call(&mut store, "ide_agents_health", "{}").await.unwrap();
                std::hint::black_box(r.unwrap());
            }
            rounds.push(t.elapsed().as_nanos() as f64 / n as f64);
        }
        median(rounds)
    });
    results.insert("guest_call".into(), json!({"fresh_instance_us": fresh_ns / 1e3, "reused_instance_us": reused_ns / 1e3, "speedup": fresh_ns / reused_ns}));

    // Each ULTRA component: instantiate + drop, and a fresh instance plus one small call.
    let mut ultra = serde_json::Map::new();
    for (name, tool, args) in ULTRA_CALLS {
        let pre = pre_of(&pooling, name);
        let n = 2_000 / scale;
        let instantiate_ns = per_iter_ns(n, |n| {
            rt.block_on(async {
                let t = Instant::now();
                for _ in 0..n {
                    let mut store = store(&pooling);
                    std::hint::black_box(pre.instantiate(&mut store).await.unwrap());
                }
                t.elapsed()
            })
        });
        let call_ns = (!tool.is_empty()).then(|| {
            per_iter_ns(n, |n| {
                rt.block_on(async {
                    let t = Instant::now();
                    for _ in 0..n {
                        let mut store = store(&pooling);
                        let instance = pre.instantiate(&mut store).await.unwrap();
                        let r = pre.call(&mut store, instance, tool, args).await.unwrap();
                        assert!(r.is_ok_and(|r| !r.is_error), "{tool} {args}");
                    }
                    t.elapsed()
                })
            })
        });
        ultra.insert(
            (*name).into(),
            json!({"bytes": builtin(name).bytes.len(), "instantiate_us": instantiate_ns / 1e3,
                   "fresh_instance_call_us": call_ns.map(|ns| ns / 1e3), "tool": tool}),
        );
    }
    results.insert("ultra_components".into(), Value::Object(ultra));

    // Parallel vs sequential calls through the server (no transport): 16 calls of a tool that
    // waits 5 ms (I/O-bound, `echo` with `delay_ms`), and 16 of health (CPU-bound, 2 cores here).
    if guests.is_some() {
        let (out, mut sink) = ide_agents_mcp::mcp::outbox::outbox(1024, 8 << 20);
        let out = Peer::new(out);
        rt.spawn(async move {
            let mut lines = Vec::new();
            while sink.recv_many(&mut lines, 64).await > 0 {
                lines.clear();
            }
        });
        let calls = |params: Value, parallel: bool| -> Duration {
            let server = server.clone();
            let out = out.clone();
            rt.block_on(async move {
                let raw = serde_json::value::to_raw_value(&params).unwrap();
                let t = Instant::now();
                if parallel {
                    let tasks: Vec<_> = (0..16)
                        .map(|_| {
                            let (server, out) = (server.clone(), out.clone());
                            let call = server.prepare_call(parse_call_params(Some(&raw)).unwrap(), None).unwrap();
                            tokio::spawn(async move { server.run_call(call, out).await })
                        })
                        .collect();
                    for task in tasks {
                        assert!(!task.await.unwrap().is_error());
                    }
                } else {
                    for _ in 0..16 {
                        let call = server.prepare_call(parse_call_params(Some(&raw)).unwrap(), None).unwrap();
                        assert!(!server.run_call(call, out.clone()).await.is_error());
                    }
                }
                t.elapsed()
            })
        };
        let io = json!({"name": "echo", "arguments": {"message": "x", "delay_ms": 5}});
        let cpu = json!({"name": "ide_agents_health", "arguments": {}});
        let med = |params: &Value, parallel: bool| {
            median((0..5).map(|_| calls(params.clone(), parallel).as_secs_f64() * 1e3).collect())
        };
        let (io_seq, io_par) = (med(&io, false), med(&io, true));
        let (cpu_seq, cpu_par) = (med(&cpu, false), med(&cpu, true));
        results.insert(
            "parallel_calls".into(),
            json!({"io_bound_sequential_ms": io_seq, "io_bound_parallel_ms": io_par, "io_speedup": io_seq / io_par,
                   "cpu_bound_sequential_ms": cpu_seq, "cpu_bound_parallel_ms": cpu_par, "cpu_speedup": cpu_seq / cpu_par}),
        );
    }
    Value::Object(results)
}
