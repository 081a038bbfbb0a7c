#[bot_sdk::data]
pub struct Reading<'a> {
    pub unit: &'a str,
}

#[bot_sdk::data]
pub struct Sample {
    pub value: f32,
}

fn main() {}
