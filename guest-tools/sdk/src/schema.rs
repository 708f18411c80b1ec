//! A tool's JSON Schemas, derived from its `Args` and `Output` types with schemars and cleaned
//! for MCP clients and the host's validator (the `jsonschema` crate, draft 2020-12):
//!
//! - draft 2020-12, every subschema inlined (no `$defs`/`$ref`, except for recursive types), no
//!   `$schema`, and no root `title` or `description` (those come from the Rust type's name and doc
//!   comment; the tool's own description says what it does);
//! - the input schema describes deserialisation (fields with serde defaults are optional and list
//!   their `default`), the output schema describes serialisation (an `Option` field is required
//!   and nullable unless it is skipped when `None`);
//! - in the input schema an optional field (one not `required`, such as an `Option` or a field
//!   with a serde default) does not accept `null`: a client leaves it out instead;
//! - the root is always an object schema with `"type": "object"` and `properties` (for an enum
//!   whose variants are all objects, such as an internally tagged one, `"type": "object"` is
//!   added beside its `oneOf`);
//! - schemars' integer and float `format`s (`uint32`, `double`, ...), which no validator checks,
//!   are dropped (the `minimum` that unsigned types get is kept), and so are the `default`s of an
//!   output schema (serde defaults only matter when deserialising).

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

/// `format` values schemars gives Rust's numeric types: annotations only, left out.
const NUMERIC_FORMATS: &[&str] = &[
    "int", "int8", "int16", "int32", "int64", "int128", "uint", "uint8", "uint16", "uint32", "uint64", "uint128",
    "float", "double",
];

/// The input schema: what `T` deserialises from.
pub fn input<T: JsonSchema>() -> Value {
    let schema = settings().for_deserialize().into_generator().into_root_schema_for::<T>();
    clean(schema.to_value(), Role::Input, &T::schema_name())
}

/// The output schema: what `T` serialises to.
pub fn output<T: JsonSchema>() -> Value {
    let schema = settings().for_serialize().into_generator().into_root_schema_for::<T>();
    clean(schema.to_value(), Role::Output, &T::schema_name())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Input,
    Output,
}

fn settings() -> SchemaSettings {
    SchemaSettings::draft2020_12().with(|s| {
        s.inline_subschemas = true;
        s.meta_schema = None;
    })
}

/// Cleans the generated schema of the type `name`. Panics (at `describe`, so a tool's
/// native test of [`descriptor`](crate::descriptor) catches it) if the type is not described by
/// an object schema: tool arguments and structured output are JSON objects.
fn clean(mut schema: Value, role: Role, name: &str) -> Value {
    let Some(root) = schema.as_object_mut() else { panic!("the {role:?} type {name} must be a struct") };
    root.remove("title");
    root.remove("description");
    let is_object = |schema: &Value| schema.get("type").and_then(Value::as_str) == Some("object");
    match root.get("type") {
        Some(Value::String(t)) if t == "object" => {}
        // A struct without fields, or an enum whose variants are all objects (internally tagged,
        // or untagged structs).
        None if root.contains_key("properties")
            || ["oneOf", "anyOf"].iter().any(|k| {
                root.get(*k).and_then(Value::as_array).is_some_and(|variants| variants.iter().all(is_object))
            }) =>
        {
            root.insert("type".into(), "object".into());
        }
        _ => panic!(
            "the {role:?} type {name} must be a struct or an enum of structs (its schema is not an object schema)"
        ),
    }
    root.entry("properties").or_insert_with(|| Value::Object(Map::new()));
    visit(&mut schema, &mut |schema| {
        if schema.get("format").and_then(Value::as_str).is_some_and(|f| NUMERIC_FORMATS.contains(&f)) {
            schema.remove("format");
        }
        match role {
            Role::Input => optional_fields_without_null(schema),
            Role::Output => {
                schema.remove("default");
            }
        }
    });
    schema
}

/// Removes `null` from the types of the properties of `schema` that are not required.
fn optional_fields_without_null(schema: &mut Map<String, Value>) {
    let required: Vec<String> = match schema.get("required") {
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    let Some(Value::Object(properties)) = schema.get_mut("properties") else { return };
    for (name, property) in properties.iter_mut() {
        let Value::Object(property) = property else { continue };
        if required.contains(name) {
            continue;
        }
        if let Some(Value::Array(types)) = property.get_mut("type") {
            types.retain(|t| t != "null");
            if let [only] = types.as_mut_slice() {
                let only = only.take();
                property.insert("type".into(), only);
            }
        }
        if let Some(Value::Array(values)) = property.get_mut("enum") {
            values.retain(|v| !v.is_null());
        }
    }
}

/// Calls `f` on `schema` and on each of its subschemas (not on values such as `default`s or
/// `enum` members, nor on the `properties` maps themselves).
fn visit(schema: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
    let Value::Object(map) = schema else { return };
    f(map);
    for (keyword, value) in map.iter_mut() {
        match (keyword.as_str(), value) {
            ("properties" | "patternProperties" | "$defs", Value::Object(schemas)) => {
                schemas.values_mut().for_each(|s| visit(s, f));
            }
            ("anyOf" | "oneOf" | "allOf" | "prefixItems", Value::Array(schemas)) => {
                schemas.iter_mut().for_each(|s| visit(s, f));
            }
            ("items" | "additionalProperties" | "not" | "if" | "then" | "else" | "contains", s) => visit(s, f),
            _ => {}
        }
    }
}
