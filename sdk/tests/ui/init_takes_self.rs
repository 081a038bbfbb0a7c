#[bot_sdk::contract]
pub struct Counter {
    count: u64,
}

#[bot_sdk::contract]
impl Counter {
    #[init]
    pub fn new(&mut self) -> Self {
        Counter { count: 0 }
    }
}

fn main() {}
