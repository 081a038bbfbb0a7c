//! Describe a contract: the ABI schema the SDK macros embed in every contract's `bot:abi`
//! custom section, and that the engine (to enforce views and the ABI version) and tools (to
//! turn JSON into arguments and results back into JSON) read.
//!
//! The section is a sequence of borsh-encoded [`Record`]s: `#[bot_sdk::contract]` writes the
//! contract's record, and each `#[bot_sdk::data]`, `#[bot_sdk::event]` and `#[bot_sdk::error]`
//! item writes its own; the linker concatenates them. [`ContractAbi::from_section`] reads them
//! back into one description.

use borsh::{BorshDeserialize, BorshSerialize};

pub mod check;
#[cfg(feature = "json")]
pub mod json;
pub mod ty;

/// The custom section holding the records.
pub const SECTION: &str = "bot:abi";

/// The WIT ABI version contracts built with this SDK target (`bot:contract@0.1.2`).
pub const ABI_VERSION: &str = "0.1.2";

/// What kind of entry point a method is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "snake_case")
)]
#[borsh(use_discriminant = true)]
pub enum MethodKind {
    /// Creates the contract's state; refused once state exists.
    Init = 0,
    /// May change state.
    Call = 1,
    /// Read-only: the engine refuses its writes, events and read-write calls.
    View = 2,
    /// Converts state stored by an older version of the contract to this version's.
    Migrate = 3,
}

/// A named, typed value: a method argument or a struct field. `ty` is the Rust type as
/// written, without whitespace (e.g. `Vec<u8>`); [`ty::Ty::parse`] reads it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Field {
    pub name: String,
    #[cfg_attr(feature = "serde", serde(rename = "type"))]
    pub ty: String,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Method {
    pub name: String,
    pub kind: MethodKind,
    /// Arguments, borsh-encoded in this order.
    pub args: Vec<Field>,
    /// The borsh-encoded result's type as written; `()` for none. A `Result<T, E>` method
    /// returns `T` and fails with a contract error.
    pub returns: String,
}

/// The fields of a struct or of an enum variant.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "snake_case")
)]
pub enum Fields {
    Unit,
    Named(Vec<Field>),
    /// Tuple fields: their types.
    Unnamed(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Variant {
    pub name: String,
    pub fields: Fields,
}

/// A type defined by the contract (`#[bot_sdk::data]` or `#[bot_sdk::event]`), borsh-encoded
/// like any Rust struct or enum.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(tag = "kind", rename_all = "snake_case")
)]
pub enum TypeDef {
    Struct {
        name: String,
        fields: Fields,
    },
    Enum {
        name: String,
        variants: Vec<Variant>,
    },
}

impl TypeDef {
    pub fn name(&self) -> &str {
        match self {
            TypeDef::Struct { name, .. } | TypeDef::Enum { name, .. } => name,
        }
    }
}

/// An event the contract emits: its name and the payload's type.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct EventDef {
    pub name: String,
    #[cfg_attr(feature = "serde", serde(rename = "type"))]
    pub ty: String,
}

/// One of the contract's own error codes (`#[bot_sdk::error]`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ErrorDef {
    pub code: u32,
    pub name: String,
    pub message: String,
}

/// One entry of the `bot:abi` section.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Record {
    Contract(ContractAbi),
    Type(TypeDef),
    Event(EventDef),
    Error(ErrorDef),
    /// The state struct's name and layout version (`#[bot_sdk::contract(version = N)]`).
    State {
        name: String,
        version: u32,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ContractAbi {
    pub abi_version: String,
    pub sdk_version: String,
    /// The contract's state type.
    pub contract: String,
    /// The version of the contract's state layout, stored with the state; `#[migrate]`
    /// converts older ones.
    pub state_version: u32,
    pub methods: Vec<Method>,
    /// Filled from the other records by [`ContractAbi::from_section`].
    pub types: Vec<TypeDef>,
    pub events: Vec<EventDef>,
    pub errors: Vec<ErrorDef>,
}

/// Why a `bot:abi` section could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SectionError {
    /// A record did not decode; the offset of the record.
    Malformed {
        offset: usize,
        detail: String,
    },
    MissingContract,
    TwoContracts,
    /// The records decode but describe types no reader could walk ([`check::check`]).
    Invalid(check::AbiError),
}

impl core::fmt::Display for SectionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SectionError::Malformed { offset, detail } => {
                write!(f, "the record at byte {offset} does not decode: {detail}")
            }
            SectionError::MissingContract => {
                f.write_str("no contract record (is the impl block marked #[bot_sdk::contract]?)")
            }
            SectionError::TwoContracts => {
                f.write_str("two contract records: one wasm holds one #[bot_sdk::contract]")
            }
            SectionError::Invalid(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for SectionError {}

impl ContractAbi {
    /// Reads the records of a `bot:abi` section into one description, and checks it
    /// ([`check::check`]): no description that fails the check is ever handed out.
    pub fn from_section(mut data: &[u8]) -> Result<ContractAbi, SectionError> {
        let total = data.len();
        let mut contract: Option<ContractAbi> = None;
        let mut state_version = None;
        let (mut types, mut events, mut errors) = (Vec::new(), Vec::new(), Vec::new());
        while !data.is_empty() {
            let offset = total - data.len();
            let record = Record::deserialize(&mut data).map_err(|e| SectionError::Malformed {
                offset,
                detail: e.to_string(),
            })?;
            match record {
                Record::Contract(_) if contract.is_some() => {
                    return Err(SectionError::TwoContracts);
                }
                Record::Contract(c) => contract = Some(c),
                Record::Type(t) => types.push(t),
                Record::Event(e) => events.push(e),
                Record::Error(e) => errors.push(e),
                Record::State { version, .. } => state_version = Some(version),
            }
        }
        let mut abi = contract.ok_or(SectionError::MissingContract)?;
        // The linker's order is not the source's: sort for stable output, and drop the
        // duplicates a type used by two records would leave.
        types.sort_by(|a: &TypeDef, b| a.name().cmp(b.name()));
        types.dedup();
        events.sort_by(|a: &EventDef, b| a.name.cmp(&b.name));
        events.dedup();
        errors.sort_by_key(|e: &ErrorDef| e.code);
        errors.dedup();
        if let Some(version) = state_version {
            abi.state_version = version;
        }
        abi.types.extend(types);
        abi.events.extend(events);
        abi.errors.extend(errors);
        check::check(&abi).map_err(SectionError::Invalid)?;
        Ok(abi)
    }

    /// The section bytes for this description alone (as one contract record).
    pub fn to_section(&self) -> Vec<u8> {
        // Strings, vectors and enums serialize into a Vec without error.
        borsh::to_vec(&Record::Contract(self.clone())).unwrap_or_default()
    }

    pub fn method(&self, name: &str) -> Option<&Method> {
        self.methods.iter().find(|m| m.name == name)
    }

    /// The method called `name`, or an error listing the methods there are.
    pub fn require_method(&self, name: &str) -> Result<&Method, String> {
        self.method(name).ok_or_else(|| {
            let names: Vec<&str> = self.methods.iter().map(|m| m.name.as_str()).collect();
            format!(
                "the contract has no method `{name}`; it has: {}",
                names.join(", ")
            )
        })
    }

    /// A type the contract defined, by the name used in signatures (the last path segment).
    pub fn type_def(&self, name: &str) -> Option<&TypeDef> {
        self.types.iter().find(|t| t.name() == name)
    }

    pub fn event(&self, name: &str) -> Option<&EventDef> {
        self.events.iter().find(|e| e.name == name)
    }

    pub fn error(&self, code: u32) -> Option<&ErrorDef> {
        self.errors.iter().find(|e| e.code == code)
    }

    /// The major version of the ABI the contract was built for (the minor for 0.x).
    pub fn abi_major(&self) -> &str {
        major(&self.abi_version)
    }
}

/// The compatibility-relevant part of a version: the major, or `0.minor` before 1.0.
pub fn major(version: &str) -> &str {
    let mut parts = version.splitn(3, '.');
    match (parts.next(), parts.next()) {
        (Some("0"), Some(minor)) => &version[..2 + minor.len()],
        (Some(major), _) => major,
        _ => version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majors_follow_semver() {
        assert_eq!(major("0.1.0"), "0.1");
        assert_eq!(major("0.2.7"), "0.2");
        assert_eq!(major("1.4.2"), "1");
    }

    fn counter() -> ContractAbi {
        ContractAbi {
            abi_version: ABI_VERSION.into(),
            sdk_version: "0.1.0".into(),
            contract: "Counter".into(),
            state_version: 1,
            methods: vec![Method {
                name: "get".into(),
                kind: MethodKind::View,
                args: vec![],
                returns: "u64".into(),
            }],
            ..ContractAbi::default()
        }
    }

    #[test]
    fn records_in_any_order_make_one_description() {
        let event = EventDef {
            name: "incremented".into(),
            ty: "Incremented".into(),
        };
        let ty = TypeDef::Struct {
            name: "Incremented".into(),
            fields: Fields::Named(vec![Field {
                name: "by".into(),
                ty: "u64".into(),
            }]),
        };
        let mut section = borsh::to_vec(&Record::Event(event.clone())).unwrap();
        section.extend(counter().to_section());
        section.extend(borsh::to_vec(&Record::Type(ty.clone())).unwrap());
        section.extend(borsh::to_vec(&Record::Type(ty.clone())).unwrap());
        let abi = ContractAbi::from_section(&section).unwrap();
        assert_eq!(abi.events, vec![event]);
        assert_eq!(abi.types, vec![ty]);
        assert_eq!(abi.methods, counter().methods);
    }

    #[test]
    fn broken_sections_say_what_is_wrong() {
        let mut two = counter().to_section();
        two.extend(counter().to_section());
        assert_eq!(
            ContractAbi::from_section(&two),
            Err(SectionError::TwoContracts)
        );
        assert_eq!(
            ContractAbi::from_section(&[]),
            Err(SectionError::MissingContract)
        );
        let mut cut = counter().to_section();
        cut.truncate(cut.len() - 1);
        assert!(matches!(
            ContractAbi::from_section(&cut),
            Err(SectionError::Malformed { offset: 0, .. })
        ));
    }
}
