#[bot_sdk::contract]
pub struct Counter {
    count: u64,
}

#[bot_sdk::contract]
impl Counter {
    #[init]
    pub fn new(start: u64) -> u64 {
        start
    }
}

fn main() {}
