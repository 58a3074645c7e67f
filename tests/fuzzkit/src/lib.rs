//! Bounded, deterministic fuzzing of every parser of outside input, run by `cargo test` on
//! stable Rust: the generator, the mutations and the memory meter that the fuzz tests of the
//! app, the shim, the Worker and the engine share.
//!
//! A target feeds its parser random bytes and mutations of valid inputs (bit flips, byte edits,
//! deletions, repeated or spliced spans, tokens such as `NaN` or `18446744073709551616`) from
//! a fixed seed, so every run tries the same inputs and a failure reproduces by its number.
//! [`peak`] measures the most bytes a parser held at once, which a crash check alone misses;
//! the test binary installs [`Counting`] as its global allocator for it.
//!
//! `LLMSCOPE_FUZZ_INPUTS` multiplies every target's input count (see [`count`]), for a longer
//! campaign than the test suite's seconds: `LLMSCOPE_FUZZ_INPUTS=100 cargo test --release fuzz`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

use llmscope_spc::Rng;

/// The global allocator of a fuzz test binary: `System`, counting the bytes each thread holds,
/// so tests running side by side do not count each other's.
///
/// ```ignore
/// #[global_allocator]
/// static ALLOCATOR: llmscope_fuzzkit::Counting = llmscope_fuzzkit::Counting;
/// ```
pub struct Counting;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    // try_with: the allocator also runs while thread-locals are being torn down.
    let _ = HELD.try_with(|h| {
        let now = h.get() + delta;
        h.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        track(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            track(new_size as isize - layout.size() as isize);
        }
        p
    }
}

/// Runs `f` and returns its result with the most bytes this thread held at once beyond what
/// it held before (the result included). Zero unless [`Counting`] is the global allocator.
pub fn peak<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = HELD.with(Cell::get);
    PEAK.with(|p| p.set(before));
    let out = f();
    let top = PEAK.with(Cell::get);
    (out, (top - before).max(0) as usize)
}

/// A generous bound on what a text parser may hold for `len` bytes: 1 MiB plus 256 bytes per
/// input byte (a JSON value costs tens of bytes per character at worst).
pub fn linear(len: usize) -> usize {
    (1 << 20) + 256 * len
}

/// A target's input count: `default` times `LLMSCOPE_FUZZ_INPUTS` (1 when unset).
pub fn count(default: usize) -> usize {
    let times = std::env::var("LLMSCOPE_FUZZ_INPUTS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1);
    default.saturating_mul(times)
}

/// Runs [`count`]`(inputs)` inputs of one target, each made and checked by `one` (given the
/// generator and the input's number), and prints how many and how long (docs/security.md
/// records them). Returns the time taken.
pub fn run(
    target: &str,
    inputs: usize,
    seed: u64,
    mut one: impl FnMut(&mut Gen, usize),
) -> Duration {
    let inputs = count(inputs);
    let mut gen = Gen::new(seed);
    let started = Instant::now();
    for i in 0..inputs {
        one(&mut gen, i);
    }
    let took = started.elapsed();
    eprintln!(
        "fuzz {target}: {inputs} inputs in {:.2} s",
        took.as_secs_f64()
    );
    took
}

/// Tokens that break parsers: numbers at the edges of f64, u64, i64 and i32, and framing.
pub const TOKENS: &[&[u8]] = &[
    b"NaN",
    b"inf",
    b"-inf",
    b"1e999",
    b"1e308",
    b"-0",
    b"1e11",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"2147483648",
    b"null",
    b"\"",
    b"\\",
    b"\n",
    b"\r\n",
    b"\0",
    b"\xff",
    b"{",
    b"[",
];

/// The seeded input generator: the engine's [`Rng`] with the mutations a fuzzer needs.
pub struct Gen(Rng);

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen(Rng::new(seed))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform on `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Up to `max` random bytes: mostly from the characters of numbers and markup, sometimes
    /// anything.
    pub fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        let printable = self.below(4) != 0;
        (0..len)
            .map(|_| {
                if printable {
                    *self.pick(b"0123456789.,-+eE \n\r\t\"'{}[]:/\\abcnpstuxyz=#")
                } else {
                    self.next_u64() as u8
                }
            })
            .collect()
    }

    /// `seed` with one to eight mutations stacked; `tokens` (the format's own, besides
    /// [`TOKENS`]) are inserted whole.
    pub fn mutate(&mut self, seed: &[u8], tokens: &[&[u8]]) -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..1 + self.below(8) {
            let at = self.below(v.len() + 1);
            match self.below(7) {
                0 if !v.is_empty() => {
                    let i = at.min(v.len() - 1);
                    v[i] ^= 1 << self.below(8);
                }
                1 if !v.is_empty() => {
                    let i = at.min(v.len() - 1);
                    v[i] = self.next_u64() as u8;
                }
                2 => {
                    let end = (at + 1 + self.below(16)).min(v.len());
                    v.drain(at.min(end)..end);
                }
                3 => {
                    let token = if tokens.is_empty() || self.below(2) == 0 {
                        *self.pick(TOKENS)
                    } else {
                        *self.pick(tokens)
                    };
                    v.splice(at..at, token.iter().copied());
                }
                4 if !v.is_empty() => {
                    let from = self.below(v.len());
                    let end = (from + 1 + self.below(64)).min(v.len());
                    let chunk = v[from..end].to_vec();
                    for _ in 0..1 + self.below(4) {
                        v.splice(at..at, chunk.iter().copied());
                    }
                }
                5 => v.truncate(at),
                _ => {
                    let b = self.next_u64() as u8;
                    v.insert(at, b);
                }
            }
        }
        v
    }

    /// A mutation of one of `seeds`, picked at random.
    pub fn mutated<S: AsRef<[u8]>>(&mut self, seeds: &[S], tokens: &[&[u8]]) -> Vec<u8> {
        let seed = self.below(seeds.len());
        self.mutate(seeds[seed].as_ref(), tokens)
    }

    /// An input: half random bytes (up to `max_random`), half a mutated seed.
    pub fn input<S: AsRef<[u8]>>(
        &mut self,
        seeds: &[S],
        tokens: &[&[u8]],
        max_random: usize,
    ) -> Vec<u8> {
        if seeds.is_empty() || self.below(2) == 0 {
            self.bytes(max_random)
        } else {
            self.mutated(seeds, tokens)
        }
    }
}
