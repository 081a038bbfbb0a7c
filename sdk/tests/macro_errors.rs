//! The macros' compile errors: each `tests/ui/*.rs` must fail to compile with exactly the
//! message and span in its `.stderr` file. Regenerate after an intended change with
//! `TRYBUILD=overwrite cargo test -p bot-sdk --test macro_errors`.

#[test]
fn macro_errors_are_spanned_and_say_what_to_do() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
