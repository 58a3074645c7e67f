//! Statistics formatted ahead of the chart, on the core the engine leaves idle. The
//! individuals chart plots the measurements themselves, and its moving-range chart their
//! differences: both are known before the engine runs. A point takes the text formatted ahead
//! only when its statistic has the very bits of the number formatted, so no output changes.

use super::chunks::push_json;
use llmscope_spc::Data;

/// The JSON texts of the measurements and of their moving ranges.
pub struct Ahead<'a> {
    values: &'a [f64],
    individuals: Texts,
    moving_ranges: Texts,
}

impl<'a> Ahead<'a> {
    /// None unless the data are single values (the individuals chart's).
    pub fn new(data: &'a Data) -> Option<Ahead<'a>> {
        let Data::Values(values) = data else {
            return None;
        };
        Some(Ahead {
            values,
            individuals: Texts::new(values.iter().copied()),
            moving_ranges: Texts::new(values.windows(2).map(|w| moving_range(w[0], w[1]))),
        })
    }

    /// The text of `statistic` at `position` of the individuals chart (`primary`) or of its
    /// moving-range chart, when it is the number formatted ahead.
    pub fn text(&self, primary: bool, position: usize, statistic: f64) -> Option<&[u8]> {
        let (texts, formatted) = if primary {
            (&self.individuals, *self.values.get(position)?)
        } else {
            let pair = self.values.get(position..position + 2)?;
            (&self.moving_ranges, moving_range(pair[0], pair[1]))
        };
        (formatted.to_bits() == statistic.to_bits())
            .then(|| texts.get(position))
            .flatten()
    }
}

fn moving_range(a: f64, b: f64) -> f64 {
    (b - a).abs()
}

/// Numbers' texts end to end.
struct Texts {
    bytes: Vec<u8>,
    ends: Vec<u32>,
}

impl Texts {
    /// Stops early (later texts are then not found) before the offsets would overflow.
    fn new(xs: impl ExactSizeIterator<Item = f64>) -> Texts {
        let mut texts = Texts {
            bytes: Vec::with_capacity(xs.len() * 8),
            ends: Vec::with_capacity(xs.len()),
        };
        for x in xs {
            push_json(&mut texts.bytes, Some(x));
            let Ok(end) = u32::try_from(texts.bytes.len()) else {
                break;
            };
            texts.ends.push(end);
        }
        texts
    }

    fn get(&self, i: usize) -> Option<&[u8]> {
        let start = match i {
            0 => 0,
            _ => *self.ends.get(i - 1)? as usize,
        };
        self.bytes.get(start..*self.ends.get(i)? as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_given_only_for_the_number_formatted() {
        let data = Data::Values(vec![1.5, 2.25, 0.1, 1e21]);
        let ahead = Ahead::new(&data).expect("single values");
        let text = |primary, at, x| ahead.text(primary, at, x).map(<[u8]>::to_vec);
        assert_eq!(text(true, 0, 1.5), Some(b"1.5".to_vec()));
        assert_eq!(text(true, 3, 1e21), Some(b"1e21".to_vec()));
        assert_eq!(text(false, 0, 0.75), Some(b"0.75".to_vec()));
        let mr = (0.1f64 - 2.25).abs();
        assert_eq!(
            text(false, 1, mr),
            Some(ryu::Buffer::new().format(mr).as_bytes().to_vec())
        );
        // Another statistic at the same place (a transform, another chart) is formatted anew.
        assert_eq!(text(true, 0, 1.5000000000000002), None);
        assert_eq!(text(true, 2, f64::from_bits(0.1f64.to_bits() + 1)), None);
        assert_eq!(text(false, 0, -0.75), None);
        assert_eq!(text(true, 4, 1.0), None);
        assert_eq!(text(false, 3, 1.0), None);
        assert!(Ahead::new(&Data::Subgroups(vec![vec![1.0, 2.0]])).is_none());
    }
}
