//! `cargo xtask`: LLMscope's project automation (the alias lives in `.cargo/config.toml`).
//!
//! Every task says what it is doing, installs what it needs when the right version is missing
//! (so a fresh machine works and a warm one is fast), and fails with a message that says what to
//! do next. Subcommands are declared in [`flags`]; each task has its own module.

mod bench;
mod degradations;
mod faults;
mod flags;
mod fleet;
mod fuzz;
mod setup;
mod site;
mod soak;
mod test;
mod tidy;
mod util;
mod worker;

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
        flags::Task::Site => site::build().map(|_| ()),
        flags::Task::Bench { quick } => bench::run(quick),
        flags::Task::BenchExplain => bench::explain_in_browser(),
        flags::Task::Wasm => {
            setup::wasm_node_package().map(|dir| println!("built {}", dir.display()))
        }
        flags::Task::Worker => worker::build().map(|dir| println!("built {}", dir.display())),
        flags::Task::Peers => setup::peers().map(|py| println!("peers ready: {}", py.display())),
        flags::Task::Soak { minutes } => soak::run(minutes),
        flags::Task::Fuzz { seconds } => fuzz::run(seconds),
        flags::Task::Faults { out, seed, cases } => faults::run(out, seed, cases),
        flags::Task::Degradations { args } => degradations::run(&args),
        flags::Task::Fleet { args } => fleet::run_fleet(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Where `cargo xtask start` serves the dashboard and its live data (the WebSocket is `/ws` on
/// the same port). The shim's default allowed origins are this address and `localhost:8080`.
const START_ADDR: &str = "127.0.0.1:8080";

/// The main job: the dashboard with live data. Builds the site and the shim, then runs the
/// demo plant (`llmscope-shim simulate`, real Modbus TCP inside), which serves the site and the
/// stream on one port. Ctrl-C reaches the shim, which stops cleanly; this task waits for it.
fn start() -> Result<(), String> {
    use std::net::TcpStream;
    use std::time::{Duration, Instant};

    if TcpStream::connect(START_ADDR).is_ok() {
        return Err(format!(
            "something already listens on {START_ADDR} (another `cargo xtask start`?): stop it and run again"
        ));
    }
    let site = site::build()?;
    util::say("building llmscope-shim (release)");
    util::run(util::cargo().args(["build", "--release", "-p", "gateway-shim"]))?;
    let shim = util::root().join("target/release/llmscope-shim");
    util::say("starting the simulated plant and the dashboard's server (llmscope-shim simulate)");
    let mut server = std::process::Command::new(&shim)
        .args(["simulate", "--listen", START_ADDR, "--site"])
        .arg(&site)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", shim.display()))?;
    ignore_ctrl_c();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(START_ADDR).is_err() {
        if let Ok(Some(status)) = server.try_wait() {
            return Err(format!("llmscope-shim stopped before serving ({status})"));
        }
        if Instant::now() > deadline {
            let _ = server.kill();
            let _ = server.wait();
            return Err(format!(
                "llmscope-shim did not listen on {START_ADDR} within 30 s"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!();
    println!("    Open http://{START_ADDR}/?live=1");
    println!();
    println!(
        "    the dashboard: its built-in LLM and machine simulators, plus the simulated plant"
    );
    println!("    streaming live from ws://{START_ADDR}/ws (Ctrl-C stops)");
    println!();
    let status = server
        .wait()
        .map_err(|e| format!("waiting for llmscope-shim: {e}"))?;
    if status.success() {
        util::say("stopped");
        Ok(())
    } else {
        Err(format!("llmscope-shim ended with {status}"))
    }
}

/// Ctrl-C interrupts the whole foreground process group: the shim handles it and shuts down;
/// this process ignores it so it can wait for that and report, instead of dying first.
fn ignore_ctrl_c() {
    #[cfg(unix)]
    {
        extern "C" {
            fn signal(signum: i32, handler: usize) -> usize;
        }
        const SIGINT: i32 = 2;
        const SIG_IGN: usize = 1;
        // SAFETY: installs the kernel's "ignore" disposition, no Rust handler runs; called after
        // the child was spawned, so the child keeps the default disposition.
        unsafe {
            signal(SIGINT, SIG_IGN);
        }
    }
}
