#[bot_sdk::error]
pub enum MyError {
    /// The device is unknown.
    UnknownDevice(u64),
}

#[bot_sdk::error]
pub enum Codes {
    /// Below the SDK's range.
    TooLow = 7,
}

#[bot_sdk::error]
pub enum Duplicate {
    /// First.
    A = 100,
    /// Second, same code.
    B = 100,
}

fn main() {}
