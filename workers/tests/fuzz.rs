//! A bounded, deterministic fuzz run of every parser of outside input in the Worker, on stable
//! Rust inside `cargo test`: provider streams (SSE, NDJSON, AWS event-stream) through each
//! provider's parser, `LLMSCOPE_TARGETS`, `LLMSCOPE_DESTINATIONS` (templates included),
//! Slack's interaction requests and their signatures, and model answers through every kind of
//! quality check. Inputs come from a seeded generator: random
//! bytes, and valid inputs mutated (bytes flipped, inserted, deleted, spans duplicated, cut),
//! fed in random piece sizes. Each target runs for a fixed number of inputs; the run asserts
//! no panic and a bounded peak of heap memory (a counting allocator).

use llmscope_fuzzkit::{peak, Counting, Gen};
use llmscope_probes::aws::eventstream::encode;
use llmscope_probes::check::{first_number, Check};
use llmscope_probes::provider::{self, Outcome};
use llmscope_probes::target;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The inputs per target: a few seconds in a debug build.
const INPUTS: usize = 20_000;
/// The heap a target may peak at: far above what parsing these inputs needs, far below what an
/// unbounded buffer would take.
const PEAK_LIMIT: usize = 8 << 20;

fn run(name: &str, seed: u64, seeds: &[Vec<u8>], check: impl Fn(&[u8], &mut Gen)) {
    let mut top = 0;
    llmscope_fuzzkit::run(name, INPUTS, seed, |gen, i| {
        let bytes = gen.input(seeds, &[b"data: ", b"\n\n", b"event: "], 512);
        let ((), held) = peak(|| check(&bytes, gen));
        assert!(
            held < PEAK_LIMIT,
            "{name}: input {i} peaked at {held} bytes"
        );
        top = top.max(held);
    });
    eprintln!("fuzz {name}: peak heap {} KiB", top / 1024);
}

fn targets(json: &str) -> target::Target {
    target::parse(&format!("[{json}]")).valid[0].clone()
}

/// Feeds `bytes` to the target's parser in random pieces, as the network would.
fn parse(t: &target::Target, bytes: &[u8], rng: &mut Gen) -> Outcome {
    let mut parser = provider::adapter(t.provider).parser(t);
    let mut out = Outcome::default();
    let mut rest = bytes;
    while !rest.is_empty() && out.failure.is_none() {
        let (piece, tail) = rest.split_at(1 + rng.below(rest.len().min(97)));
        parser.feed(piece, &mut out);
        rest = tail;
    }
    parser.finish(&mut out);
    out
}

/// What every outcome must satisfy, whatever the input: a failure says what happened.
fn check_outcome(name: &str, out: &Outcome) {
    if let Some(f) = &out.failure {
        assert!(
            !f.message.is_empty(),
            "{name}: a failure without words: {f:?}"
        );
    }
}

/// The seeds, unmutated but in random pieces, parse as they should: the first is a complete
/// stream with text, the others are provider errors. So the fuzz run below feeds the real
/// parser (a broken harness or a parser that accepts nothing would fail here).
fn seeds_parse(name: &str, t: &target::Target, seeds: &[Vec<u8>]) {
    let mut rng = Gen::new(1);
    for (i, seed) in seeds.iter().enumerate() {
        let out = parse(t, seed, &mut rng);
        if i == 0 {
            assert!(
                out.failure.is_none() && out.done && out.text_chunks >= 1,
                "{name}: the good seed: {out:?}"
            );
        } else {
            assert!(out.failure.is_some(), "{name}: error seed {i}: {out:?}");
        }
    }
}

fn lines(texts: &[&str]) -> Vec<Vec<u8>> {
    texts.iter().map(|t| t.as_bytes().to_vec()).collect()
}

#[test]
fn provider_streams() {
    let cases: [(&str, &str, Vec<Vec<u8>>); 5] = [
        (
            "openai sse",
            r#"{"name":"o","provider":"openai","model":"m","key_secret":"K"}"#,
            lines(&[
                "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n",
                "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n",
            ]),
        ),
        (
            "anthropic sse",
            r#"{"name":"a","provider":"anthropic","model":"m","key_secret":"K"}"#,
            lines(&[
                "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
            ]),
        ),
        (
            "gemini sse",
            r#"{"name":"g","provider":"gemini","model":"m","key_secret":"K"}"#,
            lines(&[
                "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":4,\"candidatesTokenCount\":1}}\r\n\r\n",
            ]),
        ),
        (
            "ollama ndjson",
            r#"{"name":"l","provider":"ollama","model":"m"}"#,
            lines(&[
                "{\"message\":{\"content\":\"Hi\"},\"done\":false}\n{\"message\":{\"content\":\"\"},\"done\":true,\"prompt_eval_count\":4,\"eval_count\":1,\"load_duration\":1000}\n",
            ]),
        ),
        (
            "http ndjson",
            r#"{"name":"h","provider":"http","url":"http://h/x","stream":"ndjson","text_pointer":"/t","output_tokens_pointer":"/n"}"#,
            lines(&["{\"t\":\"a\"}\n{\"t\":\"b\",\"n\":2}\n", "{\"error\":\"x\"}\n"]),
        ),
    ];
    for (i, (name, json, seeds)) in cases.iter().enumerate() {
        let t = targets(json);
        seeds_parse(name, &t, seeds);
        run(name, 0x5eed + i as u64, seeds, |bytes, rng| {
            check_outcome(name, &parse(&t, bytes, rng));
        });
    }
}

#[test]
fn bedrock_event_stream() {
    let event = |kind: &str, payload: &str| {
        encode(
            &[(":event-type", kind), (":message-type", "event")],
            payload.as_bytes(),
        )
    };
    let mut good = event("contentBlockDelta", r#"{"delta":{"text":"Hi"}}"#);
    good.extend(event("messageStop", r#"{"stopReason":"end_turn"}"#));
    good.extend(event(
        "metadata",
        r#"{"usage":{"inputTokens":3,"outputTokens":1}}"#,
    ));
    let exception = encode(
        &[
            (":message-type", "exception"),
            (":exception-type", "throttlingException"),
        ],
        br#"{"message":"slow down"}"#,
    );
    let t = targets(
        r#"{"name":"b","provider":"bedrock","model":"m","region":"us-east-1","access_key_secret":"A","secret_key_secret":"S"}"#,
    );
    let seeds = [good, exception];
    seeds_parse("bedrock event-stream", &t, &seeds);
    run("bedrock event-stream", 0xbed, &seeds, |bytes, rng| {
        check_outcome("bedrock event-stream", &parse(&t, bytes, rng));
    });
}

#[test]
fn llmscope_targets() {
    let seeds = lines(&[
        r#"[{"name":"a","provider":"openai","model":"gpt-4o-mini","key_secret":"K","timeout_ms":2000,"price":{"input":0.15,"output":0.6}}]"#,
        r#"[{"name":"h","provider":"http","url":"http://h/x","headers":{"A":"{{key}}"},"body":{"p":"{{prompt}}"},"stream":"none","text_pointer":"/t"}]"#,
        r#"[{"name":"b","provider":"bedrock","model":"m","region":"us-east-1","access_key_secret":"A","secret_key_secret":"S"},{"provider":"ollama"}]"#,
        r#"[{"name":"q","provider":"ollama","model":"m","check":{"json_pointer":"/a/0","equals":{"b":[1,null]}}}]"#,
    ]);
    // The seeds are what they claim: every target valid but the nameless one.
    let parsed: Vec<_> = seeds
        .iter()
        .map(|s| target::parse(&String::from_utf8_lossy(s)))
        .collect();
    assert_eq!(
        parsed
            .iter()
            .map(|p| (p.valid.len(), p.errors.len()))
            .collect::<Vec<_>>(),
        [(1, 0), (1, 0), (1, 1), (1, 0)],
        "{:?}",
        parsed.iter().map(|p| &p.errors).collect::<Vec<_>>()
    );
    run("LLMSCOPE_TARGETS", 0x7a6, &seeds, |bytes, _| {
        let parsed = target::parse(&String::from_utf8_lossy(bytes));
        for e in &parsed.errors {
            assert!(!e.field.is_empty() && !e.message.is_empty(), "{e:?}");
        }
    });
}

/// Destinations (`LLMSCOPE_DESTINATIONS`, `PUT /destinations`) with their templates, quiet
/// hours and routing: every problem names its destination.
#[test]
fn llmscope_destinations() {
    use llmscope_probes::notify::destination;
    let seeds = lines(&[
        r#"[{"name":"s","kind":"slack","url_secret":"U","targets":["a*","b?"],"severities":["signal"],"template":"{brand} {{x}} {target}\n{why}","quiet_hours":{"from":"22:00","to":"07:30","utc_offset":"-05:00"},"renotify_after_min":60}]"#,
        r#"[{"name":"j","kind":"json","url_secret":"U","signing_secret":"K"},{"name":"b","kind":"slack","token_secret":"T","channel":"C1","interactive":false}]"#,
    ]);
    for s in &seeds {
        let parsed = destination::parse(&String::from_utf8_lossy(s));
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    }
    run("LLMSCOPE_DESTINATIONS", 0xde5, &seeds, |bytes, _| {
        let parsed = destination::parse(&String::from_utf8_lossy(bytes));
        for e in &parsed.errors {
            assert!(e.starts_with("destination"), "{e}");
        }
        for d in &parsed.valid {
            let _ = d.routes("a1", llmscope_probes::notify::Severity::Signal);
            let _ = d.quiet_hours.map(|q| q.covers(1_765_000_000_000));
        }
    });
}

/// What reaches `POST /slack/actions` is anyone's: the signature check and the payload's
/// reader take mutated requests without a panic.
#[test]
fn slack_interactions() {
    use llmscope_probes::notify::slack;
    let seeds = lines(&[
        "payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%7B%22id%22%3A%22U1%22%2C%22username%22%3A%22ada%22%7D%2C%22actions%22%3A%5B%7B%22action_id%22%3A%22ack%22%2C%22block_id%22%3A%22alert%3A7%22%7D%5D%7D",
        "payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%7B%22id%22%3A%22U1%22%7D%2C%22actions%22%3A%5B%7B%22action_id%22%3A%22cause%22%2C%22block_id%22%3A%22alert%3A7%22%2C%22selected_option%22%3A%7B%22value%22%3A%22region+routing%22%7D%7D%5D%7D",
    ]);
    for s in &seeds {
        assert!(slack::interaction(&String::from_utf8_lossy(s)).is_ok());
    }
    run("POST /slack/actions", 0x51a, &seeds, |bytes, gen| {
        let text = String::from_utf8_lossy(bytes);
        let _ = slack::interaction(&text);
        let mut cut = gen.below(text.len().max(1));
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let (ts, sig) = text.split_at(cut);
        let refused = slack::verify("secret", Some(ts), Some(sig), bytes, 1_700_000_000);
        assert!(refused.is_err());
    });
}

/// A model's answer is outside input too: every kind of check judges mutated answers (text,
/// numbers, fenced JSON) without a panic, and the first number it reads is really in the text.
#[test]
fn quality_checks() {
    let checks: Vec<Check> = [
        r#"{"exact": "Paris"}"#,
        r#"{"regex": "(?i)^\\s*(yes|no)\\b.*\\d{2,}"}"#,
        r#"{"json_pointer": "/answer/1", "equals": {"v": [4.0, "x"]}}"#,
        r#"{"number": -3.5e2, "tolerance": 0.5}"#,
    ]
    .iter()
    .map(|c| {
        let value = serde_json::from_str(c).expect("a JSON check");
        Check::parse(&value).expect("a valid check")
    })
    .collect();
    let seeds = lines(&[
        " Paris\n",
        "Yes, 42 of them",
        "Here:\n```json\n{\"answer\": [0, {\"v\": [4, \"x\"]}]}\n```\nend",
        "It says −350.25e0, not GPT-4 or 1,234.5E+3",
    ]);
    let judged: Vec<Vec<bool>> = seeds
        .iter()
        .map(|s| {
            checks
                .iter()
                .map(|c| c.passes(&String::from_utf8_lossy(s)))
                .collect()
        })
        .collect();
    // The seeds are what they claim: each passes its own check, and only that one.
    for (i, row) in judged.iter().enumerate() {
        let passed: Vec<usize> = (0..row.len()).filter(|&j| row[j]).collect();
        assert_eq!(passed, [i], "seed {i}: {row:?}");
    }
    run("quality checks", 0x9a1, &seeds, |bytes, _| {
        let answer = String::from_utf8_lossy(bytes);
        for c in &checks {
            c.passes(&answer);
        }
        if let Some(x) = first_number(&answer).filter(|x| x.is_finite() && *x != 0.0) {
            let digits = format!("{}", x.abs());
            let lead = digits.trim_start_matches(['0', '.']).chars().next();
            assert!(
                lead.is_some_and(|d| answer.contains(d)),
                "{x} is not in {answer:?}"
            );
        }
    });
}
