//! `accelgen plan-clock`: the pooling clock divider of every pooling layer of a network.

use crate::failure::Failure;
use accelgen_config::HwConfig;
use accelgen_formats::Network;
use serde_json::Value;
use std::path::Path;

/// Prints the plan as a table or JSON.
pub(crate) fn plan_clock(file: &Path, cfg: &HwConfig, as_json: bool) -> Result<(), Failure> {
    let net = Network::load(file).map_err(Failure::Input)?;
    let rows = accelgen_compiler::planner::plan_clock(&net, cfg)
        .map_err(|e| Failure::Input(format!("{}: {e}", file.display())))?;
    if as_json {
        let v: Vec<Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "layer": r.layer, "op": r.op, "conv_layer": r.conv_layer,
                    "conv_cycles": r.conv_cycles, "budget": r.budget, "pool_cycles_full": r.pool_cycles_full,
                    "divider": r.divider, "pool_cycles": r.pool_cycles,
                    "enabled_cycles_saved": r.enabled_cycles_saved, "meets": r.meets,
                    "switch": r.switch, "overlaps": r.overlaps,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v).expect("serialises"));
        return Ok(());
    }
    println!(
        "{}: pooling clock plan, configuration {} (dividers {:?})",
        file.display(),
        cfg.name,
        cfg.pool_clock.dividers
    );
    println!(
        "{:<7} {:<10} {:>5} {:>12} {:>12} {:>12} {:>7} {:>12} {:>14} {:>6}",
        "layer", "op", "conv", "conv cycles", "budget", "pool @1", "divider", "pool @div", "enabled saved", "switch"
    );
    for r in &rows {
        let conv = r.conv_layer.map_or("-".to_string(), |c| c.to_string());
        let t = r.conv_cycles.map_or("-".to_string(), |c| c.to_string());
        let b = r.budget.map_or("-".to_string(), |c| c.to_string());
        println!(
            "{:<7} {:<10} {:>5} {:>12} {:>12} {:>12} {:>7} {:>12} {:>14} {:>6}{}",
            r.layer,
            r.op,
            conv,
            t,
            b,
            r.pool_cycles_full,
            r.divider,
            r.pool_cycles,
            r.enabled_cycles_saved,
            if r.switch { "yes" } else { "no" },
            if r.meets {
                ""
            } else if r.conv_layer.is_some() && !r.overlaps {
                "  (runs after its conv layer, at full rate)"
            } else {
                "  (misses the budget even at full rate)"
            }
        );
    }
    let saved: u64 = rows.iter().map(|r| r.enabled_cycles_saved).sum();
    let budget: u64 = rows.iter().filter_map(|r| r.conv_cycles).sum();
    if budget > 0 {
        println!(
            "enabled cycles saved: {saved} of {budget} ({:.1}%)",
            100.0 * saved as f64 / budget as f64
        );
    }
    Ok(())
}
