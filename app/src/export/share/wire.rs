//! The bytes of a share link, by version: each version's wire types (frozen, so old links keep
//! opening), the compact codecs of times and values, and the bounded reading that stops a
//! crafted link before it allocates.

use super::{Pack, ShareError, Shared, View, MAGIC, MAX_INFLATED, MAX_SAMPLES, VERSION};
use crate::model::{Causes, Origin, Sample, Session, Settings, Stream};
use serde::{de, Deserialize, Deserializer, Serialize};
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

// ---- version 1 (frozen) ----

#[derive(Serialize, Deserialize)]
struct WireV1 {
    created_ms: f64,
    view_stream: Option<String>,
    view_range: Option<(u64, u64)>,
    #[serde(deserialize_with = "bounded")]
    streams: Vec<WireStreamV1>,
}

#[derive(Serialize, Deserialize)]
struct WireStreamV1 {
    id: String,
    unit: String,
    /// The origin as JSON (`Origin`'s serde form).
    origin: String,
    /// The settings as JSON (`Settings`' serde form).
    settings: String,
    stale: Option<String>,
    times: TimesV1,
    #[serde(deserialize_with = "bounded")]
    values: Vec<f64>,
}

/// Sample times: whole milliseconds as deltas (two bytes each at a steady rate), or raw.
#[derive(Serialize, Deserialize)]
enum TimesV1 {
    Deltas {
        first: i64,
        #[serde(deserialize_with = "bounded")]
        deltas: Vec<i64>,
    },
    Raw(#[serde(deserialize_with = "bounded")] Vec<f64>),
}

// ---- wire format, version 2 (frozen): version 1 with values as scaled integers ----

#[derive(Serialize, Deserialize)]
struct WireV2 {
    created_ms: f64,
    view_stream: Option<String>,
    view_range: Option<(u64, u64)>,
    #[serde(deserialize_with = "bounded")]
    streams: Vec<WireStreamV2>,
}

#[derive(Serialize, Deserialize)]
struct WireStreamV2 {
    id: String,
    unit: String,
    origin: String,
    settings: String,
    stale: Option<String>,
    times: TimesV1,
    values: ValuesV2,
}

/// Values: when every value has at most `places` decimals (exactly, as f64), deltas of the
/// values times 10^places; otherwise raw.
#[derive(Serialize, Deserialize)]
enum ValuesV2 {
    Raw(#[serde(deserialize_with = "bounded")] Vec<f64>),
    Decimal {
        places: u8,
        first: i64,
        #[serde(deserialize_with = "bounded")]
        deltas: Vec<i64>,
    },
}

// ---- wire format, version 3 (frozen): version 2 with the assignable causes ----

#[derive(Serialize, Deserialize)]
struct WireV3 {
    created_ms: f64,
    view_stream: Option<String>,
    view_range: Option<(u64, u64)>,
    #[serde(deserialize_with = "bounded")]
    streams: Vec<WireStreamV2>,
    /// The session's `Causes` as JSON (its serde form; empty when it has none), which
    /// tolerates fields added later as the settings' JSON does.
    causes: String,
}

/// Version 3's optional tail, after the `WireV3` value: the session's derived streams'
/// definitions as their saved text (`crate::model::derived_text`) in a postcard string. A
/// link without derived streams has no tail, so it is the same bytes as before they existed
/// (postcard leaves trailing bytes unread; a dashboard older than derived streams refuses a
/// link holding one all the same, by its streams' unknown origin).
type DerivedTail = String;

/// After the derived streams' tail (then written even when empty), a second optional tail: the
/// Compare view's setup (`CompareSetup`'s JSON) in a postcard string. A dashboard older than it
/// reads the first tail and leaves the rest unread, as above.
type CompareTail = String;

thread_local! {
    /// List items the link being read may still hold: times, values and streams together, at
    /// most twice [`MAX_SAMPLES`]. `None` once a list asked for more.
    static BUDGET: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Takes `n` items from [`BUDGET`] (read afresh, so lists inside lists count too).
fn take<E: de::Error>(n: usize) -> Result<(), E> {
    match BUDGET.get() {
        Some(left) if n <= left => {
            BUDGET.set(Some(left - n));
            Ok(())
        }
        _ => {
            BUDGET.set(None);
            Err(E::custom("too many items"))
        }
    }
}

/// A list read against [`BUDGET`]: its length is checked before anything is allocated, and
/// the first allocation is small, so a short link claiming a long list costs nothing.
fn bounded<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    struct Bounded<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> de::Visitor<'de> for Bounded<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list")
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let claimed = seq.size_hint().unwrap_or(0);
            take::<A::Error>(claimed)?;
            let mut out = Vec::with_capacity(claimed.min(1 << 16));
            while let Some(x) = seq.next_element()? {
                if out.len() >= claimed {
                    take::<A::Error>(1)?;
                }
                out.push(x);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Bounded(PhantomData))
}

fn values(v: &[f64]) -> ValuesV2 {
    for places in 0..=6u8 {
        let scale = 10f64.powi(i32::from(places));
        let ints: Option<Vec<i64>> = v
            .iter()
            .map(|x| {
                let n = (x * scale).round();
                // Exact as the decoder will rebuild it (this also keeps -0.0 and NaN raw).
                let exact = n.abs() < 9e15 && ((n as i64) as f64 / scale).to_bits() == x.to_bits();
                exact.then_some(n as i64)
            })
            .collect();
        if let Some(ints) = ints.filter(|i| !i.is_empty()) {
            return ValuesV2::Decimal {
                places,
                first: ints[0],
                deltas: ints.windows(2).map(|w| w[1] - w[0]).collect(),
            };
        }
    }
    ValuesV2::Raw(v.to_vec())
}

fn unvalues(v: ValuesV2) -> Vec<f64> {
    match v {
        ValuesV2::Raw(v) => v,
        ValuesV2::Decimal {
            places,
            first,
            deltas,
        } => {
            let scale = 10f64.powi(i32::from(places.min(18)));
            let mut at = first;
            let mut out = Vec::with_capacity(deltas.len() + 1);
            out.push(at as f64 / scale);
            for d in deltas {
                at = at.saturating_add(d);
                out.push(at as f64 / scale);
            }
            out
        }
    }
}

fn times(samples: &[Sample]) -> TimesV1 {
    let whole = samples
        .iter()
        .all(|s| s.t.fract() == 0.0 && s.t.abs() < 9e15);
    if !whole || samples.is_empty() {
        return TimesV1::Raw(samples.iter().map(|s| s.t).collect());
    }
    let ints: Vec<i64> = samples.iter().map(|s| s.t as i64).collect();
    TimesV1::Deltas {
        first: ints[0],
        deltas: ints.windows(2).map(|w| w[1] - w[0]).collect(),
    }
}

fn untimes(t: TimesV1) -> Vec<f64> {
    match t {
        TimesV1::Raw(v) => v,
        TimesV1::Deltas { first, deltas } => {
            let mut out = Vec::with_capacity(deltas.len() + 1);
            let mut at = first;
            out.push(at as f64);
            for d in deltas {
                at = at.saturating_add(d);
                out.push(at as f64);
            }
            out
        }
    }
}

/// The shared session as bytes: `LS`, version, zlib(postcard(wire)).
pub fn to_bytes(shared: &Shared, pack: &dyn Pack) -> Vec<u8> {
    let causes = &shared.session.causes;
    let wire = WireV3 {
        causes: if causes.is_default() {
            String::new()
        } else {
            serde_json::to_string(causes).unwrap_or_default()
        },
        created_ms: shared.created_ms,
        view_stream: shared.view.stream.clone(),
        view_range: shared.view.range.map(|(a, b)| (a as u64, b as u64)),
        streams: shared
            .session
            .streams
            .iter()
            .map(|s| {
                let v: Vec<f64> = s.samples.iter().map(|x| x.value).collect();
                WireStreamV2 {
                    id: s.id.clone(),
                    unit: s.unit.clone(),
                    origin: serde_json::to_string(&s.origin).unwrap_or_default(),
                    settings: serde_json::to_string(&s.settings).unwrap_or_default(),
                    stale: s.stale.clone(),
                    times: times(&s.samples),
                    values: values(&v),
                }
            })
            .collect(),
    };
    let mut packed = postcard::to_allocvec(&wire).unwrap_or_default();
    let compare = &shared.session.compare;
    let derived = &shared.session.derived;
    if !derived.is_empty() || compare.is_some() {
        let tail: DerivedTail = match derived.is_empty() {
            true => String::new(),
            false => crate::model::derived_text::save(derived),
        };
        packed.extend(postcard::to_allocvec(&tail).unwrap_or_default());
    }
    if let Some(setup) = compare {
        let tail: CompareTail = setup.to_json().to_string();
        packed.extend(postcard::to_allocvec(&tail).unwrap_or_default());
    }
    let mut out = Vec::with_capacity(packed.len() / 2 + 3);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend(pack.deflate(&packed));
    out
}

/// One stream as a version's wire types carry it.
struct WireStream {
    id: String,
    unit: String,
    origin: String,
    settings: String,
    stale: Option<String>,
    times: Vec<f64>,
    values: Vec<f64>,
}

impl From<WireStreamV1> for WireStream {
    fn from(w: WireStreamV1) -> WireStream {
        WireStream {
            id: w.id,
            unit: w.unit,
            origin: w.origin,
            settings: w.settings,
            stale: w.stale,
            times: untimes(w.times),
            values: w.values,
        }
    }
}

impl From<WireStreamV2> for WireStream {
    fn from(w: WireStreamV2) -> WireStream {
        WireStream {
            id: w.id,
            unit: w.unit,
            origin: w.origin,
            settings: w.settings,
            stale: w.stale,
            times: untimes(w.times),
            values: unvalues(w.values),
        }
    }
}

/// Reads what [`to_bytes`] wrote, any version up to [`VERSION`].
pub fn from_bytes(bytes: &[u8], pack: &dyn Pack) -> Result<Shared, ShareError> {
    let damaged = |why: &str| ShareError::Damaged(why.to_string());
    let (head, body) = bytes
        .split_at_checked(3)
        .ok_or_else(|| damaged("too short"))?;
    if &head[..2] != MAGIC {
        return Err(damaged("not a share of this dashboard"));
    }
    let version = head[2];
    if version > VERSION {
        return Err(ShareError::NewerVersion(version));
    }
    let packed = inflate(body, pack)?;
    BUDGET.set(Some(2 * MAX_SAMPLES));
    let unreadable = |_| match BUDGET.get() {
        None => ShareError::Oversized(format!("it holds more than {MAX_SAMPLES} samples")),
        Some(_) => damaged("unreadable data"),
    };
    let (mut derived, mut compare) = (DerivedTail::new(), CompareTail::new());
    let (created_ms, view_stream, view_range, wire_streams, causes): (
        _,
        _,
        _,
        Vec<WireStream>,
        String,
    ) = match version {
        1 => {
            let w: WireV1 = postcard::from_bytes(&packed).map_err(unreadable)?;
            let streams = w.streams.into_iter().map(WireStream::from).collect();
            (
                w.created_ms,
                w.view_stream,
                w.view_range,
                streams,
                String::new(),
            )
        }
        2 => {
            let w: WireV2 = postcard::from_bytes(&packed).map_err(unreadable)?;
            let streams = w.streams.into_iter().map(WireStream::from).collect();
            (
                w.created_ms,
                w.view_stream,
                w.view_range,
                streams,
                String::new(),
            )
        }
        3 => {
            let (w, tail): (WireV3, _) = postcard::take_from_bytes(&packed).map_err(unreadable)?;
            if !tail.is_empty() {
                let rest;
                (derived, rest) = postcard::take_from_bytes(tail).map_err(unreadable)?;
                if !rest.is_empty() {
                    compare = postcard::from_bytes(rest).map_err(unreadable)?;
                }
            }
            let streams = w.streams.into_iter().map(WireStream::from).collect();
            (w.created_ms, w.view_stream, w.view_range, streams, w.causes)
        }
        _ => return Err(damaged("unknown format")),
    };
    let causes = read_causes(&causes).map_err(ShareError::Damaged)?;
    let derived = match derived.as_str() {
        "" => Vec::new(),
        text => crate::model::derived_text::load(text)
            .map_err(|e| damaged(&format!("its derived streams are unreadable ({e})")))?,
    };
    let compare = match compare.as_str() {
        "" => None,
        text => Some(crate::model::CompareSetup::from_json(
            &serde_json::from_str(text)
                .map_err(|e| damaged(&format!("its comparison setup is unreadable ({e})")))?,
        )),
    };
    let mut streams = Vec::with_capacity(wire_streams.len());
    for w in wire_streams {
        let origin: Origin =
            serde_json::from_str(&w.origin).map_err(|_| damaged("a stream's origin"))?;
        let settings: Settings =
            serde_json::from_str(&w.settings).map_err(|_| damaged("a stream's settings"))?;
        if w.times.len() != w.values.len() {
            return Err(damaged("times and values disagree"));
        }
        let samples: Vec<Sample> = w
            .times
            .into_iter()
            .zip(w.values)
            .map(|(t, value)| Sample { t, value })
            .collect();
        crate::decode::samples(&w.id, &samples).map_err(ShareError::Damaged)?;
        let mut stream = Stream::new(w.id, w.unit, origin);
        stream.samples = samples;
        stream.settings = settings;
        stream.stale = w.stale;
        streams.push(stream);
    }
    if !created_ms.is_finite() {
        return Err(damaged("its creation time is not a finite number"));
    }
    Ok(Shared {
        session: Session {
            streams,
            causes,
            derived,
            compare,
            ..Session::default()
        },
        view: View {
            stream: view_stream,
            range: view_range.map(|(a, b)| (a as usize, b as usize)),
        },
        created_ms,
    })
}

/// A link's assignable causes: none when empty; otherwise `Causes`' JSON, or an error that
/// names the annotation at fault.
fn read_causes(text: &str) -> Result<Causes, String> {
    if text.is_empty() {
        return Ok(Causes::default());
    }
    serde_json::from_str(text).map_err(|e| format!("its annotations are unreadable ({e})"))
}

/// zlib-inflates a link's data, at most [`MAX_INFLATED`] bytes of it.
fn inflate(body: &[u8], pack: &dyn Pack) -> Result<Vec<u8>, ShareError> {
    use llmscope_app_lazy::pack::Inflate;
    pack.inflate(body, MAX_INFLATED).map_err(|e| match e {
        Inflate::TooLarge => ShareError::Oversized(format!(
            "its data inflates to more than {} MiB",
            MAX_INFLATED / (1024 * 1024)
        )),
        Inflate::Damaged => ShareError::Damaged("the compressed data is cut or altered".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::share::tests::NATIVE;

    #[test]
    fn decimals_travel_as_integers_and_odd_values_raw() {
        let v = [420.123, -0.5, 7.0, 1e-6];
        assert!(matches!(values(&v), ValuesV2::Decimal { places: 6, .. }));
        assert_eq!(unvalues(values(&v)), v);
        let odd = [0.1 + 0.2, f64::NAN];
        assert!(matches!(values(&odd), ValuesV2::Raw(_)));
        let neg_zero = [-0.0];
        assert_eq!(
            unvalues(values(&neg_zero))[0].to_bits(),
            (-0.0f64).to_bits()
        );
    }

    /// A version-3 link of one small stream with `causes` as its causes' text.
    fn v3_link(causes: &str) -> Vec<u8> {
        let wire = WireV3 {
            created_ms: 1.0,
            view_stream: None,
            view_range: None,
            streams: vec![WireStreamV2 {
                id: "a".into(),
                unit: String::new(),
                origin: serde_json::to_string(&Origin::Simulator).unwrap(),
                settings: serde_json::to_string(&Settings::default()).unwrap(),
                stale: None,
                times: times(&[Sample { t: 5.0, value: 1.0 }]),
                values: values(&[1.0]),
            }],
            causes: causes.into(),
        };
        let mut out = b"LS".to_vec();
        out.push(3);
        let packed = postcard::to_allocvec(&wire).unwrap();
        out.extend(NATIVE.deflate(&packed));
        out
    }

    #[test]
    fn annotations_travel_in_a_link_and_bad_ones_are_named() {
        use crate::model::Annotation;
        let mut causes = Causes {
            require: true,
            ..Causes::default()
        };
        causes.annotate(Annotation {
            stream: "a".into(),
            from: 5.0,
            to: 5.0,
            cause: "setpoint change".into(),
            action: "none".into(),
            note: "shift B".into(),
        });
        let good = from_bytes(&v3_link(&serde_json::to_string(&causes).unwrap()), NATIVE).unwrap();
        assert_eq!(good.session.causes, causes);
        assert_eq!(good.session.streams.len(), 1);
        assert!(from_bytes(&v3_link(""), NATIVE)
            .unwrap()
            .session
            .causes
            .is_default());
        let e = from_bytes(&v3_link("{\"annotations\": 7}"), NATIVE).unwrap_err();
        assert!(
            e.to_string().contains("its annotations are unreadable"),
            "{e}"
        );
        let mut upside_down = causes.clone();
        upside_down.annotations[0].from = 9.0;
        let e = from_bytes(
            &v3_link(&serde_json::to_string(&upside_down).unwrap()),
            NATIVE,
        )
        .unwrap_err();
        let said = "its annotations are unreadable (annotation 0: it needs a stream";
        assert!(e.to_string().contains(said), "{e}");
    }

    /// Derived streams' definitions ride in version 3's optional tail: a link made before
    /// them still opens, the body before the tail reads as before, and a damaged tail is
    /// named.
    #[test]
    fn derived_definitions_travel_in_an_optional_tail() {
        let old = from_bytes(&v3_link(""), NATIVE).unwrap();
        assert!(old.session.derived.is_empty());
        assert_eq!(old.session.streams.len(), 1, "an old link still opens");

        let mut shared = old;
        let program = llmscope_app_lazy::derived::Program {
            inputs: vec!["a".into()],
            code: vec![0, 0],
        };
        let def = crate::model::Derived::new("twice".into(), "2 × a".into(), program);
        shared.session.derived.push(def);
        let bytes = to_bytes(&shared, NATIVE);
        assert_eq!(
            from_bytes(&bytes, NATIVE).unwrap().session.derived,
            shared.session.derived
        );
        // Version 3 read without the tail, as before it existed: the rest is unchanged.
        let packed = inflate(&bytes[3..], NATIVE).unwrap();
        BUDGET.set(Some(2 * MAX_SAMPLES));
        let before: WireV3 = postcard::from_bytes(&packed).unwrap();
        assert_eq!(before.streams.len(), 1);

        let mut damaged = postcard::to_allocvec(&before).unwrap();
        damaged.extend(postcard::to_allocvec(&"0g".to_string()).unwrap());
        let mut link = b"LS".to_vec();
        link.push(3);
        link.extend(NATIVE.deflate(&damaged));
        let e = from_bytes(&link, NATIVE).unwrap_err().to_string();
        assert!(e.contains("its derived streams are unreadable"), "{e}");
    }

    /// The Compare view's setup rides in a second tail: with or without derived streams it
    /// comes back whole, a link without it opens with none, and the first tail still reads
    /// alone as a dashboard older than the setup reads it.
    #[test]
    fn the_comparison_setup_travels_in_a_second_tail() {
        let mut shared = from_bytes(&v3_link(""), NATIVE).unwrap();
        assert_eq!(
            shared.session.compare, None,
            "an old link opens without one"
        );
        let setup = crate::model::CompareSetup {
            machines: false,
            metric: "total_ms".into(),
            unticked: vec!["b".into()],
            fields: vec![("max_error_rate".into(), "0.05".into())],
            all_pairs: true,
            ..Default::default()
        };
        shared.session.compare = Some(setup.clone());
        let bytes = to_bytes(&shared, NATIVE);
        let back = from_bytes(&bytes, NATIVE).unwrap().session;
        assert_eq!((back.compare, back.derived.len()), (Some(setup), 0));
        let packed = inflate(&bytes[3..], NATIVE).unwrap();
        BUDGET.set(Some(2 * MAX_SAMPLES));
        let (_, tail): (WireV3, _) = postcard::take_from_bytes(&packed).unwrap();
        let derived: DerivedTail = postcard::from_bytes(tail).unwrap();
        assert_eq!(derived, "", "an older dashboard reads no derived stream");
    }
}
