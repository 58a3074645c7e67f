//! The one token comparison of LLMscope, shared by the shim (its WebSocket and `/status`
//! token) and the probe Worker (its bearer token), so both compare secrets the same careful
//! way.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Whether `given` is the `expected` token, in time that depends on neither their contents nor
/// their lengths: both are hashed to 32-byte SHA-256 digests first, and the digests are compared
/// in constant time (`subtle`), so neither an early exit on the first differing byte nor one on
/// a length mismatch tells a guesser anything about the right token.
///
/// Callers decide what an empty `expected` means (the Worker and the shim both refuse every
/// token then); this function only compares.
pub fn same_token(given: &str, expected: &str) -> bool {
    let (a, b) = (Sha256::digest(given), Sha256::digest(expected));
    a.ct_eq(&b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_matches() {
        assert!(same_token("change-me", "change-me"));
        assert!(same_token("", ""));
        assert!(same_token("ключ 🔑", "ключ 🔑"));
        for wrong in [
            "change-m",
            "change-me!",
            "",
            "Change-me",
            "change-me ",
            " change-me",
        ] {
            assert!(!same_token(wrong, "change-me"), "{wrong:?}");
        }
        assert!(!same_token("change-me", ""));
    }

    /// SHA-256 of "abc" is FIPS 180-2's example (appendix B.1): the digests compared are the
    /// standard ones, so two tokens with one digest would be a SHA-256 collision.
    #[test]
    fn the_digests_are_sha256() {
        let d = Sha256::digest("abc");
        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
