//! Bounded, deterministic fuzzing for every parser of outside input, run by `cargo test`.
//!
//! Each target is a closure over bytes. [`Target::run`] feeds it random inputs and mutations of the
//! target's valid seeds (bit flips, interesting bytes and numbers, cuts, repeats, splices), the
//! same seeded sequence on every run, so a failure reproduces by its input number. It checks
//! what a crash check alone would miss: no input makes the parser allocate more than a bound,
//! measured by [`CountingAlloc`], which the test binary installs as its global allocator.
//!
//! Each target sets its input count for `cargo test` (a few seconds); `LLMSCOPE_FUZZ_INPUTS`
//! overrides it for a longer campaign, e.g. `LLMSCOPE_FUZZ_INPUTS=1000000 cargo test --release
//! fuzz`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use llmscope_spc::Rng;

/// What a run did, for docs/security.md.
#[derive(Debug)]
pub struct Report {
    pub target: &'static str,
    pub inputs: u64,
    pub elapsed: Duration,
    /// The most bytes live at once while the target ran, over all inputs.
    pub peak_alloc: usize,
    /// The longest input, in bytes.
    pub longest_input: usize,
}

/// The global allocator for fuzz test binaries: `System`, counting live bytes and the peak.
///
/// ```ignore
/// #[global_allocator]
/// static ALLOC: llmscope_fuzzkit::CountingAlloc = llmscope_fuzzkit::CountingAlloc;
/// ```
pub struct CountingAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            INSTALLED.store(true, Ordering::Relaxed);
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

/// One fuzz target's setup: its valid seeds and its bounds.
pub struct Target<'a> {
    pub name: &'static str,
    /// Valid inputs to mutate (a parser's happy paths).
    pub seeds: &'a [&'a [u8]],
    /// Inputs in `cargo test`, unless `LLMSCOPE_FUZZ_INPUTS` says otherwise.
    pub inputs: u64,
    /// The most bytes one input may make the parser hold at once.
    pub max_alloc: usize,
}

impl Target<'_> {
    /// Runs `parse` on the inputs and fails (panics, naming the input number) when an input makes
    /// it hold more than `max_alloc` bytes above what was live before. A panic inside `parse`
    /// fails the test the same way, which is the point.
    pub fn run(&self, mut parse: impl FnMut(&[u8])) -> Report {
        let name = self.name;
        assert!(
            {
                std::hint::black_box(Vec::<u8>::with_capacity(1));
                INSTALLED.load(Ordering::Relaxed)
            },
            "{name}: install llmscope_fuzzkit::CountingAlloc as the test binary's #[global_allocator]"
        );
        let total = inputs(self.inputs);
        let mut rng = Rng::new(fnv(name));
        let mut input = Vec::new();
        let (mut peak, mut longest) = (0, 0);
        let start = Instant::now();
        for i in 0..total {
            next_input(&mut rng, self.seeds, &mut input);
            longest = longest.max(input.len());
            let before = LIVE.load(Ordering::Relaxed);
            PEAK.store(before, Ordering::Relaxed);
            parse(&input);
            let used = PEAK.load(Ordering::Relaxed).saturating_sub(before);
            assert!(
                used <= self.max_alloc,
                "{name}: input {i} ({} bytes) made the parser hold {used} bytes (bound {}): {:?}",
                input.len(),
                self.max_alloc,
                String::from_utf8_lossy(&input[..input.len().min(200)])
            );
            peak = peak.max(used);
        }
        let report = Report {
            target: name,
            inputs: total,
            elapsed: start.elapsed(),
            peak_alloc: peak,
            longest_input: longest,
        };
        eprintln!("fuzz {report:?}");
        report
    }
}

/// Inputs per target: `LLMSCOPE_FUZZ_INPUTS`, or the target's own count.
fn inputs(default: u64) -> u64 {
    std::env::var("LLMSCOPE_FUZZ_INPUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The longest input: enough for long lines and many rows; a target that must pass a size cap
/// builds such inputs itself.
pub const MAX_INPUT: usize = 16 << 10;

/// Bytes and tokens that break parsers: delimiters, quotes, escapes, bad UTF-8, framing.
const TOKENS: &[&[u8]] = &[
    b"\0", b"\n", b"\r\n", b"\"", b",", b";", b"{", b"}", b"[", b"]", b":", b"\\", b"=", b"\xff",
    b"\xc3", b"null", b"true", b"data: ", b"\n\n", b"%", b"#", b"'",
];

/// Numbers at the edges of f64, u64, i64 and i32.
const NUMBERS: &[&[u8]] = &[
    b"NaN",
    b"inf",
    b"-inf",
    b"1e999",
    b"-1e999",
    b"1e308",
    b"-0",
    b"0",
    b"1e11",
    b"18446744073709551615",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"2147483648",
];

fn next_input(rng: &mut Rng, seeds: &[&[u8]], out: &mut Vec<u8>) {
    out.clear();
    if seeds.is_empty() || rng.below(16) == 0 {
        let len = rng.below(256) as usize;
        out.extend((0..len).map(|_| rng.next_u64() as u8));
        return;
    }
    out.extend_from_slice(seeds[rng.below(seeds.len() as u64) as usize]);
    for _ in 0..=rng.below(4) {
        mutate(rng, seeds, out);
        out.truncate(MAX_INPUT);
    }
}

fn mutate(rng: &mut Rng, seeds: &[&[u8]], out: &mut Vec<u8>) {
    let at = |rng: &mut Rng, out: &Vec<u8>| rng.below(out.len() as u64 + 1) as usize;
    match rng.below(7) {
        0 if !out.is_empty() => {
            let i = rng.below(out.len() as u64) as usize;
            out[i] ^= 1 << rng.below(8);
        }
        1 => {
            let tokens = if rng.below(2) == 0 { TOKENS } else { NUMBERS };
            let token = tokens[rng.below(tokens.len() as u64) as usize];
            let i = at(rng, out);
            out.splice(i..i, token.iter().copied());
        }
        2 => {
            // Replace a run of digits by an interesting number.
            let token = NUMBERS[rng.below(NUMBERS.len() as u64) as usize];
            if let Some(i) = (0..out.len()).find(|&i| out[i].is_ascii_digit() && rng.below(4) == 0)
            {
                let end = (i..out.len())
                    .find(|&j| !out[j].is_ascii_digit())
                    .unwrap_or(out.len());
                out.splice(i..end, token.iter().copied());
            }
        }
        3 => out.truncate(at(rng, out)),
        4 => {
            let (a, b) = (at(rng, out), at(rng, out));
            out.drain(a.min(b)..a.max(b));
        }
        5 => {
            // Repeat a slice: long lines, deep nesting, many rows.
            let (a, b) = (at(rng, out), at(rng, out));
            let piece = out[a.min(b)..a.max(b)].to_vec();
            let times = 1 + rng.below(64) as usize;
            let i = at(rng, out);
            out.splice(
                i..i,
                piece.iter().copied().cycle().take(piece.len() * times),
            );
        }
        _ => {
            let other = seeds[rng.below(seeds.len() as u64) as usize];
            let (i, j) = (at(rng, out), rng.below(other.len() as u64 + 1) as usize);
            out.truncate(i);
            out.extend_from_slice(&other[j..]);
        }
    }
}

fn fnv(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}
