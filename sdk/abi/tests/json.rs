//! JSON ↔ borsh through the ABI, checked against what borsh itself writes for the same Rust
//! values: every type the SDK supports, and errors that name the field.

use std::collections::{BTreeMap, BTreeSet};

use borsh::BorshSerialize;
use bot_abi::json::{decode_all, encode_args};
use bot_abi::{ContractAbi, Field, Fields, Method, MethodKind, TypeDef, Variant};
use serde_json::{Value, json};

#[derive(BorshSerialize)]
struct Reading {
    at: u64,
    value: i64,
    unit: String,
}

#[derive(BorshSerialize)]
enum Command {
    Reboot,
    SetRate(u32),
    Move { x: i32, y: i32 },
}

fn field(name: &str, ty: &str) -> Field {
    Field {
        name: name.into(),
        ty: ty.into(),
    }
}

fn abi() -> ContractAbi {
    ContractAbi {
        types: vec![
            TypeDef::Struct {
                name: "Reading".into(),
                fields: Fields::Named(vec![
                    field("at", "u64"),
                    field("value", "i64"),
                    field("unit", "String"),
                ]),
            },
            TypeDef::Enum {
                name: "Command".into(),
                variants: vec![
                    Variant {
                        name: "Reboot".into(),
                        fields: Fields::Unit,
                    },
                    Variant {
                        name: "SetRate".into(),
                        fields: Fields::Unnamed(vec!["u32".into()]),
                    },
                    Variant {
                        name: "Move".into(),
                        fields: Fields::Named(vec![field("x", "i32"), field("y", "i32")]),
                    },
                ],
            },
        ],
        ..ContractAbi::default()
    }
}

/// `value` as `ty` encodes to borsh's bytes for `rust`, and those bytes decode back to `value`.
fn round_trip<T: BorshSerialize>(ty: &str, value: Value, rust: T) {
    let abi = abi();
    let method = Method {
        name: "m".into(),
        kind: MethodKind::Call,
        args: vec![field("x", ty)],
        returns: ty.into(),
    };
    let bytes = encode_args(&abi, &method, &json!({ "x": value.clone() })).unwrap();
    assert_eq!(bytes, borsh::to_vec(&rust).unwrap(), "{ty}: {value}");
    assert_eq!(
        decode_all(&abi, ty, &bytes, "result").unwrap(),
        value,
        "{ty}"
    );
}

#[test]
fn every_supported_type_round_trips() {
    round_trip("bool", json!(true), true);
    round_trip("u8", json!(255), 255u8);
    round_trip("u16", json!(65535), u16::MAX);
    round_trip("u32", json!(7), 7u32);
    round_trip("u64", json!(u64::MAX), u64::MAX);
    round_trip("u128", json!(u128::MAX.to_string()), u128::MAX);
    round_trip("i8", json!(-128), i8::MIN);
    round_trip("i16", json!(-2), -2i16);
    round_trip("i32", json!(-70000), -70000i32);
    round_trip("i64", json!(i64::MIN), i64::MIN);
    round_trip("i128", json!(i128::MIN.to_string()), i128::MIN);
    round_trip("String", json!("héllo"), "héllo".to_string());
    round_trip("Vec<u8>", json!("0x00ff10"), vec![0u8, 255, 16]);
    round_trip("[u8;4]", json!("0xdeadbeef"), [0xde_u8, 0xad, 0xbe, 0xef]);
    round_trip(
        "Address",
        json!(format!("0x{}", "ab".repeat(20))),
        [0xab_u8; 20],
    );
    round_trip("Vec<u32>", json!([1, 2, 3]), vec![1u32, 2, 3]);
    round_trip("[i16;2]", json!([-1, 1]), [-1i16, 1]);
    round_trip("Option<u64>", json!(null), None::<u64>);
    round_trip("Option<u64>", json!(9), Some(9u64));
    round_trip("(u8,String)", json!([1, "a"]), (1u8, "a".to_string()));
    round_trip(
        "BTreeMap<String,u32>",
        json!({"b": 2, "a": 1}),
        BTreeMap::from([("a".to_string(), 1u32), ("b".to_string(), 2)]),
    );
    round_trip(
        "BTreeMap<u64,bool>",
        json!([[2, false], [10, true]]),
        BTreeMap::from([(2u64, false), (10, true)]),
    );
    round_trip("BTreeSet<i32>", json!([-1, 3]), BTreeSet::from([-1i32, 3]));
    round_trip(
        "Reading",
        json!({"at": 5, "value": -3, "unit": "mC"}),
        Reading {
            at: 5,
            value: -3,
            unit: "mC".into(),
        },
    );
    round_trip(
        "Vec<Reading>",
        json!([{"at": 1, "value": 2, "unit": ""}]),
        vec![Reading {
            at: 1,
            value: 2,
            unit: String::new(),
        }],
    );
    round_trip("Command", json!("Reboot"), Command::Reboot);
    round_trip("Command", json!({"SetRate": 60}), Command::SetRate(60));
    round_trip(
        "Command",
        json!({"Move": {"x": -1, "y": 2}}),
        Command::Move { x: -1, y: 2 },
    );
    round_trip("()", json!(null), ());
}

#[test]
fn input_accepts_strings_for_integers_and_arrays_for_bytes() {
    let abi = abi();
    let method = Method {
        name: "m".into(),
        kind: MethodKind::Call,
        args: vec![field("n", "u64"), field("b", "Vec<u8>")],
        returns: "()".into(),
    };
    let bytes = encode_args(&abi, &method, &json!({"n": "12", "b": [1, 2]})).unwrap();
    assert_eq!(bytes, borsh::to_vec(&(12u64, vec![1u8, 2])).unwrap());
    // Map entries and set items are written in key order, whatever order the JSON has.
    let sorted = Method {
        args: vec![
            field("m", "BTreeMap<u64,bool>"),
            field("s", "BTreeSet<i32>"),
        ],
        ..method
    };
    let bytes = encode_args(
        &abi,
        &sorted,
        &json!({"m": [[10, true], [2, false]], "s": [3, -1]}),
    )
    .unwrap();
    let rust = (
        BTreeMap::from([(2u64, false), (10, true)]),
        BTreeSet::from([-1i32, 3]),
    );
    assert_eq!(bytes, borsh::to_vec(&rust).unwrap());
}

fn error(ty: &str, args: Value) -> String {
    let method = Method {
        name: "m".into(),
        kind: MethodKind::Call,
        args: vec![field("x", ty)],
        returns: "()".into(),
    };
    encode_args(&abi(), &method, &args).unwrap_err().to_string()
}

#[test]
fn wrong_arguments_name_the_field() {
    for (ty, args, says) in [
        ("u8", json!({"x": 256}), "`args.x`: 256 does not fit in u8"),
        ("u64", json!({"x": -1}), "`args.x`: -1 does not fit in u64"),
        ("u64", json!({}), "`args.x`: missing field of type u64"),
        (
            "u64",
            json!({"x": 1, "y": 2}),
            "`args.y`: unknown field; expected x",
        ),
        (
            "String",
            json!({"x": 1}),
            "`args.x`: expected a string, got a number",
        ),
        (
            "Reading",
            json!({"x": {"at": 1, "value": 2}}),
            "`args.x.unit`: missing field",
        ),
        (
            "Reading",
            json!({"x": {"at": 1, "value": 2, "unit": "", "extra": 0}}),
            "`args.x.extra`: unknown field",
        ),
        (
            "Vec<Reading>",
            json!({"x": [{"at": "soon", "value": 0, "unit": ""}]}),
            "`args.x[0].at`: expected u64",
        ),
        (
            "Command",
            json!({"x": "Explode"}),
            "unknown variant `Explode`; expected one of Reboot, SetRate, Move",
        ),
        ("Address", json!({"x": "0x1234"}), "an address is 20 bytes"),
        (
            "BTreeSet<u8>",
            json!({"x": [1, 1]}),
            "the same key appears twice",
        ),
        (
            "Unknown",
            json!({"x": 1}),
            "type `Unknown` is not in the contract's ABI",
        ),
    ] {
        let message = error(ty, args.clone());
        assert!(message.contains(says), "{ty} {args}: {message}");
    }
    assert!(error("u8", json!(5)).contains("expected an object keyed by parameter name (x)"));
}

#[test]
fn garbage_bytes_are_errors_not_panics() {
    let abi = abi();
    for (ty, bytes) in [
        ("u64", vec![1, 2]),
        ("String", vec![255, 255, 255, 255]),
        ("bool", vec![2]),
        ("Option<u8>", vec![7]),
        ("Command", vec![9]),
        ("u8", vec![1, 2]),
    ] {
        assert!(decode_all(&abi, ty, &bytes, "result").is_err(), "{ty}");
    }
}

/// A description built by hand, so it skips the section check: a struct that contains itself.
fn endless() -> ContractAbi {
    ContractAbi {
        types: vec![TypeDef::Struct {
            name: "Loop".into(),
            fields: Fields::Named(vec![field("again", "Loop")]),
        }],
        ..ContractAbi::default()
    }
}

#[test]
fn a_type_that_contains_itself_ends_in_an_error_not_a_stack_overflow() {
    let abi = endless();
    // Decoding needs no bytes to recurse: each level is a field of the same struct.
    let e = decode_all(&abi, "Loop", &[], "event.loop").unwrap_err();
    assert!(e.message.contains("nests more than 64 types deep"), "{e}");
    let method = Method {
        name: "m".into(),
        kind: MethodKind::Call,
        args: vec![field("x", "Loop")],
        returns: "()".into(),
    };
    // A JSON value nested deeper than the limit (serde_json parses 128 levels).
    let mut value = json!(null);
    for _ in 0..100 {
        value = json!({ "again": value });
    }
    let e = encode_args(&abi, &method, &json!({ "x": value })).unwrap_err();
    assert!(e.message.contains("nests more than 64 types deep"), "{e}");
    // As a section (a contract record, then the type's), it is refused outright.
    let mut section = ContractAbi::default().to_section();
    section.extend(borsh::to_vec(&bot_abi::Record::Type(abi.types[0].clone())).unwrap());
    let refused = ContractAbi::from_section(&section).unwrap_err();
    assert!(
        refused.to_string().contains("`Loop` contains itself"),
        "{refused}"
    );
}
