//! The engine on settings and numbers as a user or a file gives them: the tests list
//! (`1,2:8,5`), the transform name, the chart name, then values. Nothing may panic; bad input
//! is an `SpcError`.

use llmscope_fuzzkit::{linear, peak, run, Counting};
use llmscope_spc::{analyze, ChartConfig, Data};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const SEEDS: &[&[u8]] = &[
    b"nelson\nnone\nindividuals\n1 2 3 4 5 4 3 2 1 9 8 7 1 2 3 4 5 6 7 8 9 10 11 12 13",
    b"1,2:8,5\nlog\newma\n10.5 11.2 9.8 10.1 10.0 10.4 9.9 30 10.2 10.3 10.1 9.7 10.0 10.1",
    b"western-electric\nbox-cox\ncusum\n0.1 0.2 0.3 0.1 0.2 5 0.1 0.2 0.3 0.1 0.2 0.1 0.2 0.3",
    b"3,4:14\nnone\nxbar-r\n1 2 3 4|2 3 4 5|1 1 2 2|3 3 4 4|9 9 9 9|1 2 3 4|2 3 4 5|1 2 1 2",
    b"none\nnone\np\n1/50 2/50 0/50 1/50 3/50 0/50 1/50 20/50 2/50 1/50 0/50 1/50",
];

/// Parses the seed layout; anything that does not fit becomes NaN, which the engine must reject.
fn parse(input: &[u8]) -> (ChartConfig, Data) {
    let text = String::from_utf8_lossy(input);
    let mut lines = text.splitn(4, '\n');
    let mut field = || lines.next().map(str::to_owned);
    let config = ChartConfig {
        tests: field(),
        transform: field(),
        chart: field(),
        phase1: Some(8),
        ..ChartConfig::default()
    };
    let body = field().unwrap_or_default();
    let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    let data = match config.chart.as_deref() {
        Some("xbar-r" | "xbar-s") => Data::Subgroups(
            body.split('|')
                .map(|g| g.split_whitespace().map(num).collect())
                .collect(),
        ),
        Some("p" | "np" | "c" | "u") => Data::Counts(
            body.split_whitespace()
                .map(|c| {
                    c.split_once('/')
                        .map_or((num(c), 1.0), |(a, b)| (num(a), num(b)))
                })
                .collect(),
        ),
        _ => Data::Values(body.split_whitespace().map(num).collect()),
    };
    (config, data)
}

#[test]
fn fuzz_engine_settings_and_values() {
    run("engine", 2_000, 1, |gen, i| {
        let input = gen.input(SEEDS, &[b"|", b"/", b"xbar-s", b"box-cox"], 200);
        let (_, held) = peak(|| {
            let (config, data) = parse(&input);
            if let Ok(spec) = config.to_spec() {
                let _ = analyze(&spec, &data);
            }
        });
        assert!(held <= linear(input.len()), "input {i} held {held} bytes");
    });
}
