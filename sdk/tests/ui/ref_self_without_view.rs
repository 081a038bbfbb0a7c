#[bot_sdk::contract]
pub struct Counter {
    count: u64,
}

#[bot_sdk::contract]
impl Counter {
    #[init]
    pub fn new() -> Self {
        Counter { count: 0 }
    }

    pub fn get(&self) -> u64 {
        self.count
    }
}

fn main() {}
