//! The kit measures what it promises to: what a parser holds, per thread.

use llmscope_fuzzkit::{peak, Counting};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn peak_counts_what_a_parser_held_at_its_top() {
    let (len, held) = peak(|| {
        let big = std::hint::black_box(vec![1u8; 3 << 20]);
        drop(big);
        std::hint::black_box(vec![0u8; 1 << 20]).len()
    });
    assert_eq!(len, 1 << 20);
    assert!((3 << 20..4 << 20).contains(&held), "held {held}");
}
