//! `cargo xtask`: LLMscope's project automation (the alias lives in `.cargo/config.toml`).
//!
//! Every task says what it is doing, installs what it needs when the right version is missing
//! (so a fresh machine works and a warm one is fast), and fails with a message that says what to
//! do next. Subcommands are declared in [`flags`]; each task has its own module.

mod bench;
mod flags;
mod setup;
mod test;
mod tidy;
mod util;

use std::process::ExitCode;

fn main() -> ExitCode {
    let task = match flags::parse(std::env::args().skip(1)) {
        Ok(task) => task,
        Err(message) => {
            eprintln!("{message}\n\n{}", flags::USAGE);
            return ExitCode::from(2);
        }
    };
    let result = match task {
        flags::Task::Help => {
            println!("{}", flags::USAGE);
            Ok(())
        }
        flags::Task::Start => start(),
        flags::Task::Test => test::run(),
        flags::Task::Bench { quick } => bench::run(quick),
        flags::Task::Wasm => {
            setup::wasm_node_package().map(|dir| println!("built {}", dir.display()))
        }
        flags::Task::Peers => setup::peers().map(|py| println!("peers ready: {}", py.display())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The main job. Until the dashboard lands: an SPC report of a bundled CSV export, then the
/// demo plant (`simulate`, real Modbus TCP inside) streamed to `watch`, which charts every
/// stream live in the terminal. Ctrl-C stops both.
fn start() -> Result<(), String> {
    let root = util::root();
    let example = root.join("spc-wasm/tests/data/pistonrings.csv");
    util::say("building llmscope-shim (release)");
    util::run(util::cargo().args(["build", "--release", "-p", "gateway-shim"]))?;
    util::say("1/2: an SPC report of a CSV export: Montgomery's piston rings, X-bar/R, 25 baseline subgroups");
    let shim = root.join("target/release/llmscope-shim");
    util::run(
        std::process::Command::new(&shim)
            .arg("analyze")
            .arg(&example)
            .args([
                "--chart",
                "xbar-r",
                "--subgroup-column",
                "subgroup",
                "--phase1",
                "25",
                "--lsl",
                "73.95",
                "--usl",
                "74.05",
                "--format",
                "text",
            ]),
    )?;
    util::say("2/2: live: the simulated plant on ws://127.0.0.1:9750/ws, charted as it streams (Ctrl-C stops)");
    let mut plant = std::process::Command::new(&shim)
        .args(["simulate", "--listen", "127.0.0.1:9750"])
        .spawn()
        .map_err(|e| format!("cannot start the simulator: {e}"))?;
    std::thread::sleep(std::time::Duration::from_millis(500));
    let watched =
        util::run(std::process::Command::new(&shim).args(["watch", "ws://127.0.0.1:9750/ws"]));
    let _ = plant.kill();
    let _ = plant.wait();
    watched
}
