//! Turning raw Modbus registers and bits into numbers: the value types a `[[modbus.register]]`
//! may declare, the byte and word orders of multi-register values, and scale and offset.
//!
//! Why a module of its own: the Modbus data model (Modbus Application Protocol V1.1b3, §4.3)
//! only knows single bits and 16-bit registers, sent most significant byte first (§4.2, "MODBUS
//! uses a 'big-Endian' representation for addresses and data items"). Anything wider is a
//! vendor convention spread over consecutive registers, so the order has to be configurable
//! and is worth testing on its own, with known byte patterns.

use serde::Deserialize;

/// The value type of a register (`type = "f32"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataType {
    /// One coil or discrete input: 0 or 1.
    Bool,
    /// One register, two's complement.
    I16,
    /// One register.
    U16,
    /// Two registers, two's complement.
    I32,
    /// Two registers.
    U32,
    /// Four registers, two's complement (beyond ±2^53 the value is rounded to an `f64`).
    I64,
    /// Four registers (beyond 2^53 the value is rounded to an `f64`).
    U64,
    /// Two registers, IEEE 754 single precision.
    F32,
    /// Four registers, IEEE 754 double precision.
    F64,
}

impl DataType {
    /// How many 16-bit registers a value takes (0 for `bool`, which is a single bit).
    pub fn registers(self) -> u16 {
        match self {
            DataType::Bool => 0,
            DataType::I16 | DataType::U16 => 1,
            DataType::I32 | DataType::U32 | DataType::F32 => 2,
            DataType::I64 | DataType::U64 | DataType::F64 => 4,
        }
    }

    /// Its name in the config file.
    pub fn name(self) -> &'static str {
        match self {
            DataType::Bool => "bool",
            DataType::I16 => "i16",
            DataType::U16 => "u16",
            DataType::I32 => "i32",
            DataType::U32 => "u32",
            DataType::I64 => "i64",
            DataType::U64 => "u64",
            DataType::F32 => "f32",
            DataType::F64 => "f64",
        }
    }
}

/// The byte and word order of a multi-register value (`order = "CDAB"`), named after where the
/// bytes `A B C D` of the big-endian value end up (Telegraf's and most vendors' convention).
/// For 64-bit values the same rule is applied to all four registers: `CDAB` means the
/// registers come least significant first (`GH EF CD AB`), `BADC` swaps the bytes of each
/// register (`BA DC FE HG`), `DCBA` is fully little-endian (`HG FE DC BA`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum ByteOrder {
    /// Big-endian, the Modbus convention (§4.2): most significant register first, most
    /// significant byte first within each register.
    #[default]
    ABCD,
    /// Word swap: least significant register first, bytes within a register big-endian.
    CDAB,
    /// Byte swap: most significant register first, bytes within each register swapped.
    BADC,
    /// Little-endian: least significant register first, bytes within a register swapped.
    DCBA,
}

/// Puts the registers of one value back into big-endian byte order (`A B C D ...`).
fn canonical_bytes(words: &[u16], order: ByteOrder) -> Vec<u8> {
    let mut bytes: Vec<u8> = match order {
        ByteOrder::ABCD | ByteOrder::BADC => words.iter().flat_map(|w| w.to_be_bytes()).collect(),
        ByteOrder::CDAB | ByteOrder::DCBA => {
            words.iter().rev().flat_map(|w| w.to_be_bytes()).collect()
        }
    };
    if matches!(order, ByteOrder::BADC | ByteOrder::DCBA) {
        for pair in bytes.chunks_exact_mut(2) {
            pair.swap(0, 1);
        }
    }
    bytes
}

/// The raw value of `ty` held in `words` (exactly `ty.registers()` of them), before scale and
/// offset. `None` when the number of registers does not match the type, or for `bool`.
pub fn decode_registers(words: &[u16], ty: DataType, order: ByteOrder) -> Option<f64> {
    if ty == DataType::Bool || words.len() != usize::from(ty.registers()) {
        return None;
    }
    let b = canonical_bytes(words, order);
    let value = match ty {
        DataType::Bool => return None,
        DataType::I16 => f64::from(i16::from_be_bytes([b[0], b[1]])),
        DataType::U16 => f64::from(u16::from_be_bytes([b[0], b[1]])),
        DataType::I32 => f64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        DataType::U32 => f64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        DataType::F32 => f64::from(f32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        DataType::I64 => i64::from_be_bytes(eight(&b)) as f64,
        DataType::U64 => u64::from_be_bytes(eight(&b)) as f64,
        DataType::F64 => f64::from_be_bytes(eight(&b)),
    };
    Some(value)
}

fn eight(b: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(&b[..8]);
    out
}

/// A coil or discrete input as a number: 1 when on, 0 when off.
pub fn decode_bit(bit: bool) -> f64 {
    if bit {
        1.0
    } else {
        0.0
    }
}

/// The engineering value: `raw * scale + offset`.
pub fn scaled(raw: f64, scale: f64, offset: f64) -> f64 {
    raw * scale + offset
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registers of the 32-bit pattern 0x11223344 in each order.
    const ORDERS_32: [(ByteOrder, [u16; 2]); 4] = [
        (ByteOrder::ABCD, [0x1122, 0x3344]),
        (ByteOrder::CDAB, [0x3344, 0x1122]),
        (ByteOrder::BADC, [0x2211, 0x4433]),
        (ByteOrder::DCBA, [0x4433, 0x2211]),
    ];

    /// The registers of the 64-bit pattern 0x1122334455667788 in each order.
    const ORDERS_64: [(ByteOrder, [u16; 4]); 4] = [
        (ByteOrder::ABCD, [0x1122, 0x3344, 0x5566, 0x7788]),
        (ByteOrder::CDAB, [0x7788, 0x5566, 0x3344, 0x1122]),
        (ByteOrder::BADC, [0x2211, 0x4433, 0x6655, 0x8877]),
        (ByteOrder::DCBA, [0x8877, 0x6655, 0x4433, 0x2211]),
    ];

    /// Spreads big-endian bytes over registers in `order`, the inverse of `canonical_bytes`,
    /// written independently: reverse the register order and/or swap the bytes of each.
    fn encode(be: &[u8], order: ByteOrder) -> Vec<u16> {
        let mut words: Vec<[u8; 2]> = be.chunks_exact(2).map(|c| [c[0], c[1]]).collect();
        if matches!(order, ByteOrder::CDAB | ByteOrder::DCBA) {
            words.reverse();
        }
        if matches!(order, ByteOrder::BADC | ByteOrder::DCBA) {
            words.iter_mut().for_each(|w| w.swap(0, 1));
        }
        words.into_iter().map(u16::from_be_bytes).collect()
    }

    #[test]
    fn thirty_two_bit_patterns_in_every_order() {
        for (order, words) in ORDERS_32 {
            assert_eq!(
                decode_registers(&words, DataType::U32, order),
                Some(f64::from(0x1122_3344u32)),
                "{order:?}"
            );
            assert_eq!(
                decode_registers(&words, DataType::I32, order),
                Some(f64::from(0x1122_3344i32)),
                "{order:?}"
            );
            let f = f32::from_bits(0x1122_3344);
            assert_eq!(
                decode_registers(&words, DataType::F32, order),
                Some(f64::from(f)),
                "{order:?}"
            );
        }
    }

    #[test]
    fn sixty_four_bit_patterns_in_every_order() {
        for (order, words) in ORDERS_64 {
            let bits = 0x1122_3344_5566_7788u64;
            assert_eq!(
                decode_registers(&words, DataType::U64, order),
                Some(bits as f64),
                "{order:?}"
            );
            assert_eq!(
                decode_registers(&words, DataType::I64, order),
                Some(bits as i64 as f64),
                "{order:?}"
            );
            assert_eq!(
                decode_registers(&words, DataType::F64, order),
                Some(f64::from_bits(bits)),
                "{order:?}"
            );
        }
    }

    #[test]
    fn signs_and_known_floats() {
        // 1.0f32 is 0x3F800000; -2.5f64 is 0xC004000000000000.
        assert_eq!(
            decode_registers(&[0x3F80, 0x0000], DataType::F32, ByteOrder::ABCD),
            Some(1.0)
        );
        assert_eq!(
            decode_registers(&[0x0000, 0x3F80], DataType::F32, ByteOrder::CDAB),
            Some(1.0)
        );
        assert_eq!(
            decode_registers(&[0x803F, 0x0000], DataType::F32, ByteOrder::BADC),
            Some(1.0)
        );
        assert_eq!(
            decode_registers(&[0x0000, 0x803F], DataType::F32, ByteOrder::DCBA),
            Some(1.0)
        );
        assert_eq!(
            decode_registers(&[0xC004, 0, 0, 0], DataType::F64, ByteOrder::ABCD),
            Some(-2.5)
        );
        assert_eq!(
            decode_registers(&[0, 0, 0, 0xC004], DataType::F64, ByteOrder::CDAB),
            Some(-2.5)
        );
        assert_eq!(
            decode_registers(&[0x04C0, 0, 0, 0], DataType::F64, ByteOrder::BADC),
            Some(-2.5)
        );
        assert_eq!(
            decode_registers(&[0, 0, 0, 0x04C0], DataType::F64, ByteOrder::DCBA),
            Some(-2.5)
        );
        assert_eq!(
            decode_registers(&[0xFFFF], DataType::I16, ByteOrder::ABCD),
            Some(-1.0)
        );
        assert_eq!(
            decode_registers(&[0xFFFF], DataType::U16, ByteOrder::ABCD),
            Some(65535.0)
        );
        assert_eq!(
            decode_registers(&[0x8000], DataType::I16, ByteOrder::ABCD),
            Some(-32768.0)
        );
        assert_eq!(
            decode_registers(&[0xFFFF, 0xFFFE], DataType::I32, ByteOrder::ABCD),
            Some(-2.0)
        );
        assert_eq!(
            decode_registers(&[0xFFFE, 0xFFFF], DataType::I32, ByteOrder::CDAB),
            Some(-2.0)
        );
        assert_eq!(
            decode_registers(
                &[0xFFFF, 0xFFFF, 0xFFFF, 0xFFFD],
                DataType::I64,
                ByteOrder::ABCD
            ),
            Some(-3.0)
        );
    }

    #[test]
    fn round_trips_through_an_independent_encoder() {
        let values = [0.0f64, -1.5, 71.25, 1.0e300, -123_456.789];
        for order in [
            ByteOrder::ABCD,
            ByteOrder::CDAB,
            ByteOrder::BADC,
            ByteOrder::DCBA,
        ] {
            for v in values {
                let words = encode(&v.to_be_bytes(), order);
                assert_eq!(decode_registers(&words, DataType::F64, order), Some(v));
                let words = encode(&(v as f32).to_be_bytes(), order);
                assert_eq!(
                    decode_registers(&words, DataType::F32, order),
                    Some(f64::from(v as f32))
                );
            }
            let words = encode(&(-1_234_567_890_123i64).to_be_bytes(), order);
            assert_eq!(
                decode_registers(&words, DataType::I64, order),
                Some(-1_234_567_890_123.0)
            );
            let words = encode(&4_000_000_000u32.to_be_bytes(), order);
            assert_eq!(
                decode_registers(&words, DataType::U32, order),
                Some(4_000_000_000.0)
            );
        }
    }

    #[test]
    fn wrong_register_counts_are_refused() {
        assert_eq!(decode_registers(&[1], DataType::F32, ByteOrder::ABCD), None);
        assert_eq!(
            decode_registers(&[1, 2, 3], DataType::U64, ByteOrder::ABCD),
            None
        );
        assert_eq!(decode_registers(&[], DataType::U16, ByteOrder::ABCD), None);
        assert_eq!(
            decode_registers(&[1], DataType::Bool, ByteOrder::ABCD),
            None
        );
    }

    #[test]
    fn bits_scale_and_offset() {
        assert_eq!(decode_bit(true), 1.0);
        assert_eq!(decode_bit(false), 0.0);
        assert!((scaled(1234.0, 0.1, -40.0) - 83.4).abs() < 1e-9);
        assert_eq!(scaled(7.0, 1.0, 0.0), 7.0);
    }
}
