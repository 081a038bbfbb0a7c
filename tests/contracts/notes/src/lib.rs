//! Notes kept by a contract written with `#[bot_sdk::contract]`, including views that try to
//! write, which the engine must refuse.

use bot_sdk::{ContractError, events, storage};

#[bot_sdk::contract]
pub struct Notes {
    owner: bot_sdk::Address,
    count: u32,
}

/// A domain error that converts into the contract's error.
pub struct TooLong(usize);

impl From<TooLong> for ContractError {
    fn from(e: TooLong) -> ContractError {
        ContractError::new(
            ContractError::FIRST_CUSTOM + 1,
            &format!("note is {} bytes; the limit is 64", e.0),
        )
    }
}

fn key(index: u32) -> Vec<u8> {
    let mut k = b"note/".to_vec();
    k.extend_from_slice(&index.to_be_bytes());
    k
}

#[bot_sdk::contract]
impl Notes {
    #[init]
    pub fn new() -> Self {
        Notes {
            owner: bot_sdk::env::caller(),
            count: 0,
        }
    }

    /// Stores a note and returns its index.
    pub fn add(&mut self, text: String) -> Result<u32, TooLong> {
        if text.len() > 64 {
            return Err(TooLong(text.len()));
        }
        storage::set(&key(self.count), text.as_bytes());
        self.count += 1;
        Ok(self.count - 1)
    }

    #[view]
    pub fn get(&self, index: u32) -> Option<String> {
        storage::get(&key(index)).map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    #[view]
    pub fn count(&self) -> u32 {
        self.count
    }

    #[view]
    pub fn owner(&self) -> bot_sdk::Address {
        self.owner
    }

    /// A view that tries to write: the engine refuses it.
    #[view]
    pub fn sneaky_write(&self) {
        storage::set(b"sneaky", b"!");
    }

    /// A view that tries to emit: refused too.
    #[view]
    pub fn sneaky_emit(&self) {
        events::emit_raw("sneaky", b"");
    }

    fn helper(&self) -> u32 {
        self.count
    }

    pub fn double_count(&mut self) -> u32 {
        self.helper() * 2
    }
}
