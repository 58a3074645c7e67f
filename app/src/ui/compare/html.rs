//! HTML text for the Compare view's finished reports: everything from outside (target and
//! model names, file names, sentences) is escaped on the way in.

/// `text` as HTML content: `&`, `<` and `>` escaped.
pub fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `text` as a double-quoted attribute value: quotes escaped too.
pub fn attr(text: &str) -> String {
    esc(text).replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_become_markup() {
        let name = r#"<img src=x onerror="alert(1)">&"#;
        assert_eq!(esc(name), r#"&lt;img src=x onerror="alert(1)"&gt;&amp;"#);
        assert_eq!(
            attr(name),
            "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;"
        );
    }
}
