//! The gas calibration as a bench: `cargo bench -p bot-benches --bench gas_calibration`.
//! Prints the table (see `bot_calibrate`) and fails if any row is outside its band (±25% for
//! the friendly rows, 2x for the adversarial ones).
//! Pass a row name to measure only matching rows, e.g. `-- storage`.

fn main() {
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let report = bot_calibrate::calibrate(&bot_calibrate::Options {
        only,
        ..bot_calibrate::Options::default()
    });
    print!("{}", report.to_text());
    if !report.passes() {
        std::process::exit(1);
    }
}
