//! `llmscope-standin --listen 127.0.0.1:0`: serves the stand-in until killed, for manual use
//! and for tests outside Rust. Set profiles with `PUT /profiles/{profile}` (a Script as JSON)
//! and read what the probe sent with `GET /profiles/{profile}/requests`.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use llmscope_standin::Standin;

const USAGE: &str = "usage: llmscope-standin [--listen ADDR]   (default 127.0.0.1:0)";

#[tokio::main]
async fn main() -> ExitCode {
    let mut listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--listen" => args.next(),
            a if a.starts_with("--listen=") => Some(a["--listen=".len()..].to_string()),
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => {
                eprintln!("unknown argument {arg:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        };
        match value.as_deref().map(str::parse::<SocketAddr>) {
            Some(Ok(addr)) => listen = addr,
            _ => {
                eprintln!("--listen needs an address like 127.0.0.1:8080\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let standin = match Standin::start_on(listen).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("llmscope-standin: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on http://{}", standin.addr());
    let _ = std::io::stdout().flush();
    standin.serve_forever().await;
    ExitCode::FAILURE
}
