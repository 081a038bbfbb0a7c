#[bot_sdk::contract]
pub struct Counter {
    count: u64,
}

#[bot_sdk::contract]
impl Counter {
    pub fn increment(&mut self) {
        self.count += 1;
    }
}

fn main() {}
