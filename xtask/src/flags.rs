//! Every xtask subcommand, in one place.

pub const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  start         the main job: an SPC report of a bundled CSV, then the simulated plant charted live
  test          every test: workspace tests, the wasm32 build, the Node.js test of the wasm API,
                and the repository checks (installs the wasm target and wasm-bindgen-cli if missing)
  bench [--quick]
                criterion benchmarks, the end-to-end analyze benchmark on a 10-million-line CSV,
                and the Node.js wasm path against native; prints the numbers for docs/benchmarks.md
  wasm          build the engine for Node.js into target/wasm-node/ (what the Node.js test uses)
  peers         install the shim's test peers (mosquitto, socat, pymodbus, asyncua)
  help          this text";

pub enum Task {
    Help,
    Start,
    Test,
    Bench { quick: bool },
    Wasm,
    Peers,
}

pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Task, String> {
    let task = match args.next().as_deref() {
        None | Some("help" | "--help" | "-h") => Task::Help,
        Some("start") => Task::Start,
        Some("test") => Task::Test,
        Some("wasm") => Task::Wasm,
        Some("peers") => Task::Peers,
        Some("bench") => {
            let rest: Vec<String> = args.by_ref().collect();
            return match rest.as_slice() {
                [] => Ok(Task::Bench { quick: false }),
                [q] if q == "--quick" => Ok(Task::Bench { quick: true }),
                other => Err(format!("bench: unexpected arguments {other:?}")),
            };
        }
        Some(other) => return Err(format!("unknown task '{other}'")),
    };
    match args.next() {
        Some(extra) => Err(format!("unexpected argument '{extra}'")),
        None => Ok(task),
    }
}
