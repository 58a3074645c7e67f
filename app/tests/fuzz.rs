//! A bounded, deterministic fuzz run of every parser of outside input in the app: share links
//! (the `#s=` fragment and the Worker-sealed kind), session and telemetry JSON, CSV import,
//! WebSocket frames and probe Worker answers. Stable Rust, no fuzzing engine: a seeded
//! generator makes random inputs and mutations of valid ones (so most inputs get past the
//! first check), a fixed number per target, so every run tries the same inputs.
//!
//! Each input must give a result or an error, never a panic; what is read must hold only
//! finite numbers; and the bytes the parser holds at its peak (a counting allocator) must stay
//! under a bound linear in the input, or under the share link's caps for inputs that inflate.
//! A hang shows as a test that does not finish. Each target prints how many inputs it tried
//! and how long it took (docs/security.md records them).

use llmscope_app::decode;
use llmscope_app::export::share::{self, Shared, View};
use llmscope_app::export::telemetry;
use llmscope_app::model::{Origin, Sample, Session, Stream};
use llmscope_app::sources::import;
use llmscope_app_lazy::pack;
use llmscope_fuzzkit::{linear, peak, Counting, Gen};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Runs one target; `one` says whether its input was read (the share of inputs that get past
/// every check shows the mutations reach deep).
fn run(target: &str, inputs: usize, seed: u64, mut one: impl FnMut(&mut Gen, usize) -> bool) {
    let mut read = 0;
    llmscope_fuzzkit::run(target, inputs, seed, |gen, i| {
        read += usize::from(one(gen, i))
    });
    eprintln!("fuzz {target}: {read} read, the others refused");
}

// ---- valid inputs to start from ----

fn session(points: usize) -> Session {
    let mut a = Stream::new("press1/barrel_temp", "°C", Origin::Simulator);
    a.samples = (0..points)
        .map(|i| Sample {
            t: 1_795_000_000_000.0 + 500.0 * i as f64,
            value: 200.0 + (i as f64 * 0.37).sin(),
        })
        .collect();
    a.settings.usl = Some(205.0);
    a.settings.chart.chart = Some("ewma".into());
    let mut b = Stream::new(
        "gpt/ttft_ms",
        "ms",
        Origin::Live {
            url: "ws://x/ws".into(),
        },
    );
    b.samples = (0..points / 2)
        .map(|i| Sample {
            t: i as f64,
            value: 400.0 + (i % 5) as f64,
        })
        .collect();
    b.seqs = (1..=b.samples.len() as u64).collect();
    b.stale = Some("modbus timeout".into());
    let mut s = Session {
        streams: vec![a, b],
        ..Session::default()
    };
    s.telemetry.probe_results.push(serde_json::json!({
        "target": "mini", "t": 1_795_000_000_000i64, "ok": false, "ttft_ms": null,
        "error": {"kind": "timeout"}, "extra": {"x": [1, 2.5, "y"]}
    }));
    s
}

fn shared(points: usize) -> Shared {
    Shared {
        session: session(points),
        view: View {
            stream: Some("gpt/ttft_ms".into()),
            range: Some((2, 9)),
        },
        created_ms: 1_795_000_000_123.0,
    }
}

/// Every sample of a session is finite, and no more than a link may hold.
fn check_session(s: &Session, what: &str) {
    let mut total = 0;
    for st in &s.streams {
        assert_eq!(decode::samples(&st.id, &st.samples), Ok(()), "{what}");
        total += st.samples.len();
    }
    assert!(total <= share::MAX_SAMPLES, "{what}: {total} samples");
}

/// A zlib stream inflating to at least `len` zeros (fixed Huffman: a literal 0, then "copy
/// 258 from 1 back" repeated).
fn zero_bomb(len: usize) -> Vec<u8> {
    let mut bits: Vec<u8> = vec![1, 1, 0];
    let mut code = |c: u32, n: u32| (0..n).rev().for_each(|i| bits.push((c >> i) as u8 & 1));
    code(0x30, 8);
    for _ in 0..=len / 258 {
        code(0b1100_0101, 8);
        code(0, 5);
    }
    code(0, 7);
    let mut out = vec![0x78, 0x01];
    out.extend(
        bits.chunks(8)
            .map(|c| c.iter().enumerate().fold(0u8, |a, (i, b)| a | (b << i))),
    );
    out.extend([0; 4]);
    out
}

fn link_bytes(version: u8, packed: &[u8]) -> Vec<u8> {
    let mut bytes = b"LS".to_vec();
    bytes.push(version);
    bytes.extend(pack::deflate(packed));
    bytes
}

/// The postcard bytes inside a valid link (what zlib wraps).
fn packed(link: &[u8]) -> Vec<u8> {
    pack::inflate(&link[3..], usize::MAX).expect("a valid link")
}

const SHARE_BOUND: usize = 512 << 20;
/// The byte work under links, as the second module does it.
const N: &share::Native = &share::Native;

/// Opens a link's bytes (`what` and the bytes name it on failure); whether it opened.
fn open_link(bytes: &[u8], what: &str) -> bool {
    let (got, held) = peak(|| share::from_bytes(bytes, N));
    assert!(held < SHARE_BOUND, "{what} {bytes:02x?}: held {held} bytes");
    let Ok(s) = got else { return false };
    check_session(&s.session, &format!("{what} {bytes:02x?}"));
    assert!(s.created_ms.is_finite(), "{what} {bytes:02x?}");
    true
}

#[test]
fn fuzz_share_fragments() {
    let seeds: Vec<Vec<u8>> = [0, 1, 12, 300]
        .iter()
        .map(|&n| share::to_bytes(&shared(n), N))
        .chain([share::unb64(include_str!("data/share-v1.txt").trim()).expect("the v1 fixture")])
        .collect();
    let inner: Vec<(u8, Vec<u8>)> = seeds.iter().map(|s| (s[2], packed(s))).collect();
    let tokens: &[&[u8]] = &[
        b"LS\x02",
        b"\xff\xff\xff\xff\x0f",
        b"\x00",
        b"\x80\x80\x80\x80",
    ];
    run("share fragment", 16_000, 1, |rng, i| match i % 4 {
        // The base64url text, as a link holds it.
        0 => {
            let text = share::b64(rng.pick(&seeds).as_slice());
            let bad = rng.mutate(text.as_bytes(), &[b"-", b"_", b"=", b"%41", b" "]);
            let bad = String::from_utf8_lossy(&bad).into_owned();
            let (got, held) = peak(|| share::from_fragment(&bad, N));
            assert!(held < SHARE_BOUND, "{bad}: held {held}");
            let Ok(s) = got else { return false };
            check_session(&s.session, &bad);
            true
        }
        // The bytes, compressed as they are.
        1 => {
            let bytes = rng.mutated(&seeds, tokens);
            open_link(&bytes, "bytes")
        }
        // The postcard inside, recompressed, so the mutation reaches the decoder.
        2 => {
            let (version, body) = rng.pick(&inner).clone();
            let body = rng.mutate(&body, tokens);
            open_link(&link_bytes(version, &body), "postcard")
        }
        _ => {
            let mut bytes = b"LS".to_vec();
            bytes.extend(rng.bytes(200));
            open_link(&bytes, "random")
        }
    });
    // Bombs: each whole, then a few mutations.
    let mut zeros = b"LS\x02".to_vec();
    zeros.extend(zero_bomb(share::MAX_INFLATED + 1));
    let bombs = [zeros, link_bytes(2, &claimed(share::MAX_SAMPLES + 1))];
    run("share fragment bombs", 6, 2, |rng, i| {
        let bomb = &bombs[i % 2];
        let bytes = if i < 2 {
            bomb.clone()
        } else {
            rng.mutate(bomb, tokens)
        };
        let (got, held) = peak(|| share::from_bytes(&bytes, N));
        assert!(held < SHARE_BOUND, "bomb {i}: held {held}");
        assert!(got.is_err(), "bomb {i} opened");
        false
    });
}

/// postcard bytes of a version-2 session of one stream claiming `n` samples (zero deltas).
fn claimed(n: usize) -> Vec<u8> {
    let varint = |out: &mut Vec<u8>, mut x: usize| {
        while x >= 0x80 {
            out.push((x as u8) | 0x80);
            x >>= 7;
        }
        out.push(x as u8);
    };
    let mut out = vec![0u8; 8];
    out.extend([0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    varint(&mut out, n);
    out.resize(out.len() + n, 0);
    out.extend([1, 0, 0]);
    varint(&mut out, n);
    out.resize(out.len() + n, 0);
    out
}

#[test]
fn fuzz_share_sealed() {
    let key = [7u8; 32];
    let nonce = [9u8; 12];
    let seal = |plain: &[u8]| {
        let mut out = vec![1u8];
        out.extend_from_slice(&nonce);
        out.extend(pack::seal(plain, &key, &nonce));
        out
    };
    let plains: Vec<Vec<u8>> = [1, 40]
        .iter()
        .map(|&n| share::to_bytes(&shared(n), N))
        .collect();
    let sealed: Vec<Vec<u8>> = [3, 80]
        .iter()
        .map(|&n| share::seal(&shared(n), &key, &nonce, N))
        .collect();
    let tokens: &[&[u8]] = &[b"\x01", b"\x02", b"\x00\x00\x00\x00"];
    run("share sealed", 8000, 3, |rng, i| {
        if i % 2 == 0 {
            // Altered in storage: authentication fails, whatever changed.
            let bytes = rng.mutated(&sealed, tokens);
            let (got, held) = peak(|| share::open(&bytes, &key, N));
            assert!(held < SHARE_BOUND, "sealed {bytes:02x?}: held {held}");
            let unchanged = sealed.contains(&bytes);
            assert!(got.is_err() || unchanged, "sealed {bytes:02x?} opened");
            return unchanged;
        }
        // Sealed by someone with the key: the plaintext is what an attacker chose.
        let plain = rng.mutated(&plains, tokens);
        let bytes = seal(&plain);
        let (got, held) = peak(|| share::open(&bytes, &key, N));
        assert!(held < SHARE_BOUND, "plain {plain:02x?}: held {held}");
        let Ok(s) = got else { return false };
        check_session(&s.session, &format!("plain {plain:02x?}"));
        true
    });
    let mut bomb = b"LS\x02".to_vec();
    bomb.extend(zero_bomb(share::MAX_INFLATED + 1));
    let (got, held) = peak(|| share::open(&seal(&bomb), &key, N));
    assert!(held < SHARE_BOUND && got.is_err(), "{got:?}, {held}");
}

const JSON_TOKENS: &[&[u8]] = &[
    b"null",
    b"1e999",
    b"-1e400",
    b"NaN",
    b"\"NaN\"",
    b"-0",
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b":",
    b"\"",
    b"\\u0000",
    b"\\ud800",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"1e-400",
    b"\"streams\"",
    b"\"samples\"",
    b"\"value\"",
    b"\"t\"",
    b"\"format\"",
    b"\"llmscope-telemetry\"",
];

#[test]
fn fuzz_session_and_telemetry_json() {
    let s = session(30);
    let seeds: Vec<String> = vec![
        telemetry::export_direct(&s),
        telemetry::export_direct(&Session::default()),
        serde_json::to_string(&Session {
            streams: s.streams.clone(),
            ..Session::default()
        })
        .expect("a bare session"),
    ];
    run("session/telemetry JSON", 16_000, 4, |rng, i| {
        let input = if i % 10 == 9 {
            text(rng.bytes(300))
        } else {
            text(rng.mutated(&seeds, JSON_TOKENS))
        };
        // The page's import, the second module's part called directly.
        let (got, held) = peak(|| telemetry::import_direct(&input));
        assert!(held < linear(input.len()), "{input}: held {held}");
        let Ok(s) = got else { return false };
        for st in &s.streams {
            assert_eq!(decode::samples(&st.id, &st.samples), Ok(()), "{input}");
        }
        true
    });
}

#[test]
fn fuzz_csv_import() {
    let seeds: Vec<&[u8]> = vec![
        b"t,ttft\n1,400\n2,410\n3,\"420\"\n",
        b"subgroup,value,phase\r\n1,74.030,I\r\n1,74.002,I\r\n2,\"73.995\",I\r\n",
        b"\xef\xbb\xbfi,note,v,w\n0,\"a,\nb\"\"c\",1.5,-2e3\n1,,2.5,0\n\n2,x,3.5,1e-9\n",
        b"a,b\n1,2\n\"unclosed,3\n4,5\n",
    ];
    let tokens: &[&[u8]] = &[
        b"\"",
        b"\"\"",
        b",",
        b"\n",
        b"\r",
        b"\r\n",
        b"NaN",
        b"inf",
        b"-",
        b"1e999",
        b"\xef\xbb\xbf",
        b" ",
        b"\t",
        b"\xc3\xa9",
    ];
    run("CSV import", 16_000, 5, |rng, i| {
        let skip = rng.below(2) == 0;
        let input = if i % 10 == 9 {
            text(rng.bytes(200))
        } else {
            text(rng.mutated(&seeds, tokens))
        };
        let (got, held) = peak(|| import::csv(&input, skip));
        assert!(held < linear(input.len()), "{input:?}: held {held}");
        let Ok(got) = got else { return false };
        let n = got.columns.first().map_or(0, |c| c.1.len());
        assert_eq!(n + got.skipped.len(), got.rows, "{input:?}");
        for (name, values) in &got.columns {
            assert_eq!(values.len(), n, "{input:?}: {name}");
            assert!(values.iter().all(|v| v.is_finite()), "{input:?}");
        }
        true
    });
}

#[test]
fn fuzz_websocket_frames() {
    let seeds: Vec<&[u8]> = vec![
        br#"{"type":"hello","server":"llmscope-shim/0.1","streams":[{"id":"press1/temperature","unit":"\u00b0C","lsl":null,"usl":80.0}]}"#,
        br#"{"type":"sample","stream":"press1/temperature","seq":1234,"t":1764201600123,"value":71.3}"#,
        br#"{"type":"batch","samples":[{"stream":"a","seq":1,"t":5,"value":1.5},{"stream":"b","seq":2,"t":6,"value":-2.0},{"type":"sample","stream":"c","seq":3,"t":7,"value":0}]}"#,
        br#"{"type":"status","stream":"press1/temperature","state":"stale","reason":"modbus timeout"}"#,
        br#"{"type":"gap","missed":120}"#,
    ];
    run("WebSocket frames", 100_000, 6, |rng, i| {
        let input = if i % 10 == 9 {
            text(rng.bytes(120))
        } else {
            text(rng.mutated(&seeds, JSON_TOKENS))
        };
        let (got, held) = peak(|| decode::frame(&input));
        assert!(held < linear(input.len()), "{input}: held {held}");
        let Ok(read) = got else { return false };
        use llmscope_protocol::ServerFrame;
        let finite = |x: Option<f64>| x.is_none_or(f64::is_finite);
        match &read.frame {
            ServerFrame::Sample(s) => assert!(s.value.is_finite(), "{input}"),
            ServerFrame::Batch { samples } => {
                assert!(samples.iter().all(|s| s.value.is_finite()), "{input}")
            }
            ServerFrame::Hello { streams, .. } => assert!(
                streams.iter().all(|s| finite(s.lsl) && finite(s.usl)),
                "{input}"
            ),
            _ => {}
        }
        true
    });
}

#[test]
fn fuzz_probe_results() {
    let one = br#"{"target":"mini","provider":"openai","model":"m","t":1795000000000,"ok":true,"status":200,"ttft_ms":250.0,"total_ms":1250.0,"input_tokens":12,"output_tokens":11,"tokens_per_s":11.0,"error":null,"extra":{}}"#;
    let list = [b"[".as_slice(), one, b",", one, b"]"].concat();
    let wrapped = [b"{\"results\":".as_slice(), &list, b"}"].concat();
    let seeds = [list, wrapped];
    run("probe results", 60_000, 7, |rng, i| {
        let input = if i % 10 == 9 {
            text(rng.bytes(120))
        } else {
            text(rng.mutated(&seeds, JSON_TOKENS))
        };
        let (got, held) = peak(|| decode::results(&input));
        assert!(held < linear(input.len()), "{input}: held {held}");
        let Ok(read) = got else { return false };
        let numbers = read
            .results
            .iter()
            .flat_map(|r| r.as_object())
            .flat_map(|o| o.values());
        assert!(
            numbers.filter_map(|v| v.as_f64()).all(f64::is_finite),
            "{input}"
        );
        true
    });
}
