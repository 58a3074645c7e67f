//! The `[publish]` keys: defaults, and errors that name the key.

use super::*;

fn parse(extra: &str) -> Result<Config, String> {
    let text = format!(
        "[[mqtt]]\nname = \"a\"\nbroker = \"mqtt://127.0.0.1:1883\"\n[[mqtt.subscribe]]\ntopic = \"x\"\nstream = \"x\"\n\
         [publish]\nbroker = \"mqtt://127.0.0.1:1883\"\n{extra}"
    );
    crate::config::parse(&text, "plant.toml")
        .map(|c| c.publish.unwrap())
        .map_err(|e| e.to_string())
}

#[test]
fn defaults_are_the_contracts() {
    let c = parse("topic_prefix = \"llmscope/plant1\"").unwrap();
    assert_eq!(c.format, Format::Json);
    assert_eq!(
        (c.group_id.as_str(), c.qos, c.clean_session),
        ("llmscope", 1, false)
    );
    assert_eq!(
        (c.buffer_dir.clone(), c.buffer_max_mb, c.buffer_max_age_s),
        (None, 256, 86_400)
    );
    assert!(!c.edge_node().is_empty(), "the host name");
    let c = parse("format = \"sparkplug\"\ngroup_id = \"p1\"\nedge_node_id = \"pc7\"\nqos = 0\nclean_session = true\nbuffer_dir = \"/nonexistent/buf\"\nbuffer_max_mb = 1\nbuffer_max_age_s = 60").unwrap();
    assert_eq!(
        (c.format, c.edge_node().as_str(), c.qos),
        (Format::Sparkplug, "pc7", 0)
    );
    assert_eq!(c.limits().max_bytes, 1 << 20);
    assert_eq!(c.limits().max_age_ms, 60_000);
}

#[test]
fn bad_values_name_their_key() {
    let cases = [
        ("", "plant.toml: publish.topic_prefix: is missing"),
        (
            "topic_prefix = \"a/\"",
            "publish.topic_prefix: 'a/': drop the final '/'",
        ),
        ("topic_prefix = \"a/+\"", "publish.topic_prefix"),
        ("topic_prefix = \"$SYS\"", "publish.topic_prefix"),
        ("topic_prefix = \"\"", "publish.topic_prefix: is empty"),
        (
            "format = \"xml\"",
            "unknown variant `xml`, expected `json` or `sparkplug`",
        ),
        (
            "format = \"sparkplug\"\ngroup_id = \"a/b\"",
            "line 10: publish.group_id: the group_id 'a/b' contains '/'",
        ),
        (
            "format = \"sparkplug\"\nedge_node_id = \"\"",
            "publish.edge_node_id: the edge_node_id is empty",
        ),
        (
            "format = \"sparkplug\"\nqos = 2",
            "line 10: publish.qos: 2 is not supported",
        ),
        (
            "format = \"sparkplug\"\npassword = \"secret\"",
            "publish.password: needs a username",
        ),
        (
            "format = \"sparkplug\"\nbuffer_max_mb = 0",
            "publish.buffer_max_mb: must be at least 1",
        ),
        (
            "format = \"sparkplug\"\nbuffer_max_age_s = 0",
            "publish.buffer_max_age_s: must be at least 1",
        ),
        (
            "format = \"sparkplug\"\nbuffer_dir = \"/etc/hostname\"",
            "publish.buffer_dir: /etc/hostname is a file",
        ),
        (
            "format = \"sparkplug\"\nqos = \"1\"",
            "invalid type: string \"1\", expected u8",
        ),
        (
            "format = \"sparkplug\"\nbuffer_size = 1",
            "unknown field `buffer_size`",
        ),
    ];
    for (extra, says) in cases {
        let e = parse(extra).unwrap_err();
        assert!(e.contains(says), "{extra:?}: {e}");
    }
    let c = parse("topic_prefix = \"a\"\nbroker = \"mqtt://h:0\"");
    assert!(c.unwrap_err().contains("broker"));
}

#[test]
fn the_client_id_is_stable_and_short() {
    let a = parse("topic_prefix = \"a\"").unwrap();
    let b = parse("topic_prefix = \"b\"").unwrap();
    assert_eq!(
        a.client_id(),
        parse("topic_prefix = \"a\"").unwrap().client_id()
    );
    assert_ne!(a.client_id(), b.client_id());
    assert!(a.client_id().len() <= 23, "{}", a.client_id());
}
