//! The kit catches what it promises to: a parser that allocates what its input asks for.

use llmscope_fuzzkit::{CountingAlloc, Target};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
#[should_panic(expected = "made the parser hold")]
fn an_allocation_sized_by_the_input_is_caught() {
    let target = Target {
        name: "kit",
        seeds: &[b"12"],
        inputs: 10_000,
        max_alloc: 1 << 20,
    };
    target.run(|input| {
        let n: u16 = std::str::from_utf8(input)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        std::hint::black_box(vec![1u8; usize::from(n) * 1000]);
    });
}
