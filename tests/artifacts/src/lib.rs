//! Paths of the test-only tool components (`tests/guests`), built by this crate's build script
//! for `wasm32-wasip2`. For the integration tests and benchmarks; never part of the server.

include!(concat!(env!("OUT_DIR"), "/guests.rs"));
