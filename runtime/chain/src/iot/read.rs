//! Reading the IoT registries: what the RPC serves and the off-chain checks use. Lists are
//! paged: pass the last item's key (`after`) to read the next page.

use bot_engine::Address;

use super::model::{AccessRecord, Command, CommandState, Device, Grant, Reading, Right, Service};
use crate::exec::BlockView;
use crate::{ChainError, layout};

fn decode<T: borsh::BorshDeserialize>(bytes: &[u8]) -> Result<T, ChainError> {
    borsh::from_slice(bytes).map_err(|e| ChainError::State(format!("corrupt IoT entry: {e}")))
}

/// The grant that lets `grantee` use `right` at block time `time_ms` (the exact right, or the
/// same right over every stream or method), or why there is none.
pub fn check_grant(
    view: &BlockView,
    right: &Right,
    grantee: &Address,
    time_ms: u64,
) -> Result<Result<Grant, String>, ChainError> {
    let mut expired = None;
    for candidate in std::iter::once(right.clone()).chain(right.wildcard()) {
        if let Some(grant) = view.decode::<Grant>(&layout::grant(&candidate, grantee))? {
            if grant.is_live(time_ms) {
                return Ok(Ok(grant));
            }
            expired = grant.expires_ms;
        }
    }
    Ok(Err(match expired {
        Some(at) => format!(
            "its grant to {} expired at block time {at}",
            right.describe()
        ),
        None => format!("it holds no grant to {}", right.describe()),
    }))
}

/// Part of a list: what was found, and where the next part starts (`None`: nothing is left).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T, C> {
    pub items: Vec<T>,
    pub next: Option<C>,
    /// Entries read to find them.
    pub scanned: usize,
}

/// Which devices to list.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeviceFilter<'a> {
    pub owner: Option<&'a Address>,
    pub gateway: Option<&'a Address>,
    pub kind: Option<&'a str>,
}

impl BlockView {
    pub fn device(&self, id: &Address) -> Result<Option<Device>, ChainError> {
        self.decode(&layout::device(id))
    }

    /// Up to `limit` devices after `after` (by id), filtered, reading at most `max_scan`
    /// entries of the registry's index to find them: a filter that matches little cannot
    /// make one call walk the whole registry. [`Page::next`] is where to go on from.
    pub fn devices(
        &self,
        filter: DeviceFilter<'_>,
        after: Option<&Address>,
        limit: usize,
        max_scan: usize,
    ) -> Result<Page<Device, Address>, ChainError> {
        let mut out = Vec::new();
        let mut cursor = after.copied();
        let mut scanned = 0usize;
        // An index gives ids; the registry gives the devices. A kind filter reads on until
        // `limit` match, the index ends or the budget does.
        let prefix = match (filter.owner, filter.gateway) {
            (Some(owner), _) => layout::devices_of_owner(owner),
            (None, Some(gateway)) => layout::devices_of_gateway(gateway),
            (None, None) => layout::DEVICES.to_vec(),
        };
        while out.len() < limit {
            if scanned >= max_scan {
                return Ok(Page {
                    items: out,
                    next: cursor,
                    scanned,
                });
            }
            let after_key = cursor.map(|c| {
                let mut k = prefix.clone();
                k.extend_from_slice(&c.0);
                k
            });
            let want = (limit - out.len()).clamp(16, 256).min(max_scan - scanned);
            let page = self.scan_prefix(&prefix, after_key.as_deref(), false, want)?;
            if page.is_empty() {
                return Ok(Page {
                    items: out,
                    next: None,
                    scanned,
                });
            }
            for (key, _) in &page {
                let id = Address::from_slice(&key[prefix.len()..])
                    .ok_or_else(|| ChainError::State("corrupt device index key".into()))?;
                cursor = Some(id);
                scanned += 1;
                let Some(device) = self.device(&id)? else {
                    continue;
                };
                let keep = filter
                    .gateway
                    .is_none_or(|g| device.gateway.as_ref() == Some(g))
                    && filter.kind.is_none_or(|k| device.kind == k);
                if keep {
                    out.push(device);
                    if out.len() == limit {
                        break;
                    }
                }
            }
        }
        Ok(Page {
            items: out,
            next: cursor,
            scanned,
        })
    }

    /// Readings of `stream` of `device` with counters in [`from`, `to`], oldest first (or
    /// newest first if `newest_first`), at most `limit`.
    pub fn readings(
        &self,
        device: &Address,
        stream: &str,
        from: Option<u64>,
        to: Option<u64>,
        newest_first: bool,
        limit: usize,
    ) -> Result<Vec<Reading>, ChainError> {
        let start = layout::reading(device, stream, from.unwrap_or(0));
        let end = match to.and_then(|t| t.checked_add(1)) {
            Some(t) => layout::reading(device, stream, t),
            None => {
                let mut end = layout::stream(device, stream);
                end.extend_from_slice(&[0xff; 9]);
                end
            }
        };
        self.scan_keys(start, Some(end), newest_first, limit)?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }

    /// The newest reading of `stream` of `device`.
    pub fn latest_reading(
        &self,
        device: &Address,
        stream: &str,
    ) -> Result<Option<Reading>, ChainError> {
        Ok(self.readings(device, stream, None, None, true, 1)?.pop())
    }

    pub fn service(&self, contract: &Address) -> Result<Option<Service>, ChainError> {
        self.decode(&layout::service(contract))
    }

    pub fn services(
        &self,
        after: Option<&Address>,
        limit: usize,
    ) -> Result<Vec<Service>, ChainError> {
        let after = after.map(layout::service);
        self.scan_prefix(layout::SERVICES, after.as_deref(), false, limit)?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }

    /// Grants over a device or service (to `grantee` only, if given).
    pub fn grants(
        &self,
        target: &Address,
        grantee: Option<&Address>,
        limit: usize,
    ) -> Result<Vec<Grant>, ChainError> {
        self.scan_prefix(&layout::grants(target, grantee), None, false, limit)?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }

    /// The commands sent to `device` with ids from `from` on, oldest first; only the pending
    /// ones if `pending`; at most `limit`, reading at most `max_scan` of them. [`Page::next`]
    /// is the id to go on from.
    pub fn commands(
        &self,
        device: &Address,
        from: u64,
        pending: bool,
        limit: usize,
        max_scan: usize,
    ) -> Result<Page<Command, u64>, ChainError> {
        let mut out = Vec::new();
        let mut next = from;
        let mut scanned = 0usize;
        let end = layout::command(device, u64::MAX);
        while out.len() < limit {
            if scanned >= max_scan {
                return Ok(Page {
                    items: out,
                    next: Some(next),
                    scanned,
                });
            }
            let want = (limit - out.len()).clamp(16, 256).min(max_scan - scanned);
            let start = layout::command(device, next);
            let page = self.scan_keys(start, Some(end.clone()), false, want)?;
            if page.is_empty() {
                return Ok(Page {
                    items: out,
                    next: None,
                    scanned,
                });
            }
            for (_, v) in &page {
                let command: Command = decode(v)?;
                scanned += 1;
                next = command.id.saturating_add(1);
                if !pending || command.state == CommandState::Pending {
                    out.push(command);
                    if out.len() == limit {
                        break;
                    }
                }
            }
        }
        Ok(Page {
            items: out,
            next: Some(next),
            scanned,
        })
    }

    /// Command `id` sent to `device`.
    pub fn command(&self, device: &Address, id: u64) -> Result<Option<Command>, ChainError> {
        self.decode(&layout::command(device, id))
    }

    /// A device's or service's audit trail from record `from` on.
    pub fn audit(
        &self,
        target: &Address,
        from: u64,
        limit: usize,
    ) -> Result<Vec<AccessRecord>, ChainError> {
        self.scan_keys(
            layout::audit_record(target, from),
            crate::layout::audit_record(target, u64::MAX).into(),
            false,
            limit,
        )?
        .iter()
        .map(|(_, v)| decode(v))
        .collect()
    }
}

/// The off-chain service's check (Y.4464 10.5): that `proof` proves, against a block's
/// `state_root`, a grant of `right` (or the same right over every stream or method) to
/// `grantee` that is live at `time_ms`. Needs nothing but the proof and a trusted header.
pub fn verify_grant_proof(
    proof: &bot_state::StateProof,
    state_root: &crate::Hash,
    right: &Right,
    grantee: &Address,
    time_ms: u64,
) -> Result<Grant, String> {
    proof.verify(state_root)?;
    let names_this_grant = std::iter::once(right.clone())
        .chain(right.wildcard())
        .any(|r| layout::grant(&r, grantee) == proof.key);
    if !names_this_grant {
        return Err(format!(
            "the proof is for another key, not a grant to {} for {grantee}",
            right.describe()
        ));
    }
    let bytes = proof.value.as_deref().ok_or_else(|| {
        format!(
            "the proof shows that {grantee} holds no grant to {}",
            right.describe()
        )
    })?;
    let grant: Grant =
        borsh::from_slice(bytes).map_err(|e| format!("the proven value is not a grant: {e}"))?;
    if !grant.is_live(time_ms) {
        return Err(format!(
            "the grant to {} expired at block time {}",
            right.describe(),
            grant.expires_ms.unwrap_or_default()
        ));
    }
    Ok(grant)
}
