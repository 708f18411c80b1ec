//! `otherworld`: a test-only component that targets a different world (it imports an interface
//! the server does not provide), so tests can check it is reported and skipped at load.

wit_bindgen::generate!({
    inline: "
        package test:otherworld;
        interface clock { now: func() -> u64; }
        world other { import clock; export run: func() -> u64; }
    ",
    world: "other",
});

struct Other;

impl Guest for Other {
    fn run() -> u64 {
        test::otherworld::clock::now()
    }
}

export!(Other);
