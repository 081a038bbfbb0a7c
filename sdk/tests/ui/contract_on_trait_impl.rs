#[bot_sdk::contract]
pub struct Counter {
    count: u64,
}

#[bot_sdk::contract]
impl Default for Counter {
    fn default() -> Self {
        Counter { count: 0 }
    }
}

#[bot_sdk::contract(version = 2)]
impl Counter {}

fn main() {}
