//! `plain`: a test-only plain typed component. It exports ordinary typed functions (its world's
//! own and an interface's) instead of `ide-agents:tool/tools`, so tests can check each becomes a
//! tool with a schema derived from its WIT types: nested records, variants, enums, flags,
//! options, tuples, lists and results. It also carries a `package-docs` section (as a docs
//! injection step writes it) for two functions' descriptions, exports a resource (not served),
//! and a function whose result is too large to lift (bounded by the host's hostcall fuel).

wit_bindgen::generate!({
    inline: "
        package test:plain;

        interface geometry {
            record point { x: f64, y: f64 }
            record labelled { name: string, at: point, tags: list<string>, note: option<string> }
            variant shape { circle(f64), rect(tuple<point, point>), empty }
            enum unit { metric, imperial }
            flags style { bold, italic, underline }

            /// The area of a shape.
            area: func(shape: shape, unit: option<unit>) -> result<f64, string>;
            translate: func(points: list<labelled>, by: point) -> list<labelled>;
            describe: func(style: style, sizes: tuple<u8, s64>) -> string;

            resource counter {
                constructor();
                next: func() -> u32;
            }
        }

        world plain {
            export geometry;
            /// Greets `name`, `times` times.
            export greet: func(name: string, times: option<u8>) -> string;
            export check: func(ok: bool) -> result<_, string>;
            export huge: func(len: u32) -> list<u8>;
            export nothing: func();
        }
    ",
    world: "plain",
});

use exports::test::plain::geometry::{Guest as Geometry, GuestCounter, Labelled, Point, Shape, Style, Unit};

/// The docs a docs-injection step writes: a version byte, then wit-component's package metadata
/// (format 1 for the world's function, format 0 for the interface's).
#[unsafe(link_section = "package-docs")]
#[used]
static PACKAGE_DOCS: [u8; 127] =
    *b"\x01{\"worlds\":{\"plain\":{\"func_exports\":{\"greet\":{\"docs\":\"Greets `name`.\"}}}},\
\"interfaces\":{\"geometry\":{\"funcs\":{\"area\":\"Area.\"}}}}";

struct Plain;

impl Guest for Plain {
    fn greet(name: String, times: Option<u8>) -> String {
        vec![format!("hello {name}"); usize::from(times.unwrap_or(1))].join(", ")
    }

    fn check(ok: bool) -> Result<(), String> {
        if ok { Ok(()) } else { Err("not ok".into()) }
    }

    fn huge(len: u32) -> Vec<u8> {
        vec![7; len as usize]
    }

    fn nothing() {}
}

impl Geometry for Plain {
    type Counter = Counter;

    fn area(shape: Shape, unit: Option<Unit>) -> Result<f64, String> {
        let area = match shape {
            Shape::Circle(r) if r < 0.0 => return Err(format!("negative radius {r}")),
            Shape::Circle(r) => std::f64::consts::PI * r * r,
            Shape::Rect((a, b)) => ((b.x - a.x) * (b.y - a.y)).abs(),
            Shape::Empty => 0.0,
        };
        Ok(if unit == Some(Unit::Imperial) { area * 10.7639 } else { area })
    }

    fn translate(points: Vec<Labelled>, by: Point) -> Vec<Labelled> {
        points.into_iter().map(|p| Labelled { at: Point { x: p.at.x + by.x, y: p.at.y + by.y }, ..p }).collect()
    }

    fn describe(style: Style, sizes: (u8, i64)) -> String {
        format!("{style:?} {sizes:?}")
    }
}

struct Counter(std::cell::Cell<u32>);

impl GuestCounter for Counter {
    fn new() -> Self {
        Self(std::cell::Cell::new(0))
    }

    fn next(&self) -> u32 {
        self.0.set(self.0.get() + 1);
        self.0.get()
    }
}

export!(Plain);
