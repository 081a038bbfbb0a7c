#[bot_sdk::contract]
pub struct Thermostat {
    target: u32,
}

#[bot_sdk::contract]
impl Thermostat {
    #[init]
    pub fn new() -> Self {
        Thermostat { target: 20 }
    }

    pub fn set(&mut self, celsius: f64) {
        self.target = celsius as u32;
    }

    #[view]
    pub fn size(&self) -> usize {
        0
    }
}

fn main() {}
