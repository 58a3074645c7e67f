//! Provider responses through each provider's parser, in pieces the first byte sizes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmscope_probes::provider::{self, Outcome};
use llmscope_probes::target;

const TARGETS: &str = r#"[
 {"name":"o","provider":"openai","model":"m","key_secret":"K"},
 {"name":"a","provider":"anthropic","model":"m","key_secret":"K"},
 {"name":"g","provider":"gemini","model":"m","key_secret":"K"},
 {"name":"l","provider":"ollama","model":"m"},
 {"name":"b","provider":"bedrock","model":"m","region":"us-east-1","access_key_secret":"A","secret_key_secret":"S"},
 {"name":"h","provider":"http","url":"http://h/x","stream":"ndjson","text_pointer":"/t"}
]"#;

fuzz_target!(|data: &[u8]| {
    let Some((&head, body)) = data.split_first() else {
        return;
    };
    let targets = target::parse(TARGETS).valid;
    let t = &targets[usize::from(head) % targets.len()];
    let mut parser = provider::adapter(t.provider).parser(t);
    let mut out = Outcome::default();
    for piece in body.chunks(1 + usize::from(head >> 3)) {
        parser.feed(piece, &mut out);
    }
    parser.finish(&mut out);
});
