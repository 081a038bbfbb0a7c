//! Device telemetry: the owner registers devices, each device (or the gateway reporting for
//! it) submits readings, anyone reads the latest reading or a time range (Y.4464 clause 10.7).

use bot_sdk::collections::Map;
use bot_sdk::events::Event as _;
use bot_sdk::storage::Order;
use bot_sdk::{Address, access, env};

#[bot_sdk::contract]
pub struct Telemetry {
    /// Readings kept per device; the oldest are dropped beyond it.
    retention: u32,
}

#[bot_sdk::data]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub kind: String,
    /// The account that signs this device's reports: the device itself or its gateway.
    pub reporter: Address,
    pub active: bool,
    pub readings: u64,
}

#[bot_sdk::data]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    /// Block time of the report, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The value in milli-units (integers keep every node's result the same).
    pub value: i64,
    pub unit: String,
}

#[bot_sdk::event]
pub struct ReadingReported {
    pub device: String,
    pub value: i64,
    pub at_ms: u64,
}

#[bot_sdk::error]
pub enum TelemetryError {
    /// No device is registered under this id.
    UnknownDevice,
    /// A device with this id is already registered.
    DeviceExists,
    /// The device is suspended.
    DeviceInactive,
    /// Only the device's reporter may report its readings.
    NotReporter,
    /// Retention must be between 1 and 100000 readings.
    BadRetention,
}

const DEVICES: Map<String, Device> = Map::new("devices");
/// Readings by (device, (time, sequence)): one device's readings in time order.
const READINGS: Map<(String, (u64, u64)), Reading> = Map::new("readings");

fn device(id: &str) -> Result<Device, TelemetryError> {
    DEVICES
        .get(&id.to_string())
        .ok_or(TelemetryError::UnknownDevice)
}

#[bot_sdk::contract]
impl Telemetry {
    /// The caller becomes the owner, who alone registers and suspends devices.
    #[init]
    pub fn new(retention: u32) -> Result<Self, TelemetryError> {
        if !(1..=100_000).contains(&retention) {
            return Err(TelemetryError::BadRetention);
        }
        access::init_owner(env::caller());
        Ok(Telemetry { retention })
    }

    pub fn register_device(
        &mut self,
        id: String,
        kind: String,
        reporter: Address,
    ) -> Result<(), bot_sdk::ContractError> {
        access::require_owner()?;
        if DEVICES.contains(&id) {
            return Err(TelemetryError::DeviceExists.into());
        }
        let device = Device {
            id: id.clone(),
            kind,
            reporter,
            active: true,
            readings: 0,
        };
        DEVICES.insert(&id, &device);
        Ok(())
    }

    pub fn set_active(&mut self, id: String, active: bool) -> Result<(), bot_sdk::ContractError> {
        access::require_owner()?;
        let mut device = device(&id)?;
        device.active = active;
        DEVICES.insert(&id, &device);
        Ok(())
    }

    /// Records a reading from the device's reporter at the current block time.
    pub fn report(&mut self, id: String, value: i64, unit: String) -> Result<u64, TelemetryError> {
        let mut device = device(&id)?;
        if env::caller() != device.reporter {
            return Err(TelemetryError::NotReporter);
        }
        if !device.active {
            return Err(TelemetryError::DeviceInactive);
        }
        let at_ms = env::block_time();
        let seq = device.readings;
        READINGS.insert(&(id.clone(), (at_ms, seq)), &Reading { at_ms, value, unit });
        device.readings += 1;
        // Bounded retention: past the limit, the oldest reading goes.
        let stream = READINGS.prefix(&id);
        if device.readings > u64::from(self.retention)
            && let Some((oldest, _)) = stream.range(None, None, Order::Ascending, 1).pop()
        {
            READINGS.remove(&(id.clone(), oldest));
        }
        DEVICES.insert(&id, &device);
        ReadingReported {
            device: id,
            value,
            at_ms,
        }
        .emit();
        Ok(seq)
    }

    #[view]
    pub fn device(&self, id: String) -> Option<Device> {
        DEVICES.get(&id)
    }

    /// Up to `limit` devices after the id `after`, in id order.
    #[view]
    pub fn devices(&self, after: Option<String>, limit: u32) -> Vec<Device> {
        DEVICES
            .page(after.as_ref(), limit)
            .into_iter()
            .map(|(_, d)| d)
            .collect()
    }

    #[view]
    pub fn latest(&self, id: String) -> Option<Reading> {
        READINGS
            .prefix(&id)
            .range(None, None, Order::Descending, 1)
            .pop()
            .map(|(_, r)| r)
    }

    /// Readings with `from_ms <= at_ms < to_ms`, oldest first, at most `limit`.
    #[view]
    pub fn range(&self, id: String, from_ms: u64, to_ms: u64, limit: u32) -> Vec<Reading> {
        READINGS
            .prefix(&id)
            .range(
                Some(&(from_ms, 0)),
                Some(&(to_ms, 0)),
                Order::Ascending,
                limit,
            )
            .into_iter()
            .map(|(_, r)| r)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bot_sdk::testing::{self, account};

    fn setup() -> Telemetry {
        testing::set_caller(account("owner"));
        let mut t = Telemetry::new(3).unwrap();
        t.register_device("th-1".into(), "thermometer".into(), account("gateway"))
            .unwrap();
        t
    }

    #[test]
    fn the_reporter_reports_and_anyone_reads() {
        let mut t = setup();
        testing::set_caller(account("gateway"));
        for (i, v) in [21_500, 21_700, 22_000].into_iter().enumerate() {
            testing::set_block(10 + i as u64, 1_000 * (i as u64 + 1));
            assert_eq!(t.report("th-1".into(), v, "mC".into()), Ok(i as u64));
        }
        assert_eq!(t.latest("th-1".into()).map(|r| r.value), Some(22_000));
        let range: Vec<i64> = t
            .range("th-1".into(), 1_000, 3_000, 10)
            .iter()
            .map(|r| r.value)
            .collect();
        assert_eq!(range, [21_500, 21_700]);
        assert_eq!(testing::events().len(), 3);
    }

    #[test]
    fn retention_drops_the_oldest() {
        let mut t = setup();
        testing::set_caller(account("gateway"));
        for i in 0..5 {
            testing::set_block(i, 1_000 * i);
            t.report("th-1".into(), i as i64, "mC".into()).unwrap();
        }
        let kept: Vec<i64> = t
            .range("th-1".into(), 0, u64::MAX, 10)
            .iter()
            .map(|r| r.value)
            .collect();
        assert_eq!(kept, [2, 3, 4]);
    }

    #[test]
    fn only_the_owner_administers_and_only_the_reporter_reports() {
        let mut t = setup();
        testing::set_caller(account("mallory"));
        let err = t
            .register_device("x".into(), "k".into(), account("mallory"))
            .unwrap_err();
        assert_eq!(err.code, bot_sdk::ContractError::UNAUTHORIZED);
        assert_eq!(
            t.report("th-1".into(), 1, "mC".into()),
            Err(TelemetryError::NotReporter)
        );
        testing::set_caller(account("owner"));
        t.set_active("th-1".into(), false).unwrap();
        testing::set_caller(account("gateway"));
        assert_eq!(
            t.report("th-1".into(), 1, "mC".into()),
            Err(TelemetryError::DeviceInactive)
        );
    }
}
