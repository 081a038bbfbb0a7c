//! Describe a contract's methods: the ABI schema the SDK macros embed in every contract's
//! `bot:abi` custom section (borsh-encoded), and that the engine (to enforce views and the ABI
//! version) and tools (to turn JSON into arguments and results into JSON) read back.

use borsh::{BorshDeserialize, BorshSerialize};

/// The custom section holding a borsh-encoded [`ContractAbi`].
pub const SECTION: &str = "bot:abi";

/// The WIT ABI version contracts built with this SDK target (`bot:contract@0.1.0`).
pub const ABI_VERSION: &str = "0.1.0";

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
}

/// One argument: its name and its Rust type as written (whitespace removed), e.g. `Vec<u8>`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Arg {
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
    pub args: Vec<Arg>,
    /// The borsh-encoded result's type as written; `()` for none. A `Result<T, E>` method
    /// returns `T` and fails with a contract error.
    pub returns: String,
}

#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ContractAbi {
    pub abi_version: String,
    pub sdk_version: String,
    /// The contract's state type.
    pub contract: String,
    pub methods: Vec<Method>,
}

impl ContractAbi {
    pub fn method(&self, name: &str) -> Option<&Method> {
        self.methods.iter().find(|m| m.name == name)
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

    #[test]
    fn abi_round_trips_through_borsh() {
        let abi = ContractAbi {
            abi_version: ABI_VERSION.into(),
            sdk_version: "0.1.0".into(),
            contract: "Counter".into(),
            methods: vec![Method {
                name: "get".into(),
                kind: MethodKind::View,
                args: vec![],
                returns: "u64".into(),
            }],
        };
        let bytes = borsh::to_vec(&abi).unwrap();
        assert_eq!(borsh::from_slice::<ContractAbi>(&bytes).unwrap(), abi);
    }
}
