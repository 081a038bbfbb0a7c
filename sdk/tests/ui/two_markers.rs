#[bot_sdk::contract]
pub struct Counter {
    count: u64,
}

#[bot_sdk::contract]
impl Counter {
    #[init]
    #[view]
    pub fn new() -> Self {
        Counter { count: 0 }
    }
}

fn main() {}
