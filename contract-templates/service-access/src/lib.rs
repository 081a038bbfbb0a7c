//! An IoT service whose use is authorized by a grant list and recorded (Y.4464 clauses 10.4
//! and 10.5): the owner grants accounts the right to use the service until a block height; each
//! use is checked and appended to an audit log that cannot be rewritten. An off-chain service
//! checks `is_authorized` before serving a request.

use bot_sdk::collections::{Log, Map};
use bot_sdk::events::Event as _;
use bot_sdk::{Address, access, env};

#[bot_sdk::contract]
pub struct Service {
    name: String,
    description: String,
}

#[bot_sdk::data]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The grant is valid while the block height is below this; `None` never expires.
    pub expires_at: Option<u64>,
    pub granted_at: u64,
}

#[bot_sdk::data]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    pub who: Address,
    pub request: String,
    pub height: u64,
    pub time_ms: u64,
}

#[bot_sdk::event]
pub struct AccessRecorded {
    pub index: u64,
    pub who: Address,
    pub request: String,
}

#[bot_sdk::error]
pub enum ServiceError {
    /// The caller holds no grant for this service.
    NoGrant,
    /// The caller's grant has expired.
    GrantExpired,
}

const GRANTS: Map<Address, Grant> = Map::new("grants");
const AUDIT: Log<Access> = Log::new("audit");

fn check(who: Address) -> Result<Grant, ServiceError> {
    let grant = GRANTS.get(&who).ok_or(ServiceError::NoGrant)?;
    match grant.expires_at {
        Some(h) if env::block_height() >= h => Err(ServiceError::GrantExpired),
        _ => Ok(grant),
    }
}

#[bot_sdk::contract]
impl Service {
    /// The caller becomes the owner, who grants and revokes access.
    #[init]
    pub fn new(name: String, description: String) -> Self {
        access::init_owner(env::caller());
        Service { name, description }
    }

    pub fn grant(
        &mut self,
        who: Address,
        expires_at: Option<u64>,
    ) -> Result<(), bot_sdk::ContractError> {
        access::require_owner()?;
        GRANTS.insert(
            &who,
            &Grant {
                expires_at,
                granted_at: env::block_height(),
            },
        );
        Ok(())
    }

    pub fn revoke(&mut self, who: Address) -> Result<(), bot_sdk::ContractError> {
        access::require_owner()?;
        GRANTS.remove(&who);
        Ok(())
    }

    /// Uses the service: checks the caller's grant and records the access. Returns the access
    /// record's index, which the off-chain service can look up.
    pub fn use_service(&mut self, request: String) -> Result<u64, ServiceError> {
        let who = env::caller();
        check(who)?;
        let index = AUDIT.push(&Access {
            who,
            request: request.clone(),
            height: env::block_height(),
            time_ms: env::block_time(),
        });
        AccessRecorded {
            index,
            who,
            request,
        }
        .emit();
        Ok(index)
    }

    #[view]
    pub fn info(&self) -> (String, String, Option<Address>) {
        (self.name.clone(), self.description.clone(), access::owner())
    }

    #[view]
    pub fn is_authorized(&self, who: Address) -> bool {
        check(who).is_ok()
    }

    /// Up to `limit` access records from index `from`.
    #[view]
    pub fn accesses(&self, from: u64, limit: u32) -> Vec<(u64, Access)> {
        AUDIT.page(from, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bot_sdk::testing::{self, account};

    fn setup() -> Service {
        testing::set_caller(account("owner"));
        let mut s = Service::new("air-quality".into(), "PM2.5 readings on request".into());
        s.grant(account("app"), Some(100)).unwrap();
        s
    }

    #[test]
    fn a_granted_caller_uses_the_service_and_is_recorded() {
        let mut s = setup();
        testing::set_caller(account("app"));
        testing::set_block(50, 5_000);
        assert_eq!(s.use_service("read pm25".into()), Ok(0));
        let log = s.accesses(0, 10);
        assert_eq!(log[0].1.who, account("app"));
        assert_eq!(log[0].1.height, 50);
        assert_eq!(testing::events()[0].name, "access_recorded");
    }

    #[test]
    fn grants_expire_and_can_be_revoked() {
        let mut s = setup();
        testing::set_caller(account("app"));
        testing::set_block(100, 10_000);
        assert_eq!(
            s.use_service("late".into()),
            Err(ServiceError::GrantExpired)
        );
        testing::set_caller(account("stranger"));
        assert_eq!(s.use_service("x".into()), Err(ServiceError::NoGrant));
        testing::set_caller(account("owner"));
        s.revoke(account("app")).unwrap();
        assert!(!s.is_authorized(account("app")));
    }

    #[test]
    fn only_the_owner_grants() {
        let mut s = setup();
        testing::set_caller(account("app"));
        let err = s.grant(account("app"), None).unwrap_err();
        assert_eq!(err.code, bot_sdk::ContractError::UNAUTHORIZED);
    }
}
