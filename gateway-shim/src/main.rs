//! `llmscope-shim`: the plant-side binary of LLMscope.
//! - `run --config plant.toml`: Modbus, MQTT and OPC-UA sources streamed over WebSockets;
//! - `simulate`: the same with a built-in demo plant, nothing attached;
//! - `watch [URL]`: a terminal client charting every stream live;
//! - `analyze FILE`: SPC over a CSV export;
//! - `explain FILE`: why each signal of a CSV column fired;
//! - `forecast FILE`: when a CSV column will cross its limit;
//! - `compare RESULTS`: targets side by side from probe results, and a recommendation.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use llmscope_shim::{analyze, compare, config, explain, forecast, run, simulate, watch};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "llmscope-shim",
    version,
    about = "LLMscope's shim: plant data to live WebSockets, and SPC on CSV exports"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a control chart and the tests for special causes over a CSV file.
    Analyze(analyze::AnalyzeArgs),
    /// Why each signal episode of a CSV column fired: its shape, what else changed, suggested
    /// causes and similar earlier windows (takes analyze's flags).
    Explain(explain::ExplainArgs),
    /// When a CSV column will cross its limit: degradation, forecast band, time to limit and
    /// the predictive alert.
    Forecast(forecast::ForecastArgs),
    /// Compare targets from probe results (intervals, pairwise shifts) and recommend one.
    Compare(compare::CompareArgs),
    /// Stream the sources of a config file to WebSocket clients.
    Run {
        /// The config file (see gateway-shim/src/source/*/sample.toml for every section).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// A demo plant: an in-process Modbus TCP server with drifting, stepping and wearing
    /// signals, streamed through the real Modbus path.
    Simulate {
        /// Where the WebSocket server listens (a non-loopback address needs --token).
        #[arg(long, default_value = "127.0.0.1:9750")]
        listen: String,
        /// Where the simulated Modbus server listens (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:0")]
        modbus: String,
        /// Token clients must present.
        #[arg(long)]
        token: Option<String>,
        /// Also serve the dashboard's static site from this folder.
        #[arg(long, value_name = "DIR")]
        site: Option<String>,
        /// How often the shim polls the plant.
        #[arg(long, default_value_t = 250)]
        interval_ms: u64,
    },
    /// Connect to a shim and chart every stream live in the terminal (SPC per stream).
    Watch {
        /// The shim's WebSocket URL.
        #[arg(default_value = "ws://127.0.0.1:9750/ws")]
        url: String,
        /// Token, when the shim requires one (sent as an auth frame).
        #[arg(long)]
        token: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(&args).map_err(Into::into),
        Command::Explain(args) => explain::run(&args).map_err(Into::into),
        Command::Forecast(args) => forecast::run(&args).map_err(Into::into),
        Command::Compare(args) => compare::run(&args).map_err(Into::into),
        Command::Run { config } => config::load(&config)
            .map_err(Into::into)
            .and_then(|c| serve(c, None)),
        Command::Simulate {
            listen,
            modbus,
            token,
            site,
            interval_ms,
        } => simulated(
            &listen,
            &modbus,
            token.as_deref(),
            site.as_deref(),
            interval_ms,
        ),
        Command::Watch { url, token } => {
            runtime().and_then(|rt| Ok(rt.block_on(watch::watch(&url, token.as_deref()))?))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("llmscope-shim: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("cannot start the async runtime")
}

/// Runs the shim on a loaded config until Ctrl-C or SIGTERM.
fn serve(config: config::Config, note: Option<String>) -> Result<()> {
    serve_on(&runtime()?, config, note)
}

fn serve_on(
    rt: &tokio::runtime::Runtime,
    config: config::Config,
    note: Option<String>,
) -> Result<()> {
    rt.block_on(async move {
        let shutdown = run::shutdown_on_signals();
        run::run(config, shutdown, |addr| {
            if let Some(note) = note {
                println!("{note}");
            }
            println!("llmscope-shim: streaming on ws://{addr}/ws (status: http://{addr}/status); Ctrl-C stops");
        })
        .await
    })?;
    Ok(())
}

/// Starts the demo plant, then the shim against it, on one runtime.
fn simulated(
    listen: &str,
    modbus: &str,
    token: Option<&str>,
    site: Option<&str>,
    interval_ms: u64,
) -> Result<()> {
    let rt = runtime()?;
    let plant = rt
        .block_on(simulate::start_plant(
            modbus,
            tokio_util::sync::CancellationToken::new(),
        ))
        .with_context(|| format!("cannot start the simulated plant on {modbus}"))?;
    let config = simulate::config(plant, listen, token, site, interval_ms);
    config::check(&config, "simulate", None)?;
    serve_on(
        &rt,
        config,
        Some(format!(
            "llmscope-shim: simulated plant (Modbus TCP) on {plant}"
        )),
    )
}
