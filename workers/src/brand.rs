//! White-label (issue 16): the name messages are sent under. The Worker reads its own copy of
//! the site's `brand.json` from the variable `LLMSCOPE_BRAND` (the same JSON; only `name`
//! matters here, the other keys are the site's and are left alone), so a branded team's
//! alerts and digests never say "LLMscope".

/// The sender's name without a brand.
pub const DEFAULT_NAME: &str = "LLMscope";

/// The longest name taken, characters.
const MAX_NAME: usize = 100;

/// Reads `LLMSCOPE_BRAND`: the brand's name, and a problem when the variable is set but
/// unusable (then the default name is used).
pub fn name(var: Option<&str>) -> (String, Option<String>) {
    let Some(text) = var.filter(|v| !v.trim().is_empty()) else {
        return (DEFAULT_NAME.into(), None);
    };
    let bad = |why: String| (DEFAULT_NAME.into(), Some(why));
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return bad(format!(
                "invalid JSON: {e}: give brand.json's object, e.g. {{\"name\": \"Acme Watch\"}}"
            ))
        }
    };
    let Some(object) = value.as_object() else {
        return bad("must be a JSON object, as brand.json is".into());
    };
    match object.get("name") {
        None | Some(serde_json::Value::Null) => (DEFAULT_NAME.into(), None),
        Some(serde_json::Value::String(n))
            if !n.trim().is_empty()
                && n.chars().count() <= MAX_NAME
                && !n.chars().any(char::is_control) =>
        {
            (n.trim().to_string(), None)
        }
        Some(other) => bad(format!(
            "name: {other} must be 1 to {MAX_NAME} characters of text"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_comes_from_brand_json_or_is_the_default() {
        assert_eq!(name(None), ("LLMscope".into(), None));
        assert_eq!(
            name(Some(
                r#"{"name": " Acme Watch ", "logo_light": "l.svg", "colors": {}}"#
            )),
            ("Acme Watch".into(), None)
        );
        assert_eq!(name(Some(r#"{"footer": "x"}"#)), ("LLMscope".into(), None));
        let (n, problem) = name(Some("{name: 1}"));
        assert_eq!(n, "LLMscope");
        assert!(problem.unwrap().starts_with("invalid JSON"));
        let (_, problem) = name(Some(r#"{"name": 5}"#));
        assert_eq!(
            problem.unwrap(),
            "name: 5 must be 1 to 100 characters of text"
        );
        assert!(name(Some("[]")).1.unwrap().contains("JSON object"));
    }
}
