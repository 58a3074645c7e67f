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

/// The main job. Until the dashboard lands, it analyzes a bundled example with the shim and
/// prints the report a person reads.
fn start() -> Result<(), String> {
    let root = util::root();
    let example = root.join("spc-wasm/tests/data/pistonrings.csv");
    util::say("building llmscope-shim (release)");
    util::run(util::cargo().args(["build", "--release", "-p", "gateway-shim"]))?;
    util::say(
        "analyzing Montgomery's piston-ring data: X-bar/R, 25 baseline subgroups, Nelson tests",
    );
    let shim = root.join("target/release/llmscope-shim");
    util::run(
        std::process::Command::new(shim)
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
    )
}
