//! `llmscope-shim`: the plant-side binary of LLMscope. Today it has one subcommand, `analyze`,
//! which runs the SPC engine over a CSV export and prints a report (JSON, CSV or text).

use clap::{Parser, Subcommand};
use llmscope_shim::analyze;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "llmscope-shim", version, about = "LLMscope's shim: SPC on CSV exports", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a control chart and the tests for special causes over a CSV file.
    Analyze(analyze::AnalyzeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("llmscope-shim: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
