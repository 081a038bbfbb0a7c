#[bot_sdk::contract(version = 0)]
pub struct Counter {
    count: u64,
}

fn main() {}
