//! Access control: one owner, and named roles held by addresses. Checks fail with
//! [`ContractError::UNAUTHORIZED`] naming who may call and who did.
//!
//! ```
//! use bot_sdk::{access, env, testing, ContractError};
//!
//! let owner = testing::account("owner");
//! testing::set_caller(owner);
//! access::init_owner(owner);
//! access::grant_role("operator", testing::account("op")).unwrap();
//!
//! testing::set_caller(testing::account("op"));
//! assert!(access::require_role("operator").is_ok());
//! assert_eq!(access::require_owner().unwrap_err().code, ContractError::UNAUTHORIZED);
//! ```
//!
//! The owner and the roles are stored under the SDK's reserved keys (a leading zero byte), so
//! they never collide with the contract's own state.

use crate::collections::Prefix;
use crate::key::Key as _;
use crate::{Address, ContractError, env, storage};

const OWNER_KEY: &[u8] = b"\0bot/owner";
const ROLES_KEY: &[u8] = b"\0bot/roles";

/// Holders of `role`, keyed by address: (role, address) keys under the SDK's reserved prefix.
fn members(role: &str) -> Prefix<Address, ()> {
    let mut prefix = ROLES_KEY.to_vec();
    role.to_string().encode_part(&mut prefix);
    Prefix::new(prefix)
}

fn role_key(role: &str, who: Address) -> Vec<u8> {
    let mut key = ROLES_KEY.to_vec();
    (role.to_string(), who).encode_last(&mut key);
    key
}

/// The owner, if one was set.
pub fn owner() -> Option<Address> {
    storage::read(OWNER_KEY)
}

/// Sets the first owner, typically in `#[init]` (with `env::caller()`). Aborts if the contract
/// already has one: use [`transfer_ownership`] to change it.
pub fn init_owner(owner: Address) {
    if storage::has(OWNER_KEY) {
        crate::runtime::abort("the contract already has an owner: use access::transfer_ownership");
    }
    storage::write(OWNER_KEY, &owner);
}

/// Fails unless the caller is the owner.
pub fn require_owner() -> Result<(), ContractError> {
    let caller = env::caller();
    match owner() {
        Some(owner) if owner == caller => Ok(()),
        Some(owner) => Err(ContractError::unauthorized(&format!(
            "only the owner {owner} may call this, not {caller}"
        ))),
        None => Err(ContractError::unauthorized("the contract has no owner")),
    }
}

/// Hands ownership to `new_owner`; only the owner may.
pub fn transfer_ownership(new_owner: Address) -> Result<(), ContractError> {
    require_owner()?;
    storage::write(OWNER_KEY, &new_owner);
    Ok(())
}

/// Gives up ownership for good: owner-only methods can no longer be called by anyone.
pub fn renounce_ownership() -> Result<(), ContractError> {
    require_owner()?;
    storage::remove(OWNER_KEY);
    Ok(())
}

pub fn has_role(role: &str, who: Address) -> bool {
    storage::has(&role_key(role, who))
}

/// Fails unless the caller holds `role`.
pub fn require_role(role: &str) -> Result<(), ContractError> {
    let caller = env::caller();
    if has_role(role, caller) {
        Ok(())
    } else {
        Err(ContractError::unauthorized(&format!(
            "{caller} does not hold the role `{role}`"
        )))
    }
}

/// Fails unless the caller is the owner or holds `role`.
pub fn require_owner_or_role(role: &str) -> Result<(), ContractError> {
    if require_owner().is_ok() || has_role(role, env::caller()) {
        Ok(())
    } else {
        Err(ContractError::unauthorized(&format!(
            "only the owner or a holder of the role `{role}` may call this, not {}",
            env::caller()
        )))
    }
}

/// Gives `who` the role; only the owner may.
pub fn grant_role(role: &str, who: Address) -> Result<(), ContractError> {
    require_owner()?;
    storage::set(&role_key(role, who), &[]);
    Ok(())
}

/// Takes the role from `who`; only the owner may.
pub fn revoke_role(role: &str, who: Address) -> Result<(), ContractError> {
    require_owner()?;
    storage::remove(&role_key(role, who));
    Ok(())
}

/// Gives up a role the caller holds.
pub fn renounce_role(role: &str) {
    storage::remove(&role_key(role, env::caller()));
}

/// Up to `limit` holders of `role` after `after`, in address order.
pub fn role_members(role: &str, after: Option<Address>, limit: u32) -> Vec<Address> {
    members(role)
        .page(after.as_ref(), limit)
        .into_iter()
        .map(|(a, ())| a)
        .collect()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::testing::{account, set_caller};

    #[test]
    fn only_the_owner_manages_roles_and_ownership() {
        let (owner, alice, bob) = (account("owner"), account("alice"), account("bob"));
        set_caller(owner);
        init_owner(owner);
        assert!(require_owner().is_ok());
        grant_role("reader", alice).unwrap();
        grant_role("reader", bob).unwrap();
        let mut expected = vec![alice, bob];
        expected.sort();
        assert_eq!(role_members("reader", None, 10), expected);
        assert_eq!(
            role_members("reader", Some(expected[0]), 10),
            vec![expected[1]]
        );

        set_caller(alice);
        let err = require_owner().unwrap_err();
        assert_eq!(err.code, ContractError::UNAUTHORIZED);
        assert!(err.message.contains(&owner.to_string()), "{}", err.message);
        assert!(grant_role("reader", alice).is_err());
        assert!(revoke_role("reader", bob).is_err());
        assert!(transfer_ownership(alice).is_err());
        assert!(require_role("reader").is_ok());
        assert!(require_owner_or_role("reader").is_ok());
        assert!(require_role("writer").is_err());
        renounce_role("reader");
        assert!(require_role("reader").is_err());

        set_caller(owner);
        revoke_role("reader", bob).unwrap();
        assert!(!has_role("reader", bob));
        transfer_ownership(alice).unwrap();
        assert!(require_owner().is_err());
        set_caller(alice);
        renounce_ownership().unwrap();
        assert_eq!(super::owner(), None);
        assert!(require_owner().is_err());
    }

    #[test]
    fn a_second_init_owner_aborts() {
        init_owner(account("a"));
        let message = crate::testing::aborts(|| init_owner(account("b"))).unwrap();
        assert!(message.contains("already has an owner"), "{message}");
    }
}
