//! The byte work of a share link, kept out of the dashboard's first download: zlib (RFC 1950,
//! `miniz_oxide`) around a link's data, and AES-256-GCM (NIST SP 800-38D, 96-bit nonce,
//! `aes-gcm`) around a session stored on a probe Worker. The dashboard's `export::share` owns
//! the link format; it calls these through the module's exports (`zlib`, `unzlib`, `seal`,
//! `unseal`) once the module is loaded, and directly in its host tests.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};

/// Why [`inflate`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inflate {
    /// The data inflates to more than the limit.
    TooLarge,
    /// The compressed data is cut or altered.
    Damaged,
}

impl Inflate {
    /// The word the module's `unzlib` throws, read back by the dashboard.
    pub fn word(self) -> &'static str {
        match self {
            Inflate::TooLarge => "too large",
            Inflate::Damaged => "damaged",
        }
    }
}

/// zlib at the best compression (level 9).
pub fn deflate(bytes: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(bytes, 9)
}

/// zlib-inflates `body`, at most `limit` bytes of it: a small crafted link cannot claim
/// gigabytes.
pub fn inflate(body: &[u8], limit: usize) -> Result<Vec<u8>, Inflate> {
    use miniz_oxide::inflate::{decompress_to_vec_zlib_with_limit, TINFLStatus};
    decompress_to_vec_zlib_with_limit(body, limit).map_err(|e| match e.status {
        TINFLStatus::HasMoreOutput => Inflate::TooLarge,
        _ => Inflate::Damaged,
    })
}

/// AES-256-GCM's ciphertext and tag of `plain` under `key` and `nonce`.
pub fn seal(plain: &[u8], key: &[u8; 32], nonce: &[u8; 12]) -> Vec<u8> {
    Aes256Gcm::new(key.into())
        .encrypt(Nonce::from_slice(nonce), plain)
        .unwrap_or_default()
}

/// The plain text of [`seal`]'s output, or `None` when the key, nonce or data was altered.
pub fn unseal(sealed: &[u8], key: &[u8; 32], nonce: &[u8; 12]) -> Option<Vec<u8>> {
    Aes256Gcm::new(key.into())
        .decrypt(Nonce::from_slice(nonce), sealed)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zlib_round_trips_and_stops_at_the_limit() {
        let data = vec![7u8; 10_000];
        let z = deflate(&data);
        assert!(z.len() < 100);
        assert_eq!(inflate(&z, 10_000), Ok(data));
        assert_eq!(inflate(&z, 9_999), Err(Inflate::TooLarge));
        assert_eq!(inflate(&z[..z.len() / 2], 10_000), Err(Inflate::Damaged));
    }

    #[test]
    fn a_sealed_text_opens_only_with_its_key_and_unaltered() {
        // NIST SP 800-38D / McGrew & Viega test case 13: AES-256, zero key and IV, empty text.
        let tag = seal(b"", &[0; 32], &[0; 12]);
        assert_eq!(
            tag,
            [
                0x53, 0x0f, 0x8a, 0xfb, 0xc7, 0x45, 0x36, 0xb9, 0xa9, 0x63, 0xb4, 0xf1, 0xc4, 0xcb,
                0x73, 0x8b
            ]
        );
        let sealed = seal(b"session", &[1; 32], &[2; 12]);
        assert_eq!(
            unseal(&sealed, &[1; 32], &[2; 12]).as_deref(),
            Some(&b"session"[..])
        );
        assert_eq!(unseal(&sealed, &[9; 32], &[2; 12]), None);
        let mut altered = sealed.clone();
        altered[0] ^= 1;
        assert_eq!(unseal(&altered, &[1; 32], &[2; 12]), None);
    }
}
