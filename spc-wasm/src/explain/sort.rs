//! One stable sort for every ranking in `explain`. Each `sort_by` closure monomorphizes the
//! standard library's stable sort anew, and the dashboard's wasm carried six copies of it
//! (docs/benchmarks.md, "The why panel in the site"); here every ranking sorts the same type,
//! `(key, position)` pairs, so one unstable sort serves them all, stable by the position.

use super::ks::order_key;

/// Sorts `items` by `key`, ascending; equal keys keep their order.
pub(crate) fn sort_by_key<T>(items: &mut Vec<T>, key: impl Fn(&T) -> u64) {
    let mut keyed: Vec<(u64, usize)> = items.iter().map(key).zip(0..).collect();
    keyed.sort_unstable();
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(keyed.iter().filter_map(|&(_, i)| slots[i].take()));
}

/// A float's key for [`sort_by_key`], ascending (as `total_cmp`, with −0 equal to +0).
pub(crate) fn ascending(x: f64) -> u64 {
    order_key(x)
}

/// A float's key for [`sort_by_key`], descending.
pub(crate) fn descending(x: f64) -> u64 {
    !order_key(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_as_the_standard_stable_sort_does() {
        let v = [3.0, -1.0, 2.0, -1.0, 0.5, 3.0, f64::INFINITY, -7.25, 2.0];
        let mut items: Vec<(f64, usize)> = v.iter().copied().zip(0..).collect();
        let mut want = items.clone();
        sort_by_key(&mut items, |&(x, _)| descending(x));
        want.sort_by(|a, b| b.0.total_cmp(&a.0));
        assert_eq!(items, want);
        sort_by_key(&mut items, |&(x, _)| ascending(x));
        want.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(items, want);
    }
}
