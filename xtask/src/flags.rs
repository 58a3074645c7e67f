//! Every xtask subcommand, in one place.

pub const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  start         the main job: builds the dashboard and serves it with live data from the simulated
                plant on http://127.0.0.1:8080 (Ctrl-C stops)
  test          every test: workspace tests, the browser tests of the site in headless Chromium,
                the wasm32 builds, the Node.js test of the wasm API and the repository checks
                (installs what it needs when missing: Chromium, the wasm target, wasm-bindgen-cli,
                wasm-opt)
  site          build the dashboard into static/ (hashed wasm, JS and CSS in static/pkg/, and
                index.html from index.template.html), and check its size
  bench [--quick]
                criterion benchmarks, the end-to-end analyze benchmark on a 10-million-line CSV,
                and the Node.js wasm path against native; prints the numbers for docs/benchmarks.md
  bench explain
                only the explain benchmark in headless Chromium against native (issue 13's
                200 episodes over 200 streams x 10,000 points)
  wasm          build the engine for Node.js into target/wasm-node/ (what the Node.js test uses)
  worker        build the probe Worker into workers/build/ with worker-build and the local tools
                (wrangler.toml's build command; installs worker-build and wrangler when missing)
  peers         install the shim's test peers (mosquitto, socat, pymodbus, asyncua)
  soak [--minutes N]
                the shim's soak test (not in CI): `llmscope-shim simulate` for N minutes (default
                30) with 20 clients connecting and dropping at random; prints RSS over time and
                fails on any seq hole without a gap frame
  fuzz [--seconds N]
                coverage-guided fuzzing (cargo-fuzz) of every parser of outside input, N seconds
                per target (default 60; not in CI; installs cargo-fuzz); prints corpus sizes
  faults [--out DIR] [--seed N] [--cases N]
                write issue 13's seeded labelled faults as CSV files for `llmscope-shim explain`
                and their labels.csv into DIR (default target/faults): N cases (default 10) of
                each of the eight shapes, of coupled faults and of recurring motifs
  degradations [--out DIR] [--per-kind N] [--seed S]
                seeded run-to-failure curves (linear, exponential, step then drift, maintenance
                reset, in control; half with AR(1) noise) as CSVs and labels.csv (default
                target/degradations)
  fleet --nodes N --metrics M --rate HZ --broker mqtt://HOST:PORT [--sparkplug] [--seconds S] [--seed K] [--changed C]
                the seeded fleet simulator: N edge nodes x M metrics published HZ times a second
                for S seconds (default 60), as the shim's JSON or (--sparkplug) Sparkplug B,
                each DDATA C of the M metrics in turn (default all; report by exception)
                (runs tests/e2e/examples/fleet_sim.rs)
  help          this text";

pub enum Task {
    Help,
    Start,
    Test,
    Site,
    Bench {
        quick: bool,
    },
    /// `bench explain`: only the browser explain benchmark.
    BenchExplain,
    Wasm,
    Worker,
    Peers,
    Soak {
        minutes: u64,
    },
    Fuzz {
        seconds: u64,
    },
    Faults {
        out: Option<std::path::PathBuf>,
        seed: u64,
        cases: u64,
    },
    Degradations {
        args: Vec<String>,
    },
    Fleet {
        args: Vec<String>,
    },
}

pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Task, String> {
    let task = match args.next().as_deref() {
        None | Some("help" | "--help" | "-h") => Task::Help,
        Some("start") => Task::Start,
        Some("test") => Task::Test,
        Some("site") => Task::Site,
        Some("wasm") => Task::Wasm,
        Some("worker") => Task::Worker,
        Some("peers") => Task::Peers,
        Some("bench") => {
            let rest: Vec<String> = args.by_ref().collect();
            return match rest.as_slice() {
                [] => Ok(Task::Bench { quick: false }),
                [q] if q == "--quick" => Ok(Task::Bench { quick: true }),
                [e] if e == "explain" => Ok(Task::BenchExplain),
                other => Err(format!("bench: unexpected arguments {other:?}")),
            };
        }
        Some("soak") => {
            let minutes = whole("soak", "--minutes", crate::soak::DEFAULT_MINUTES, args)?;
            return Ok(Task::Soak { minutes });
        }
        Some("fuzz") => {
            let seconds = whole("fuzz", "--seconds", crate::fuzz::DEFAULT_SECONDS, args)?;
            return Ok(Task::Fuzz { seconds });
        }
        Some("faults") => return faults(args),
        Some("degradations") => {
            return Ok(Task::Degradations {
                args: args.collect(),
            })
        }
        Some("fleet") => {
            return Ok(Task::Fleet {
                args: args.collect(),
            })
        }
        Some(other) => return Err(format!("unknown task '{other}'")),
    };
    match args.next() {
        Some(extra) => Err(format!("unexpected argument '{extra}'")),
        None => Ok(task),
    }
}

/// `faults`' flags, each at most once, in any order.
fn faults(mut args: impl Iterator<Item = String>) -> Result<Task, String> {
    let (mut out, mut seed, mut cases) = (None, crate::faults::DEFAULT_SEED, None);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("faults: {flag} needs a value"))?;
        match flag.as_str() {
            "--out" => out = Some(std::path::PathBuf::from(value)),
            "--seed" => {
                seed = value
                    .parse()
                    .map_err(|_| format!("faults: --seed takes a whole number, not '{value}'"))?
            }
            "--cases" => {
                cases = Some(whole(
                    "faults",
                    "--cases",
                    0,
                    ["--cases".into(), value].into_iter(),
                )?)
            }
            other => return Err(format!("faults: unexpected argument '{other}'")),
        }
    }
    Ok(Task::Faults {
        out,
        seed,
        cases: cases.unwrap_or(crate::faults::DEFAULT_CASES),
    })
}

/// The rest of `task`'s arguments: nothing (`default`) or `flag N` with N a whole number > 0.
fn whole(
    task: &str,
    flag: &str,
    default: u64,
    args: impl Iterator<Item = String>,
) -> Result<u64, String> {
    let rest: Vec<String> = args.collect();
    match rest.as_slice() {
        [] => Ok(default),
        [f, n] if f == flag => match n.parse::<u64>() {
            Ok(v) if v > 0 => Ok(v),
            _ => Err(format!(
                "{task}: {flag} takes a whole number above 0, not '{n}'"
            )),
        },
        other => Err(format!("{task}: unexpected arguments {other:?}")),
    }
}
