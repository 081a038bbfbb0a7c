//! What contracts read of the IoT registries (the engine's `devices`, `authorization` and `commands`
//! interfaces): the chain's records as the engine's values. Reads see the block's earlier
//! transactions, as storage reads do.

use bot_engine::iot::{self as view, DeviceInfo, GrantInfo, ReadingInfo, ServiceInfo};
use bot_engine::{Address, HostError};

use super::model::{AccessPolicy, DeviceStatus, KeyType, Right};
use super::read::check_grant;
use crate::exec::BlockView;

fn host_error(e: crate::ChainError) -> HostError {
    HostError(e.to_string())
}

impl From<&view::Right> for Right {
    fn from(right: &view::Right) -> Right {
        match right {
            view::Right::ReadData { device, stream } => Right::ReadData {
                device: *device,
                stream: stream.clone(),
            },
            view::Right::Command { device } => Right::Command { device: *device },
            view::Right::CallService { service, method } => Right::CallService {
                service: *service,
                method: method.clone(),
            },
        }
    }
}

pub(crate) fn device(chain: &BlockView, id: &Address) -> Result<Option<DeviceInfo>, HostError> {
    Ok(chain.device(id).map_err(host_error)?.map(|d| DeviceInfo {
        id: d.id,
        owner: d.owner,
        gateway: d.gateway,
        kind: d.kind,
        metadata: d.metadata,
        status: match d.status {
            DeviceStatus::Active => view::DeviceStatus::Active,
            DeviceStatus::Suspended => view::DeviceStatus::Suspended,
            DeviceStatus::Revoked => view::DeviceStatus::Revoked,
        },
        key_type: match d.key.kind {
            KeyType::Secp256k1 => view::KeyType::Secp256k1,
            KeyType::P256 => view::KeyType::P256,
        },
        public_key: d.key.sec1,
        key_version: d.key_version,
        counter: d.counter,
        registered_at: d.registered_at,
    }))
}

pub(crate) fn readings(
    chain: &BlockView,
    device: &Address,
    stream: &str,
    after: u64,
    newest_first: bool,
    limit: usize,
) -> Result<Vec<ReadingInfo>, HostError> {
    let from = if newest_first {
        None
    } else {
        // Counters above `after`; none are above u64::MAX.
        match after.checked_add(1) {
            Some(from) => Some(from),
            None => return Ok(Vec::new()),
        }
    };
    let readings = chain
        .readings(device, stream, from, None, newest_first, limit)
        .map_err(host_error)?;
    Ok(readings
        .into_iter()
        .map(|r| ReadingInfo {
            stream: r.stream,
            counter: r.counter,
            data: r.data,
            height: r.height,
            time_ms: r.time_ms,
        })
        .collect())
}

pub(crate) fn grant(
    chain: &BlockView,
    holder: &Address,
    right: &view::Right,
    time_ms: u64,
) -> Result<Option<GrantInfo>, HostError> {
    let right = Right::from(right);
    Ok(check_grant(chain, &right, holder, time_ms)
        .map_err(host_error)?
        .ok()
        .map(|g| GrantInfo {
            granter: g.granter,
            expires_ms: g.expires_ms,
            granted_at: g.granted_at,
        }))
}

pub(crate) fn service(
    chain: &BlockView,
    contract: &Address,
) -> Result<Option<ServiceInfo>, HostError> {
    Ok(chain
        .service(contract)
        .map_err(host_error)?
        .map(|s| ServiceInfo {
            contract: s.contract,
            owner: s.owner,
            name: s.name,
            description: s.description,
            granted: s.policy == AccessPolicy::Granted,
            registered_at: s.registered_at,
        }))
}

pub(crate) fn next_command_id(view: &BlockView) -> Result<u64, HostError> {
    Ok(view
        .decode::<u64>(crate::layout::NEXT_COMMAND)
        .map_err(|e| HostError(e.to_string()))?
        .unwrap_or(0))
}
