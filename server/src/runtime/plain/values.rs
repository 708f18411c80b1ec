//! JSON values to WIT values and back, in the JSON form `schema.rs` describes. Reading checks
//! what a schema cannot say exactly (integer ranges, one character, a variant's single key) and
//! names the offending place as a JSON pointer; writing cannot fail (a float that is not finite
//! becomes `null`, which the output schema then refuses).

use serde_json::{Map, Value, json};
use wasmtime::component::{Type, Val};

/// `value` as a WIT value of type `ty`; `Err` says what is wrong and where (`at` is the JSON
/// pointer of `value`).
pub fn to_val(value: &Value, ty: &Type, at: &str) -> Result<Val, String> {
    let wrong = |expected: &str| Err(format!("{}: expected {expected}, got {}", pointer(at), kind(value)));
    Ok(match ty {
        Type::Bool => match value {
            Value::Bool(b) => Val::Bool(*b),
            _ => return wrong("a boolean"),
        },
        Type::S8 => Val::S8(int(value, at)?),
        Type::U8 => Val::U8(int(value, at)?),
        Type::S16 => Val::S16(int(value, at)?),
        Type::U16 => Val::U16(int(value, at)?),
        Type::S32 => Val::S32(int(value, at)?),
        Type::U32 => Val::U32(int(value, at)?),
        Type::S64 => Val::S64(int(value, at)?),
        Type::U64 => Val::U64(int(value, at)?),
        Type::Float32 => match value.as_f64() {
            Some(f) => Val::Float32(f as f32),
            None => return wrong("a number"),
        },
        Type::Float64 => match value.as_f64() {
            Some(f) => Val::Float64(f),
            None => return wrong("a number"),
        },
        Type::Char => {
            let mut chars = value.as_str().map(str::chars);
            match chars.as_mut().map(|c| (c.next(), c.next())) {
                Some((Some(c), None)) => Val::Char(c),
                _ => return wrong("a one-character string"),
            }
        }
        Type::String => match value {
            Value::String(s) => Val::String(s.clone()),
            _ => return wrong("a string"),
        },
        Type::List(list) => Val::List(items(value, &list.ty(), at)?),
        Type::FixedLengthList(list) => {
            let items = items(value, &list.ty(), at)?;
            if items.len() != list.len() as usize {
                return wrong(&format!("an array of {} items", list.len()));
            }
            Val::FixedLengthList(items)
        }
        Type::Map(map) => match (value, map.key()) {
            (Value::Object(object), Type::String) => Val::Map(
                object
                    .iter()
                    .map(|(k, v)| Ok((Val::String(k.clone()), to_val(v, &map.value(), &child(at, k))?)))
                    .collect::<Result<_, String>>()?,
            ),
            (Value::Array(pairs), key) => {
                let mut entries = Vec::with_capacity(pairs.len());
                for (i, pair) in pairs.iter().enumerate() {
                    let at = child(at, &i.to_string());
                    match pair.as_array().map(Vec::as_slice) {
                        Some([k, v]) => entries
                            .push((to_val(k, &key, &child(&at, "0"))?, to_val(v, &map.value(), &child(&at, "1"))?)),
                        _ => return Err(format!("{}: expected a [key, value] pair", pointer(&at))),
                    }
                }
                Val::Map(entries)
            }
            (_, Type::String) => return wrong("an object"),
            _ => return wrong("an array of [key, value] pairs"),
        },
        Type::Record(record) => {
            let Value::Object(object) = value else { return wrong("an object") };
            let mut fields = Vec::with_capacity(record.fields().len());
            for field in record.fields() {
                let at = child(at, field.name);
                let val = match (object.get(field.name), &field.ty) {
                    (Some(v), ty) => to_val(v, ty, &at)?,
                    (None, Type::Option(_)) => Val::Option(None),
                    (None, _) => {
                        return Err(format!("{}: missing required field `{}`", pointer(parent(&at)), field.name));
                    }
                };
                fields.push((field.name.to_owned(), val));
            }
            if let Some(extra) = object.keys().find(|k| !record.fields().any(|f| f.name == k.as_str())) {
                return Err(format!("{}: unknown field `{extra}`", pointer(at)));
            }
            Val::Record(fields)
        }
        Type::Tuple(tuple) => {
            let Some(array) = value.as_array().filter(|a| a.len() == tuple.types().len()) else {
                return wrong(&format!("an array of {} items", tuple.types().len()));
            };
            let vals = tuple
                .types()
                .zip(array)
                .enumerate()
                .map(|(i, (ty, v))| to_val(v, &ty, &child(at, &i.to_string())))
                .collect::<Result<_, _>>()?;
            Val::Tuple(vals)
        }
        Type::Variant(variant) => {
            let (name, payload) = tagged(value, at)?;
            let Some(case) = variant.cases().find(|c| c.name == name) else {
                let names: Vec<&str> = variant.cases().map(|c| c.name).collect();
                return Err(format!("{}: `{name}` is not one of {}", pointer(at), names.join(", ")));
            };
            let payload = match (&case.ty, payload) {
                (None, None) => None,
                (Some(ty), Some(v)) => Some(Box::new(to_val(v, ty, &child(at, name))?)),
                (None, Some(_)) => return Err(format!("{}: case `{name}` has no payload", pointer(at))),
                (Some(_), None) => {
                    return Err(format!("{}: case `{name}` needs a payload: {{\"{name}\": …}}", pointer(at)));
                }
            };
            Val::Variant(name.to_owned(), payload)
        }
        Type::Enum(cases) => match value.as_str() {
            Some(name) if cases.names().any(|n| n == name) => Val::Enum(name.to_owned()),
            _ => return wrong(&format!("one of {}", cases.names().collect::<Vec<_>>().join(", "))),
        },
        Type::Option(option) => match value {
            Value::Null => Val::Option(None),
            v => Val::Option(Some(Box::new(to_val(v, &option.ty(), at)?))),
        },
        Type::Result(result) => {
            let (name, payload) = tagged(value, at)?;
            let side = match name {
                "ok" => result.ok(),
                "err" => result.err(),
                _ => return wrong("{\"ok\": …} or {\"err\": …}"),
            };
            let payload = match (side, payload) {
                (Some(ty), Some(v)) => Some(Box::new(to_val(v, &ty, &child(at, name))?)),
                (None, None | Some(Value::Null)) => None,
                (Some(_), None) => return Err(format!("{}: `{name}` needs a value", pointer(at))),
                (None, Some(_)) => return Err(format!("{}: `{name}` takes no value (null)", pointer(at))),
            };
            Val::Result(if name == "ok" { Ok(payload) } else { Err(payload) })
        }
        Type::Flags(flags) => {
            let Some(array) = value.as_array() else { return wrong("an array of flag names") };
            let mut set = Vec::with_capacity(array.len());
            for (i, v) in array.iter().enumerate() {
                match v.as_str() {
                    Some(name) if flags.names().any(|n| n == name) => set.push(name.to_owned()),
                    _ => {
                        let names: Vec<&str> = flags.names().collect();
                        return Err(format!(
                            "{}: expected one of {}",
                            pointer(&child(at, &i.to_string())),
                            names.join(", ")
                        ));
                    }
                }
            }
            Val::Flags(set)
        }
        Type::Own(_) | Type::Borrow(_) | Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            return Err(format!("{}: this type has no JSON form", pointer(at)));
        }
    })
}

/// `val` in its JSON form.
pub fn to_json(val: &Val) -> Value {
    match val {
        Val::Bool(b) => json!(b),
        Val::S8(n) => json!(n),
        Val::U8(n) => json!(n),
        Val::S16(n) => json!(n),
        Val::U16(n) => json!(n),
        Val::S32(n) => json!(n),
        Val::U32(n) => json!(n),
        Val::S64(n) => json!(n),
        Val::U64(n) => json!(n),
        Val::Float32(f) => float(f64::from(*f)),
        Val::Float64(f) => float(*f),
        Val::Char(c) => json!(c.to_string()),
        Val::String(s) => json!(s),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            Value::Array(items.iter().map(to_json).collect())
        }
        Val::Map(entries) => {
            let keyed: Option<Map<String, Value>> = entries
                .iter()
                .map(|(k, v)| match k {
                    Val::String(k) => Some((k.clone(), to_json(v))),
                    _ => None,
                })
                .collect();
            keyed.map_or_else(
                || Value::Array(entries.iter().map(|(k, v)| Value::Array(vec![to_json(k), to_json(v)])).collect()),
                Value::Object,
            )
        }
        Val::Record(fields) => Value::Object(fields.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Val::Variant(name, None) | Val::Enum(name) => json!(name),
        Val::Variant(name, Some(payload)) => single(name, to_json(payload)),
        Val::Option(None) => Value::Null,
        Val::Option(Some(v)) => to_json(v),
        Val::Result(Ok(v)) => single("ok", v.as_deref().map_or(Value::Null, to_json)),
        Val::Result(Err(v)) => single("err", v.as_deref().map_or(Value::Null, to_json)),
        Val::Flags(names) => json!(names),
        // Functions that pass these are not served (`schema.rs`).
        Val::Resource(_) | Val::Future(_) | Val::Stream(_) | Val::ErrorContext(_) => Value::Null,
    }
}

fn single(key: &str, value: Value) -> Value {
    let mut object = Map::new();
    object.insert(key.to_owned(), value);
    Value::Object(object)
}

fn float(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// An integer of type `T` from a JSON number (an integral float such as `3.0` counts).
fn int<T: TryFrom<i64> + TryFrom<u64>>(value: &Value, at: &str) -> Result<T, String> {
    let n = match value {
        Value::Number(n) => n,
        _ => return Err(format!("{}: expected an integer, got {}", pointer(at), kind(value))),
    };
    let converted = if let Some(i) = n.as_i64() {
        T::try_from(i).ok()
    } else if let Some(u) = n.as_u64() {
        T::try_from(u).ok()
    } else {
        // Integral and exactly representable: 2^53 and beyond would round.
        n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).and_then(|f| T::try_from(f as i64).ok())
    };
    converted.ok_or_else(|| format!("{}: {n} is not an integer in the type's range", pointer(at)))
}

fn items(value: &Value, ty: &Type, at: &str) -> Result<Vec<Val>, String> {
    let Some(array) = value.as_array() else {
        return Err(format!("{}: expected an array, got {}", pointer(at), kind(value)));
    };
    array.iter().enumerate().map(|(i, v)| to_val(v, ty, &child(at, &i.to_string()))).collect()
}

/// A variant or result value: `"case"`, or an object with a single key.
fn tagged<'a>(value: &'a Value, at: &str) -> Result<(&'a str, Option<&'a Value>), String> {
    match value {
        Value::String(name) => Ok((name, None)),
        Value::Object(object) if object.len() == 1 => {
            let (name, payload) = object.iter().next().expect("one entry");
            Ok((name, Some(payload)))
        }
        _ => Err(format!("{}: expected \"case\" or an object with a single key, got {}", pointer(at), kind(value))),
    }
}

fn child(at: &str, key: &str) -> String {
    format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"))
}

fn parent(at: &str) -> &str {
    at.rsplit_once('/').map_or("", |(parent, _)| parent)
}

fn pointer(at: &str) -> &str {
    if at.is_empty() { "/" } else { at }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
