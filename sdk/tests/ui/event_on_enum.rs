#[bot_sdk::event]
pub enum Happened {
    Started,
}

#[bot_sdk::event(name = "")]
pub struct Empty {}

fn main() {}
