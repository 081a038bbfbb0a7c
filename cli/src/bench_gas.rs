//! `cargo bot bench gas`: what a contract method costs and where the gas goes, for contract
//! authors; and `--calibrate`, the cost table measured against this machine's clock.

use anyhow::Result;
use bot_engine::COST_TABLE_VERSION;
use bot_sandbox_engine::Receipt;
use serde_json::{Value, json};

use crate::run::{Run, RunArgs};

/// Runs the method (after the initializer, if any) as `cargo bot run` does and reports the gas
/// of each receipt with its breakdown.
pub fn method(args: &RunArgs) -> Result<Value> {
    let Run { init, call, .. } = crate::run::run(args)?;
    let params = bot_chain::Params::default();
    Ok(json!({
        "file": args.file.display().to_string(),
        "cost_table_version": COST_TABLE_VERSION,
        "init": init.as_ref().map(receipt),
        "call": call.as_ref().map(receipt),
        "transaction_intrinsic_gas": {
            "base": params.tx_base_gas,
            "per_byte": params.tx_byte_gas,
        },
    }))
}

/// One receipt's gas: total, wasm instructions, each host function, storage bytes.
pub fn receipt(r: &Receipt) -> Value {
    let b = &r.breakdown;
    let mut out = json!({
        "method": r.method,
        "status": if r.is_ok() { "ok" } else { "error" },
        "gas_used": r.gas_used,
        "wasm_gas": b.wasm_gas(r.gas_used),
        "host": b.host.iter().map(|u| json!({"name": u.name, "calls": u.calls, "gas": u.gas})).collect::<Vec<_>>(),
        "storage_bytes_read": b.storage_bytes_read,
        "storage_bytes_written": b.storage_bytes_written,
    });
    if let Err(f) = &r.result {
        out["error"] = json!({ "kind": f.kind.name(), "message": f.message });
    }
    out
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// The report as a table per receipt.
pub fn print(report: &Value) {
    println!(
        "{} (cost table v{})",
        report["file"].as_str().unwrap_or_default(),
        report["cost_table_version"]
    );
    for key in ["init", "call"] {
        let r = &report[key];
        if r.is_null() {
            continue;
        }
        let total = r["gas_used"].as_u64().unwrap_or(0);
        println!();
        println!(
            "{}: {} gas{}",
            r["method"].as_str().unwrap_or_default(),
            group(total),
            match r["error"]["message"].as_str() {
                Some(m) => format!("  (failed: {m})"),
                None => String::new(),
            }
        );
        let line = |name: &str, calls: String, gas: u64| {
            println!(
                "  {name:<26} {calls:>7} {:>14} {:>6.1}%",
                group(gas),
                percent(gas, total)
            );
        };
        line(
            "wasm instructions",
            String::new(),
            r["wasm_gas"].as_u64().unwrap_or(0),
        );
        for u in r["host"].as_array().into_iter().flatten() {
            line(
                u["name"].as_str().unwrap_or_default(),
                format!("{}x", u["calls"]),
                u["gas"].as_u64().unwrap_or(0),
            );
        }
        println!(
            "  storage bytes: {} read, {} written",
            r["storage_bytes_read"], r["storage_bytes_written"]
        );
    }
    let intrinsic = &report["transaction_intrinsic_gas"];
    println!(
        "\nAs a transaction it also pays {} gas plus {} per byte of the signed transaction.",
        group(intrinsic["base"].as_u64().unwrap_or(0)),
        intrinsic["per_byte"]
    );
}

/// 1234567 as "1,234,567".
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The calibration, printed or as JSON; whether every row is within the band.
pub fn calibrate(
    json: bool,
    only: Option<String>,
    repeats: usize,
    singlepass: bool,
) -> Result<bool> {
    if repeats == 0 {
        anyhow::bail!("--repeats must be at least 1");
    }
    if !json {
        eprintln!(
            "measuring every instruction class and host function, then the adversarial set \
             (about {} minutes on 2 cores; `--only NAME` for some rows)...",
            if singlepass { 10 } else { 8 }
        );
    }
    let report = bot_calibrate::calibrate(&bot_calibrate::Options {
        repeats,
        only,
        singlepass,
        ..bot_calibrate::Options::default()
    });
    if report.rows.is_empty() {
        anyhow::bail!("--only matched no row (rows are named like `plain`, `storage.get 32 B`)");
    }
    if json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    Ok(report.passes())
}

#[cfg(test)]
mod tests {
    use super::group;

    #[test]
    fn groups_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1_000), "1,000");
        assert_eq!(group(1_234_567), "1,234,567");
    }
}
