//! `cargo xtask bench`: the benchmarks behind docs/benchmarks.md.

use crate::util::{self, say};

pub fn run(quick: bool) -> Result<(), String> {
    say("criterion benchmarks of the engine (cargo bench -p llmscope-spc)");
    let mut cmd = util::cargo();
    cmd.args(["bench", "-p", "llmscope-spc", "--bench", "engine"]);
    if quick {
        cmd.args(["--", "--quick"]);
    }
    util::run(&mut cmd)
}
