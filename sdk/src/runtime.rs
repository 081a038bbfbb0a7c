//! Aborting a call and logging for developers.

use crate::sys::runtime as wit;

/// Ends the call with a trap carrying `message`; nothing it wrote is kept.
pub fn abort(message: &str) -> ! {
    wit::abort(message);
    // The host never returns from abort.
    unreachable!()
}

/// A debug line, shown by `cargo bot run`; never part of results or consensus.
pub fn log(message: &str) {
    wit::log(message)
}
