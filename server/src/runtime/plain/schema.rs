//! WIT types as JSON Schema, and as WIT text for descriptions. One JSON form per type, the same
//! one `values.rs` reads and writes:
//!
//! | WIT | JSON |
//! | --- | --- |
//! | `bool`, `string`, `char` | boolean, string, a one-character string |
//! | integers, `f32`, `f64` | integer (within the type's range), number |
//! | `list<T>`, `tuple<..>`, fixed-length list | array |
//! | `record` | object, one property per field (an `option` field may be left out) |
//! | `variant` | `"case"` for a case without payload, `{"case": payload}` for one with |
//! | `enum` | the case name |
//! | `option<T>` | `null` or T |
//! | `result<T, E>` | `{"ok": T}` or `{"err": E}` (`null` for a missing payload) |
//! | `flags` | an array of the names that are set |
//! | `map<K, V>` | an object for string keys, else an array of `[key, value]` pairs |
//!
//! Resources, futures, streams and error contexts have no JSON form: a function that uses them is
//! not served. Host work for a component's types stays bounded whatever it declares: types nest
//! at most [`MAX_DEPTH`] deep, each schema node spends one unit of a budget the caller gives (a
//! type used many times, as a DAG can, is expanded each time and paid each time), and WIT text
//! stops at [`MAX_WIT_CHARS`].

use serde_json::{Map, Value, json};
use wasmtime::component::Type;

/// Deepest type nesting served.
pub const MAX_DEPTH: usize = 32;
/// Longest WIT text of one type, characters (then `…`).
pub const MAX_WIT_CHARS: usize = 1024;

/// The JSON Schema of `ty`, spending one unit of `budget` per node; `Err` names what has no JSON
/// form, or says the budget ran out.
pub fn of(ty: &Type, budget: &mut usize) -> Result<Value, String> {
    schema(ty, 0, budget)
}

fn schema(ty: &Type, depth: usize, budget: &mut usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!("its types nest deeper than {MAX_DEPTH} levels"));
    }
    *budget = budget.checked_sub(1).ok_or("its types are too large to describe")?;
    let mut inner = |ty: &Type| schema(ty, depth + 1, budget);
    Ok(match ty {
        Type::Bool => json!({"type": "boolean"}),
        Type::S8 => integer(i8::MIN, i8::MAX),
        Type::U8 => integer(u8::MIN, u8::MAX),
        Type::S16 => integer(i16::MIN, i16::MAX),
        Type::U16 => integer(u16::MIN, u16::MAX),
        Type::S32 => integer(i32::MIN, i32::MAX),
        Type::U32 => integer(u32::MIN, u32::MAX),
        Type::S64 => integer(i64::MIN, i64::MAX),
        Type::U64 => integer(u64::MIN, u64::MAX),
        Type::Float32 | Type::Float64 => json!({"type": "number"}),
        Type::Char => json!({"type": "string", "minLength": 1, "maxLength": 1}),
        Type::String => json!({"type": "string"}),
        Type::List(list) => object([("type", json!("array")), ("items", inner(&list.ty())?)]),
        Type::FixedLengthList(list) => object([
            ("type", json!("array")),
            ("items", inner(&list.ty())?),
            ("minItems", json!(list.len())),
            ("maxItems", json!(list.len())),
        ]),
        Type::Map(map) => match map.key() {
            Type::String => object([("type", json!("object")), ("additionalProperties", inner(&map.value())?)]),
            key => object([("type", json!("array")), ("items", pair(inner(&key)?, inner(&map.value())?))]),
        },
        Type::Record(record) => {
            let mut properties = Map::new();
            let mut required = Vec::new();
            for field in record.fields() {
                if !matches!(field.ty, Type::Option(_)) {
                    required.push(json!(field.name));
                }
                properties.insert(field.name.to_owned(), inner(&field.ty)?);
            }
            object([
                ("type", json!("object")),
                ("properties", Value::Object(properties)),
                ("required", Value::Array(required)),
                ("additionalProperties", json!(false)),
            ])
        }
        Type::Tuple(tuple) => tuple_schema(tuple.types().map(|t| inner(&t)).collect::<Result<Vec<_>, _>>()?),
        Type::Variant(variant) => {
            let mut cases = Vec::new();
            for case in variant.cases() {
                cases.push(match &case.ty {
                    None => json!({"const": case.name}),
                    Some(payload) => single_key(case.name, inner(payload)?),
                });
            }
            object([("oneOf", Value::Array(cases))])
        }
        Type::Enum(cases) => json!({"type": "string", "enum": cases.names().collect::<Vec<_>>()}),
        Type::Option(option) => object([("anyOf", Value::Array(vec![json!({"type": "null"}), inner(&option.ty())?]))]),
        Type::Result(result) => {
            let mut side = |t: Option<Type>| t.map_or_else(|| Ok(json!({"type": "null"})), |t| inner(&t));
            object([(
                "oneOf",
                Value::Array(vec![single_key("ok", side(result.ok())?), single_key("err", side(result.err())?)]),
            )])
        }
        Type::Flags(flags) => json!({
            "type": "array",
            "items": {"type": "string", "enum": flags.names().collect::<Vec<_>>()},
            "uniqueItems": true,
        }),
        Type::Own(_) | Type::Borrow(_) => return Err("it passes a resource, which has no JSON form".into()),
        Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            return Err("it uses an async type (future, stream or error-context), which has no JSON form".into());
        }
    })
}

fn integer<T: Into<Value>>(min: T, max: T) -> Value {
    json!({"type": "integer", "minimum": min.into(), "maximum": max.into()})
}

fn single_key(key: &str, schema: Value) -> Value {
    object([
        ("type", json!("object")),
        ("properties", object([(key, schema)])),
        ("required", json!([key])),
        ("additionalProperties", json!(false)),
    ])
}

fn pair(key: Value, value: Value) -> Value {
    tuple_schema(vec![key, value])
}

fn tuple_schema(items: Vec<Value>) -> Value {
    let n = items.len();
    object([
        ("type", json!("array")),
        ("prefixItems", Value::Array(items)),
        ("items", json!(false)),
        ("minItems", json!(n)),
        ("maxItems", json!(n)),
    ])
}

/// A JSON object of `members`, moving the values in. (`json!` copies a `Value` it is given by
/// serializing it again: once per nesting level, which a deep type would pay quadratically.)
pub fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(members.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// `ty` written as WIT (anonymous: the component binary keeps no type names), for descriptions.
pub fn wit(ty: &Type) -> String {
    let mut out = String::new();
    write_wit(ty, &mut out, 0);
    out
}

fn write_wit(ty: &Type, out: &mut String, depth: usize) {
    if depth > MAX_DEPTH || out.len() > MAX_WIT_CHARS {
        if !out.ends_with('…') {
            out.push('…');
        }
        return;
    }
    let nested = |out: &mut String, ty: &Type| write_wit(ty, out, depth + 1);
    let sep = |out: &mut String, i: usize| {
        if i > 0 {
            out.push_str(", ");
        }
    };
    match ty {
        Type::Bool => out.push_str("bool"),
        Type::S8 => out.push_str("s8"),
        Type::U8 => out.push_str("u8"),
        Type::S16 => out.push_str("s16"),
        Type::U16 => out.push_str("u16"),
        Type::S32 => out.push_str("s32"),
        Type::U32 => out.push_str("u32"),
        Type::S64 => out.push_str("s64"),
        Type::U64 => out.push_str("u64"),
        Type::Float32 => out.push_str("f32"),
        Type::Float64 => out.push_str("f64"),
        Type::Char => out.push_str("char"),
        Type::String => out.push_str("string"),
        Type::List(list) => {
            out.push_str("list<");
            nested(out, &list.ty());
            out.push('>');
        }
        Type::FixedLengthList(list) => {
            out.push_str("list<");
            nested(out, &list.ty());
            out.push_str(&format!(", {}>", list.len()));
        }
        Type::Map(map) => {
            out.push_str("map<");
            nested(out, &map.key());
            out.push_str(", ");
            nested(out, &map.value());
            out.push('>');
        }
        Type::Record(record) => {
            out.push_str("record { ");
            for (i, field) in record.fields().enumerate() {
                sep(out, i);
                out.push_str(field.name);
                out.push_str(": ");
                nested(out, &field.ty);
            }
            out.push_str(" }");
        }
        Type::Tuple(tuple) => {
            out.push_str("tuple<");
            for (i, ty) in tuple.types().enumerate() {
                sep(out, i);
                nested(out, &ty);
            }
            out.push('>');
        }
        Type::Variant(variant) => {
            out.push_str("variant { ");
            for (i, case) in variant.cases().enumerate() {
                sep(out, i);
                out.push_str(case.name);
                if let Some(payload) = &case.ty {
                    out.push('(');
                    nested(out, payload);
                    out.push(')');
                }
            }
            out.push_str(" }");
        }
        Type::Enum(cases) => names(out, "enum", cases.names()),
        Type::Flags(flags) => names(out, "flags", flags.names()),
        Type::Option(option) => {
            out.push_str("option<");
            nested(out, &option.ty());
            out.push('>');
        }
        Type::Result(result) => match (result.ok(), result.err()) {
            (None, None) => out.push_str("result"),
            (ok, err) => {
                out.push_str("result<");
                match ok {
                    Some(ok) => nested(out, &ok),
                    None => out.push('_'),
                }
                if let Some(err) = err {
                    out.push_str(", ");
                    nested(out, &err);
                }
                out.push('>');
            }
        },
        Type::Own(_) => out.push_str("own<resource>"),
        Type::Borrow(_) => out.push_str("borrow<resource>"),
        Type::Future(_) => out.push_str("future"),
        Type::Stream(_) => out.push_str("stream"),
        Type::ErrorContext => out.push_str("error-context"),
    }
}

fn names<'a>(out: &mut String, kind: &str, names: impl Iterator<Item = &'a str>) {
    out.push_str(kind);
    out.push_str(" { ");
    for (i, name) in names.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
    }
    out.push_str(" }");
}
