//! The read planner: which requests one poll sends. Registers of the same kind that sit next to
//! each other are merged into one request, so a device with fifty values is read in a handful
//! of round trips instead of fifty.
//!
//! Why it matters: every request costs a full round trip (on a 9600 baud serial line, tens of
//! milliseconds), but a request may not ask for more than the protocol allows: 2000 coils or
//! discrete inputs (function codes 01 and 02, Modbus Application Protocol V1.1b3 §6.1 and
//! §6.2: "Quantity of Outputs/Inputs: 1 to 2000 (0x7D0)") and 125 holding or input registers
//! (function codes 03 and 04, §6.3 and §6.4: "Quantity of Registers: 1 to 125 (0x7D)").

use serde::Deserialize;

/// The four Modbus data tables (§4.3), each read with its own function code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Coils, read-write bits: function code 01 (Read Coils).
    Coil,
    /// Discrete inputs, read-only bits: function code 02 (Read Discrete Inputs).
    Discrete,
    /// Input registers, read-only 16-bit words: function code 04 (Read Input Registers).
    Input,
    /// Holding registers, read-write 16-bit words: function code 03 (Read Holding Registers).
    Holding,
}

impl Kind {
    /// Whether the table holds single bits (coils, discrete inputs) rather than registers.
    pub fn is_bits(self) -> bool {
        matches!(self, Kind::Coil | Kind::Discrete)
    }

    /// The most items one request may read from this table (§6.1 to §6.4).
    pub fn max_quantity(self) -> u16 {
        if self.is_bits() {
            MAX_BITS
        } else {
            MAX_REGISTERS
        }
    }

    /// Its name in the config file and in status reasons.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Coil => "coil",
            Kind::Discrete => "discrete",
            Kind::Input => "input",
            Kind::Holding => "holding",
        }
    }
}

/// Most coils or discrete inputs in one request (§6.1, §6.2).
pub const MAX_BITS: u16 = 2000;
/// Most holding or input registers in one request (§6.3, §6.4).
pub const MAX_REGISTERS: u16 = 125;

/// One value to read: where it is and how many items it spans (1 for a bit, 1 to 4 for
/// registers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    /// The table.
    pub kind: Kind,
    /// 0-based protocol address of its first bit or register.
    pub address: u16,
    /// Bits or registers it spans, at least 1.
    pub width: u16,
}

/// One read request and the items it answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Read {
    /// The table.
    pub kind: Kind,
    /// 0-based protocol address of the first bit or register requested.
    pub start: u16,
    /// How many bits or registers are requested (1 to the table's limit).
    pub count: u16,
    /// Indices (into the planner's input) of the items this request covers.
    pub items: Vec<usize>,
}

impl Read {
    /// One past the last address requested.
    pub fn end(&self) -> u32 {
        u32::from(self.start) + u32::from(self.count)
    }

    /// `holding 100..102`: the table and the half-open address range, for status reasons.
    pub fn describe(&self) -> String {
        format!("{} {}..{}", self.kind.name(), self.start, self.end())
    }
}

/// Plans the requests for `items`: sorted by table and address, an item joins the current
/// request when it starts at most `max_gap` unrequested addresses after it and the request
/// stays within the table's limit. Overlapping items (two streams over the same register) share
/// a request. Items of width 0 are treated as width 1.
pub fn plan(items: &[Item], max_gap: u16) -> Vec<Read> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| (items[i].kind, items[i].address, items[i].width, i));
    let mut reads: Vec<Read> = Vec::new();
    for i in order {
        let item = items[i];
        let start = u32::from(item.address);
        let end = start + u32::from(item.width.max(1));
        if let Some(last) = reads.last_mut() {
            let merged_end = end.max(last.end());
            let fits = merged_end - u32::from(last.start) <= u32::from(item.kind.max_quantity());
            if last.kind == item.kind && start <= last.end() + u32::from(max_gap) && fits {
                // `fits` bounds the count by the table's limit, so it fits a u16.
                last.count =
                    u16::try_from(merged_end - u32::from(last.start)).unwrap_or(last.count);
                last.items.push(i);
                continue;
            }
        }
        // A single item is at most 4 registers, within every limit.
        let count = u16::try_from(end - start).unwrap_or(1);
        reads.push(Read {
            kind: item.kind,
            start: item.address,
            count,
            items: vec![i],
        });
    }
    reads
}

/// One request per item of `read`, used when a merged request is refused with an exception
/// that may come from a single bad address (codes 02 and 03), so that the other items still
/// get read and the exception is reported only for the item that causes it.
pub fn split(read: &Read, items: &[Item]) -> Vec<Read> {
    read.items
        .iter()
        .filter_map(|&i| {
            let item = items.get(i)?;
            Some(Read {
                kind: item.kind,
                start: item.address,
                count: item.width.max(1),
                items: vec![i],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(kind: Kind, address: u16, width: u16) -> Item {
        Item {
            kind,
            address,
            width,
        }
    }

    #[test]
    fn adjacent_registers_merge_into_one_request() {
        let items = [
            reg(Kind::Holding, 0, 2),
            reg(Kind::Holding, 2, 2),
            reg(Kind::Holding, 4, 1),
            reg(Kind::Holding, 5, 4),
        ];
        let reads = plan(&items, 0);
        assert_eq!(
            reads,
            vec![Read {
                kind: Kind::Holding,
                start: 0,
                count: 9,
                items: vec![0, 1, 2, 3]
            }]
        );
        assert_eq!(reads[0].describe(), "holding 0..9");
    }

    #[test]
    fn gaps_split_requests_unless_allowed() {
        let items = [
            reg(Kind::Holding, 0, 2),
            reg(Kind::Holding, 10, 2),
            reg(Kind::Holding, 3, 1),
        ];
        let reads = plan(&items, 0);
        assert_eq!(
            reads,
            vec![
                Read {
                    kind: Kind::Holding,
                    start: 0,
                    count: 2,
                    items: vec![0]
                },
                Read {
                    kind: Kind::Holding,
                    start: 3,
                    count: 1,
                    items: vec![2]
                },
                Read {
                    kind: Kind::Holding,
                    start: 10,
                    count: 2,
                    items: vec![1]
                },
            ]
        );
        // A gap of one register (address 2) is bridged with max_gap = 1; the gap of six is not.
        let reads = plan(&items, 1);
        assert_eq!(
            reads,
            vec![
                Read {
                    kind: Kind::Holding,
                    start: 0,
                    count: 4,
                    items: vec![0, 2]
                },
                Read {
                    kind: Kind::Holding,
                    start: 10,
                    count: 2,
                    items: vec![1]
                },
            ]
        );
        assert_eq!(plan(&items, 6).len(), 1);
    }

    #[test]
    fn tables_are_never_mixed() {
        let items = [
            reg(Kind::Holding, 0, 1),
            reg(Kind::Input, 1, 1),
            reg(Kind::Coil, 2, 1),
            reg(Kind::Discrete, 3, 1),
        ];
        let reads = plan(&items, 100);
        assert_eq!(reads.len(), 4);
        let kinds: Vec<Kind> = reads.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            vec![Kind::Coil, Kind::Discrete, Kind::Input, Kind::Holding]
        );
    }

    #[test]
    fn register_limit_of_125_is_respected() {
        // 100 contiguous f32 values: 200 registers, so two requests, none above 125.
        let items: Vec<Item> = (0..100).map(|i| reg(Kind::Input, i * 2, 2)).collect();
        let reads = plan(&items, 0);
        assert!(reads.iter().all(|r| r.count <= MAX_REGISTERS), "{reads:?}");
        assert_eq!(reads.iter().map(|r| r.items.len()).sum::<usize>(), 100);
        assert_eq!(reads.len(), 2);
        assert_eq!((reads[0].start, reads[0].count), (0, 124));
        assert_eq!((reads[1].start, reads[1].count), (124, 76));
        // Exactly 125 single registers fit one request; the 126th starts another.
        let items: Vec<Item> = (0..126).map(|i| reg(Kind::Holding, i, 1)).collect();
        let reads = plan(&items, 0);
        assert_eq!(
            reads.iter().map(|r| r.count).collect::<Vec<_>>(),
            vec![125, 1]
        );
    }

    #[test]
    fn bit_limit_of_2000_is_respected() {
        let items: Vec<Item> = (0..4500).map(|i| reg(Kind::Coil, i, 1)).collect();
        let reads = plan(&items, 0);
        assert_eq!(
            reads.iter().map(|r| r.count).collect::<Vec<_>>(),
            vec![2000, 2000, 500]
        );
        // Sparse bits bridged by a generous gap still stop at 2000 per request.
        let items: Vec<Item> = (0..100).map(|i| reg(Kind::Discrete, i * 50, 1)).collect();
        let reads = plan(&items, 100);
        assert!(reads.iter().all(|r| r.count <= MAX_BITS), "{reads:?}");
        assert_eq!(reads.iter().map(|r| r.items.len()).sum::<usize>(), 100);
    }

    #[test]
    fn overlapping_items_share_a_request() {
        // A u16 view and an i32 view of the same registers.
        let items = [
            reg(Kind::Holding, 7, 2),
            reg(Kind::Holding, 7, 1),
            reg(Kind::Holding, 8, 1),
        ];
        let reads = plan(&items, 0);
        assert_eq!(
            reads,
            vec![Read {
                kind: Kind::Holding,
                start: 7,
                count: 2,
                items: vec![1, 0, 2]
            }]
        );
    }

    #[test]
    fn the_top_of_the_address_space_is_reachable() {
        let items = [reg(Kind::Holding, 65532, 4), reg(Kind::Coil, 65535, 1)];
        let reads = plan(&items, 0);
        assert_eq!(reads[1].end(), 65536);
        assert_eq!(reads[1].describe(), "holding 65532..65536");
    }

    #[test]
    fn split_gives_one_request_per_item() {
        let items = [reg(Kind::Holding, 0, 2), reg(Kind::Holding, 2, 4)];
        let reads = plan(&items, 0);
        assert_eq!(
            split(&reads[0], &items),
            vec![
                Read {
                    kind: Kind::Holding,
                    start: 0,
                    count: 2,
                    items: vec![0]
                },
                Read {
                    kind: Kind::Holding,
                    start: 2,
                    count: 4,
                    items: vec![1]
                },
            ]
        );
    }
}
