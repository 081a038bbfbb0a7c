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

    pub fn add<T: Into<u64>>(&mut self, by: T) {
        self.count += by.into();
    }

    pub async fn later(&mut self) {}
}

fn main() {}
