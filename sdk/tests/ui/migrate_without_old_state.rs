#[bot_sdk::contract(version = 2)]
pub struct Counter {
    count: u64,
}

#[bot_sdk::contract]
impl Counter {
    #[init]
    pub fn new() -> Self {
        Counter { count: 0 }
    }

    #[migrate]
    pub fn migrate() -> Self {
        Counter { count: 0 }
    }
}

fn main() {}
