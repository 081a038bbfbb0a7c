//! Access grants and registered services (Y.4464 7.2.1, 10.3 to 10.5): check that whoever asks
//! holds the right a method needs. Owners grant and revoke rights with IoT transactions (`cargo
//! bot grant add|revoke`); a contract only reads them.
//!
//! ```
//! use bot_sdk::authorization::{self, Right};
//! use bot_sdk::{testing, ContractError};
//!
//! let sensor = testing::account("sensor");
//! let reader = testing::account("reader");
//! let right = Right::ReadData { device: sensor, stream: Some("temperature".into()) };
//! assert_eq!(authorization::require(reader, &right).unwrap_err().code, ContractError::UNAUTHORIZED);
//!
//! // A grant over every stream covers one stream.
//! testing::grant(reader, Right::ReadData { device: sensor, stream: None }, Some(2_000_000_000_000));
//! assert!(authorization::require(reader, &right).is_ok());
//! ```

use crate::sys::authorization as wit;
use crate::{Address, ContractError};

/// A right an owner grants over its device or service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Right {
    /// Read one stream of a device, or (`None`) every stream.
    ReadData {
        device: Address,
        stream: Option<String>,
    },
    /// Send commands to a device.
    Command { device: Address },
    /// Call one method of a service, or (`None`) every method.
    CallService {
        service: Address,
        method: Option<String>,
    },
}

impl Right {
    pub(crate) fn to_wit(&self) -> wit::Right {
        match self {
            Right::ReadData { device, stream } => wit::Right::ReadData(wit::DataScope {
                device: device.0.to_vec(),
                stream: stream.clone(),
            }),
            Right::Command { device } => wit::Right::Command(device.0.to_vec()),
            Right::CallService { service, method } => wit::Right::CallService(wit::ServiceScope {
                service: service.0.to_vec(),
                method: method.clone(),
            }),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Right::ReadData { device, stream } => match stream {
                Some(s) => format!("read stream `{s}` of device {device}"),
                None => format!("read every stream of device {device}"),
            },
            Right::Command { device } => format!("command device {device}"),
            Right::CallService { service, method } => match method {
                Some(m) => format!("call `{m}` on service {service}"),
                None => format!("call any method of service {service}"),
            },
        }
    }
}

/// A live grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub granter: Address,
    /// Block time (ms) it stops at, if it does.
    pub expires_ms: Option<u64>,
    /// Block time it was granted at.
    pub granted_at: u64,
}

/// A contract registered as an IoT service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub contract: Address,
    pub owner: Address,
    pub name: String,
    pub description: String,
    /// Only its owner and grantees may call it.
    pub granted: bool,
    pub registered_at: u64,
}

/// The live grant by which `holder` has `right` now (a grant of that right, or of the same
/// right over every stream or method), if any.
pub fn check(holder: Address, right: &Right) -> Option<Grant> {
    wit::check(&holder.0, &right.to_wit()).map(|g| Grant {
        granter: Address::from_host(g.granter),
        expires_ms: g.expires_ms,
        granted_at: g.granted_at,
    })
}

/// Like [`check`], but a missing or expired grant is an `UNAUTHORIZED` error naming the right.
pub fn require(holder: Address, right: &Right) -> Result<Grant, ContractError> {
    check(holder, right).ok_or_else(|| {
        ContractError::unauthorized(&format!(
            "{holder} holds no live grant to {}",
            right.describe()
        ))
    })
}

/// The registered service at `contract`.
pub fn service(contract: Address) -> Option<Service> {
    wit::get_service(&contract.0).map(|s| Service {
        contract: Address::from_host(s.contract),
        owner: Address::from_host(s.owner),
        name: s.name,
        description: s.description,
        granted: s.granted,
        registered_at: s.registered_at,
    })
}
