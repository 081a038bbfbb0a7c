//! JSON ↔ borsh through the ABI: what lets `cargo bot run`, the RPC and scripts pass
//! `{"by": 2}` to a method and read its result, events and errors as JSON.
//!
//! Conventions: integers up to 64 bits are JSON numbers (a decimal string is accepted too),
//! 128-bit ones are decimal strings; `Vec<u8>`, `[u8; N]` and addresses are `0x` hex strings
//! (byte arrays accepted on input); `Option` is `null` or the value; structs are objects;
//! enums are `"Variant"` when the variant has no fields and `{"Variant": ...}` otherwise;
//! maps with string keys are objects, other maps are arrays of `[key, value]` pairs.
//! Every error names the path to the offending value (`args.reading.value`).

use core::fmt;

use serde_json::{Map as Object, Value, json};

use crate::ty::Ty;
use crate::{ContractAbi, Fields, Method, TypeDef};

/// A value that does not fit the ABI, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// Where the value is, from `args` (or `result`, `event`) down.
    pub path: String,
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.path, self.message)
    }
}

impl std::error::Error for JsonError {}

fn err<T>(path: &str, message: impl Into<String>) -> Result<T, JsonError> {
    Err(JsonError {
        path: path.to_string(),
        message: message.into(),
    })
}

fn parse(path: &str, text: &str) -> Result<Ty, JsonError> {
    Ty::parse(text).map_err(|e| JsonError {
        path: path.to_string(),
        message: e.to_string(),
    })
}

/// A method's arguments from a JSON object keyed by parameter name. `null` stands for `{}`.
pub fn encode_args(abi: &ContractAbi, method: &Method, args: &Value) -> Result<Vec<u8>, JsonError> {
    let empty = Object::new();
    let object = match args {
        Value::Null => &empty,
        Value::Object(o) => o,
        other => {
            let names: Vec<_> = method.args.iter().map(|a| a.name.as_str()).collect();
            return err(
                "args",
                format!(
                    "expected an object keyed by parameter name ({}), got {}",
                    if names.is_empty() {
                        "no parameters".to_string()
                    } else {
                        names.join(", ")
                    },
                    kind(other)
                ),
            );
        }
    };
    let mut out = Vec::new();
    Walker { abi, depth: 0 }.encode_fields(&method.args, object, "args", &mut out)?;
    Ok(out)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn integer(v: &Value, path: &str, name: &str) -> Result<i128, JsonError> {
    let parsed = match v {
        Value::Number(n) => n.as_i64().map(i128::from).or(n.as_u64().map(i128::from)),
        Value::String(s) => s.parse::<i128>().ok(),
        _ => None,
    };
    match parsed {
        Some(n) => Ok(n),
        None => err(
            path,
            format!("expected {name} (a whole number), got {}", kind(v)),
        ),
    }
}

fn unsigned128(v: &Value, path: &str) -> Result<u128, JsonError> {
    let parsed = match v {
        Value::Number(n) => n.as_u64().map(u128::from),
        Value::String(s) => s.parse::<u128>().ok(),
        _ => None,
    };
    parsed.map_or_else(
        || {
            err(
                path,
                format!("expected u128 (a whole number), got {}", kind(v)),
            )
        },
        Ok,
    )
}

fn ranged<T: TryFrom<i128>>(v: &Value, path: &str, name: &str) -> Result<T, JsonError> {
    let n = integer(v, path, name)?;
    T::try_from(n).or_else(|_| err(path, format!("{n} does not fit in {name}")))
}

fn hex_decode(s: &str, path: &str) -> Result<Vec<u8>, JsonError> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    if !digits.len().is_multiple_of(2) {
        return err(path, "hex needs an even number of digits");
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&digits[i..i + 2], 16)
                .or_else(|_| err(path, format!("`{s}` is not hex")))
        })
        .collect()
}

fn hex_encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + bytes.len() * 2);
    s.push_str("0x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn bytes(v: &Value, path: &str) -> Result<Vec<u8>, JsonError> {
    match v {
        Value::String(s) => hex_decode(s, path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, x)| ranged::<u8>(x, &format!("{path}[{i}]"), "u8"))
            .collect(),
        other => err(path, format!("expected 0x-hex bytes, got {}", kind(other))),
    }
}

fn len_prefix(n: usize, path: &str, out: &mut Vec<u8>) -> Result<(), JsonError> {
    let n = u32::try_from(n).or_else(|_| err(path, "more than 2^32 items"))?;
    out.extend_from_slice(&n.to_le_bytes());
    Ok(())
}

/// The order borsh writes map keys and set items in: the key type's `Ord`.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Int(i128),
    Big(u128),
    Bytes(Vec<u8>),
}

fn sort_key(ty: &Ty, v: &Value, path: &str) -> Result<SortKey, JsonError> {
    Ok(match ty {
        Ty::U128 => SortKey::Big(unsigned128(v, path)?),
        Ty::U8 | Ty::U16 | Ty::U32 | Ty::U64 | Ty::I8 | Ty::I16 | Ty::I32 | Ty::I64 | Ty::I128 => {
            SortKey::Int(integer(v, path, "an integer")?)
        }
        Ty::Bool => SortKey::Int(i128::from(v.as_bool() == Some(true))),
        Ty::String => SortKey::Bytes(v.as_str().unwrap_or_default().as_bytes().to_vec()),
        Ty::Address | Ty::Array(..) | Ty::Vec(_) => SortKey::Bytes(bytes(v, path)?),
        other => return err(path, format!("{other:?} cannot key a map in the ABI")),
    })
}

/// How deeply a value may nest, in types: beyond what any checked ABI describes
/// ([`crate::check`]), so a description built by hand cannot recurse without bound either.
const MAX_VALUE_DEPTH: usize = 2 * crate::ty::MAX_DEPTH;

/// Appends the borsh encoding of `v` as a `ty`.
pub fn encode(
    abi: &ContractAbi,
    ty: &Ty,
    v: &Value,
    path: &str,
    out: &mut Vec<u8>,
) -> Result<(), JsonError> {
    Walker { abi, depth: 0 }.encode(ty, v, path, out)
}

/// Reads one `ty` from the front of `input`.
pub fn decode(
    abi: &ContractAbi,
    ty: &Ty,
    input: &mut &[u8],
    path: &str,
) -> Result<Value, JsonError> {
    Walker { abi, depth: 0 }.decode(ty, input, path)
}

/// Walks values through an ABI's types, counting how deep it is.
struct Walker<'a> {
    abi: &'a ContractAbi,
    depth: usize,
}

impl Walker<'_> {
    fn enter(&mut self, path: &str) -> Result<(), JsonError> {
        if self.depth >= MAX_VALUE_DEPTH {
            return err(
                path,
                format!("the value nests more than {MAX_VALUE_DEPTH} types deep"),
            );
        }
        self.depth += 1;
        Ok(())
    }

    fn encode(
        &mut self,
        ty: &Ty,
        v: &Value,
        path: &str,
        out: &mut Vec<u8>,
    ) -> Result<(), JsonError> {
        self.enter(path)?;
        let done = self.encode_inner(ty, v, path, out);
        self.depth -= 1;
        done
    }

    fn decode(&mut self, ty: &Ty, input: &mut &[u8], path: &str) -> Result<Value, JsonError> {
        self.enter(path)?;
        let value = self.decode_inner(ty, input, path);
        self.depth -= 1;
        value
    }

    fn encode_fields(
        &mut self,
        fields: &[crate::Field],
        object: &Object<String, Value>,
        path: &str,
        out: &mut Vec<u8>,
    ) -> Result<(), JsonError> {
        if let Some(extra) = object
            .keys()
            .find(|k| !fields.iter().any(|f| &f.name == *k))
        {
            let known: Vec<_> = fields.iter().map(|f| f.name.as_str()).collect();
            return err(
                &format!("{path}.{extra}"),
                format!(
                    "unknown field; expected {}",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            );
        }
        for field in fields {
            let at = format!("{path}.{}", field.name);
            let ty = parse(&at, &field.ty)?;
            match object.get(&field.name) {
                Some(v) => self.encode(&ty, v, &at, out)?,
                // A missing optional field is `None`.
                None if matches!(ty, Ty::Option(_)) => out.push(0),
                None => return err(&at, format!("missing field of type {}", field.ty)),
            }
        }
        Ok(())
    }

    fn encode_sorted(
        &mut self,
        items: Vec<(SortKey, &Value, Option<&Value>)>,
        key_ty: &Ty,
        value_ty: Option<&Ty>,
        path: &str,
        out: &mut Vec<u8>,
    ) -> Result<(), JsonError> {
        let mut items = items;
        items.sort_by(|a, b| a.0.cmp(&b.0));
        if items.windows(2).any(|w| w[0].0 == w[1].0) {
            return err(path, "the same key appears twice");
        }
        len_prefix(items.len(), path, out)?;
        for (i, (_, k, v)) in items.into_iter().enumerate() {
            self.encode(key_ty, k, &format!("{path}[{i}]"), out)?;
            if let (Some(ty), Some(v)) = (value_ty, v) {
                self.encode(ty, v, &format!("{path}[{i}]"), out)?;
            }
        }
        Ok(())
    }

    /// Appends the borsh encoding of `v` as a `ty`.
    fn encode_inner(
        &mut self,
        ty: &Ty,
        v: &Value,
        path: &str,
        out: &mut Vec<u8>,
    ) -> Result<(), JsonError> {
        match ty {
            Ty::Unit => match v {
                Value::Null => {}
                other => return err(path, format!("expected null, got {}", kind(other))),
            },
            Ty::Bool => match v {
                Value::Bool(b) => out.push(u8::from(*b)),
                other => return err(path, format!("expected true or false, got {}", kind(other))),
            },
            Ty::U8 => out.push(ranged::<u8>(v, path, "u8")?),
            Ty::U16 => out.extend(ranged::<u16>(v, path, "u16")?.to_le_bytes()),
            Ty::U32 => out.extend(ranged::<u32>(v, path, "u32")?.to_le_bytes()),
            Ty::U64 => out.extend(ranged::<u64>(v, path, "u64")?.to_le_bytes()),
            Ty::U128 => out.extend(unsigned128(v, path)?.to_le_bytes()),
            Ty::I8 => out.extend(ranged::<i8>(v, path, "i8")?.to_le_bytes()),
            Ty::I16 => out.extend(ranged::<i16>(v, path, "i16")?.to_le_bytes()),
            Ty::I32 => out.extend(ranged::<i32>(v, path, "i32")?.to_le_bytes()),
            Ty::I64 => out.extend(ranged::<i64>(v, path, "i64")?.to_le_bytes()),
            Ty::I128 => out.extend(integer(v, path, "i128")?.to_le_bytes()),
            Ty::String => match v {
                Value::String(s) => {
                    len_prefix(s.len(), path, out)?;
                    out.extend_from_slice(s.as_bytes());
                }
                other => return err(path, format!("expected a string, got {}", kind(other))),
            },
            Ty::Address => {
                let b = bytes(v, path)?;
                if b.len() != 20 {
                    return err(
                        path,
                        format!(
                            "an address is 20 bytes (0x + 40 hex digits), got {}",
                            b.len()
                        ),
                    );
                }
                out.extend(b);
            }
            Ty::Vec(item) if **item == Ty::U8 => {
                let b = bytes(v, path)?;
                len_prefix(b.len(), path, out)?;
                out.extend(b);
            }
            Ty::Array(item, n) if **item == Ty::U8 => {
                let b = bytes(v, path)?;
                if b.len() != *n {
                    return err(path, format!("expected {n} bytes, got {}", b.len()));
                }
                out.extend(b);
            }
            Ty::Vec(item) | Ty::Array(item, _) => {
                let Value::Array(items) = v else {
                    return err(path, format!("expected an array, got {}", kind(v)));
                };
                match ty {
                    Ty::Array(_, n) if items.len() != *n => {
                        return err(path, format!("expected {n} items, got {}", items.len()));
                    }
                    Ty::Array(..) => {}
                    _ => len_prefix(items.len(), path, out)?,
                }
                for (i, x) in items.iter().enumerate() {
                    self.encode(item, x, &format!("{path}[{i}]"), out)?;
                }
            }
            Ty::Option(inner) => match v {
                Value::Null => out.push(0),
                some => {
                    out.push(1);
                    self.encode(inner, some, path, out)?;
                }
            },
            Ty::Tuple(items) => {
                let Value::Array(values) = v else {
                    return err(
                        path,
                        format!(
                            "expected an array of {} items, got {}",
                            items.len(),
                            kind(v)
                        ),
                    );
                };
                if values.len() != items.len() {
                    return err(
                        path,
                        format!("expected {} items, got {}", items.len(), values.len()),
                    );
                }
                for (i, (t, x)) in items.iter().zip(values).enumerate() {
                    self.encode(t, x, &format!("{path}[{i}]"), out)?;
                }
            }
            Ty::Set(item) => {
                let Value::Array(values) = v else {
                    return err(path, format!("expected an array, got {}", kind(v)));
                };
                let keyed = values
                    .iter()
                    .enumerate()
                    .map(|(i, x)| Ok((sort_key(item, x, &format!("{path}[{i}]"))?, x, None)))
                    .collect::<Result<Vec<_>, JsonError>>()?;
                self.encode_sorted(keyed, item, None, path, out)?;
            }
            Ty::Map(k, val) => {
                let pairs: Vec<(Value, &Value)> = match v {
                    Value::Object(o) if **k == Ty::String => o
                        .iter()
                        .map(|(key, x)| (Value::String(key.clone()), x))
                        .collect(),
                    Value::Array(items) => items
                        .iter()
                        .enumerate()
                        .map(|(i, pair)| match pair {
                            Value::Array(kv) if kv.len() == 2 => Ok((kv[0].clone(), &kv[1])),
                            _ => err(&format!("{path}[{i}]"), "expected a [key, value] pair"),
                        })
                        .collect::<Result<_, _>>()?,
                    other => {
                        return err(
                            path,
                            format!(
                                "expected an object or [key, value] pairs, got {}",
                                kind(other)
                            ),
                        );
                    }
                };
                let keyed = pairs
                    .iter()
                    .enumerate()
                    .map(|(i, (key, x))| {
                        Ok((sort_key(k, key, &format!("{path}[{i}]"))?, key, Some(*x)))
                    })
                    .collect::<Result<Vec<_>, JsonError>>()?;
                self.encode_sorted(keyed, k, Some(val), path, out)?;
            }
            Ty::Named(name) => {
                let Some(def) = self.abi.type_def(name) else {
                    return err(
                        path,
                        format!(
                            "type `{name}` is not in the contract's ABI (mark it #[bot_sdk::data])"
                        ),
                    );
                };
                match def {
                    TypeDef::Struct { fields, .. } => {
                        self.encode_variant_fields(fields, v, path, out)?
                    }
                    TypeDef::Enum { variants, .. } => {
                        let (variant, inner) = match v {
                            Value::String(s) => (s.as_str(), None),
                            Value::Object(o) if o.len() == 1 => {
                                let (k, x) = o.iter().next().expect("one entry");
                                (k.as_str(), Some(x))
                            }
                            other => {
                                return err(
                                    path,
                                    format!(
                                        "expected \"Variant\" or {{\"Variant\": ...}}, got {}",
                                        kind(other)
                                    ),
                                );
                            }
                        };
                        let names: Vec<_> = variants.iter().map(|x| x.name.as_str()).collect();
                        let Some(index) = variants.iter().position(|x| x.name == variant) else {
                            return err(
                                path,
                                format!(
                                    "unknown variant `{variant}`; expected one of {}",
                                    names.join(", ")
                                ),
                            );
                        };
                        out.push(index as u8);
                        let at = format!("{path}.{variant}");
                        match (&variants[index].fields, inner) {
                            (Fields::Unit, None | Some(Value::Null)) => {}
                            (Fields::Unit, Some(_)) => {
                                return err(&at, "this variant has no fields");
                            }
                            (fields, Some(x)) => self.encode_variant_fields(fields, x, &at, out)?,
                            (_, None) => {
                                return err(
                                    &at,
                                    "this variant has fields: write {\"Variant\": ...}",
                                );
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn encode_variant_fields(
        &mut self,
        fields: &Fields,
        v: &Value,
        path: &str,
        out: &mut Vec<u8>,
    ) -> Result<(), JsonError> {
        match fields {
            Fields::Unit => Ok(()),
            Fields::Named(named) => match v {
                Value::Object(o) => self.encode_fields(named, o, path, out),
                other => err(path, format!("expected an object, got {}", kind(other))),
            },
            Fields::Unnamed(types) if types.len() == 1 => {
                self.encode(&parse(path, &types[0])?, v, path, out)
            }
            Fields::Unnamed(types) => {
                let tys = types
                    .iter()
                    .map(|t| parse(path, t))
                    .collect::<Result<Vec<_>, _>>()?;
                self.encode(&Ty::Tuple(tys), v, path, out)
            }
        }
    }

    /// Reads one `ty` from the front of `input`.
    fn decode_inner(&mut self, ty: &Ty, input: &mut &[u8], path: &str) -> Result<Value, JsonError> {
        Ok(match ty {
            Ty::Unit => Value::Null,
            Ty::Bool => match take(input, 1, path)?[0] {
                0 => json!(false),
                1 => json!(true),
                b => return err(path, format!("{b} is not a borsh bool")),
            },
            Ty::U8 => json!(fixed::<1>(input, path)?[0]),
            Ty::U16 => json!(u16::from_le_bytes(fixed(input, path)?)),
            Ty::U32 => json!(u32::from_le_bytes(fixed(input, path)?)),
            Ty::U64 => json!(u64::from_le_bytes(fixed(input, path)?)),
            Ty::U128 => json!(u128::from_le_bytes(fixed(input, path)?).to_string()),
            Ty::I8 => json!(i8::from_le_bytes(fixed(input, path)?)),
            Ty::I16 => json!(i16::from_le_bytes(fixed(input, path)?)),
            Ty::I32 => json!(i32::from_le_bytes(fixed(input, path)?)),
            Ty::I64 => json!(i64::from_le_bytes(fixed(input, path)?)),
            Ty::I128 => json!(i128::from_le_bytes(fixed(input, path)?).to_string()),
            Ty::String => {
                let n = length(input, path)?;
                let raw = take(input, n, path)?;
                match core::str::from_utf8(raw) {
                    Ok(s) => json!(s),
                    Err(_) => return err(path, "the string is not UTF-8"),
                }
            }
            Ty::Address => json!(hex_encode(take(input, 20, path)?)),
            Ty::Vec(item) if **item == Ty::U8 => {
                let n = length(input, path)?;
                json!(hex_encode(take(input, n, path)?))
            }
            Ty::Array(item, n) if **item == Ty::U8 => json!(hex_encode(take(input, *n, path)?)),
            Ty::Vec(item) | Ty::Set(item) => {
                let n = length(input, path)?;
                let items = (0..n)
                    .map(|i| self.decode(item, input, &format!("{path}[{i}]")))
                    .collect::<Result<Vec<_>, _>>()?;
                Value::Array(items)
            }
            Ty::Array(item, n) => Value::Array(
                (0..*n)
                    .map(|i| self.decode(item, input, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            Ty::Option(inner) => match take(input, 1, path)?[0] {
                0 => Value::Null,
                1 => self.decode(inner, input, path)?,
                b => return err(path, format!("{b} is not a borsh option tag")),
            },
            Ty::Tuple(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, t)| self.decode(t, input, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            Ty::Map(k, v) => {
                let n = length(input, path)?;
                let mut pairs = Vec::new();
                for i in 0..n {
                    let at = format!("{path}[{i}]");
                    pairs.push((self.decode(k, input, &at)?, self.decode(v, input, &at)?));
                }
                if **k == Ty::String {
                    Value::Object(
                        pairs
                            .into_iter()
                            .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v))
                            .collect(),
                    )
                } else {
                    Value::Array(pairs.into_iter().map(|(k, v)| json!([k, v])).collect())
                }
            }
            Ty::Named(name) => {
                let Some(def) = self.abi.type_def(name) else {
                    return err(path, format!("type `{name}` is not in the contract's ABI"));
                };
                match def {
                    TypeDef::Struct { fields, .. } => self.decode_fields(fields, input, path)?,
                    TypeDef::Enum { variants, .. } => {
                        let index = take(input, 1, path)?[0] as usize;
                        let Some(variant) = variants.get(index) else {
                            return err(
                                path,
                                format!(
                                    "variant index {index} is not one of `{name}`'s {}",
                                    variants.len()
                                ),
                            );
                        };
                        match &variant.fields {
                            Fields::Unit => json!(variant.name),
                            fields => {
                                let at = format!("{path}.{}", variant.name);
                                json!({ variant.name.clone(): self.decode_fields(fields, input, &at)? })
                            }
                        }
                    }
                }
            }
        })
    }

    fn decode_fields(
        &mut self,
        fields: &Fields,
        input: &mut &[u8],
        path: &str,
    ) -> Result<Value, JsonError> {
        Ok(match fields {
            Fields::Unit => Value::Null,
            Fields::Named(named) => {
                let mut object = Object::new();
                for f in named {
                    let at = format!("{path}.{}", f.name);
                    object.insert(
                        f.name.clone(),
                        self.decode(&parse(&at, &f.ty)?, input, &at)?,
                    );
                }
                Value::Object(object)
            }
            Fields::Unnamed(types) if types.len() == 1 => {
                self.decode(&parse(path, &types[0])?, input, path)?
            }
            Fields::Unnamed(types) => {
                let tys = types
                    .iter()
                    .map(|t| parse(path, t))
                    .collect::<Result<Vec<_>, _>>()?;
                self.decode(&Ty::Tuple(tys), input, path)?
            }
        })
    }
}

fn take<'a>(input: &mut &'a [u8], n: usize, path: &str) -> Result<&'a [u8], JsonError> {
    if input.len() < n {
        return err(
            path,
            format!("the bytes end early: {n} more needed, {} left", input.len()),
        );
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Ok(head)
}

fn fixed<const N: usize>(input: &mut &[u8], path: &str) -> Result<[u8; N], JsonError> {
    let head = take(input, N, path)?;
    Ok(head.try_into().expect("took N bytes"))
}

fn length(input: &mut &[u8], path: &str) -> Result<usize, JsonError> {
    Ok(u32::from_le_bytes(fixed(input, path)?) as usize)
}

/// Decodes all of `bytes` as the type written `ty`; bytes left over are an error.
pub fn decode_all(
    abi: &ContractAbi,
    ty: &str,
    bytes: &[u8],
    path: &str,
) -> Result<Value, JsonError> {
    let ty = parse(path, ty)?;
    let mut input = bytes;
    let value = decode(abi, &ty, &mut input, path)?;
    if !input.is_empty() {
        return err(
            path,
            format!("{} bytes left over after the value", input.len()),
        );
    }
    Ok(value)
}

/// A method's result as JSON.
pub fn decode_result(abi: &ContractAbi, method: &Method, bytes: &[u8]) -> Result<Value, JsonError> {
    decode_all(abi, &method.returns, bytes, "result")
}

/// An event's payload as JSON, if the ABI declares the event; `None` for undeclared ones.
pub fn decode_event(
    abi: &ContractAbi,
    name: &str,
    bytes: &[u8],
) -> Option<Result<Value, JsonError>> {
    let event = abi.event(name)?;
    Some(decode_all(abi, &event.ty, bytes, &format!("event.{name}")))
}
