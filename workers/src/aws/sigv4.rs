//! AWS Signature Version 4 request signing, as Bedrock requires for every call.
//!
//! Follows "Create a signed AWS API request"
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>):
//! a canonical request is hashed into a string to sign, which is signed with a key derived
//! from the secret through an HMAC-SHA256 chain (date, region, service, "aws4_request").
//!
//! Pure functions only: no clock and no I/O, so the caller passes the request time
//! ([`amz_date`] turns epoch milliseconds into the `x-amz-date` form) and the module runs the
//! same natively and on `wasm32-unknown-unknown`.

use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The algorithm name that opens the string to sign and the `authorization` header.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// An AWS access key. `session_token` is set for temporary credentials (STS, SSO, instance
/// roles); it is then sent and signed as `x-amz-security-token`.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The access key id, e.g. `AKIDEXAMPLE`: sent in the clear in the credential scope.
    pub access_key_id: String,
    /// The secret access key: only ever an HMAC key, never sent.
    pub secret_access_key: String,
    /// The session token of temporary credentials.
    pub session_token: Option<String>,
}

/// Never prints the secret or the session token, so credentials can sit in logged structs.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// What is signed.
#[derive(Debug, Clone, Copy)]
pub struct SignInput<'a> {
    /// HTTP method, e.g. "POST".
    pub method: &'a str,
    /// The `host` header value, e.g. "bedrock-runtime.us-east-1.amazonaws.com".
    pub host: &'a str,
    /// The request path exactly as it will be sent, already percent-encoded, e.g.
    /// "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream" (see
    /// [`encode_segment`]). It is encoded once more for the canonical URI; see
    /// [`canonical_uri`].
    pub path: &'a str,
    /// The raw query string without '?', "" when there is none.
    pub query: &'a str,
    /// Extra headers to sign, e.g. `("content-type", "application/json")`. Names are
    /// case-insensitive. Headers this module manages itself (`host`, `x-amz-date`,
    /// `x-amz-content-sha256`, `x-amz-security-token`, `authorization`) are ignored here.
    pub headers: &'a [(&'a str, &'a str)],
    /// The request body; its SHA-256 is the last line of the canonical request.
    pub body: &'a [u8],
    /// e.g. "us-east-1".
    pub region: &'a str,
    /// The signing name of the service, e.g. "bedrock" (Bedrock runtime signs as "bedrock").
    pub service: &'a str,
    /// The request time as "YYYYMMDDTHHMMSSZ" (see [`amz_date`]); its first 8 characters are
    /// the date of the credential scope.
    pub amz_date: &'a str,
    /// Whether to send and sign `x-amz-content-sha256`. S3 requires it and other services
    /// accept it, so normal callers set `true`; AWS's own published examples (the IAM
    /// ListUsers example and the aws-sig-v4-test-suite) do not sign it, so `false` reproduces
    /// them. When `false` the header is neither signed nor returned.
    pub sign_content_sha256: bool,
}

/// Signs a request: returns the headers to add to it, `("authorization", ..)`,
/// `("x-amz-date", ..)`, `("x-amz-content-sha256", ..)` (when
/// [`SignInput::sign_content_sha256`]) and `("x-amz-security-token", ..)` (when the
/// credentials carry a session token). Names are lowercase.
///
/// `host` is signed but not returned: the HTTP client sets it from the URL, and it must be
/// equal to [`SignInput::host`]. The extra headers in [`SignInput::headers`] must be sent
/// with the values given here, since they are signed.
pub fn sign(input: &SignInput, creds: &Credentials) -> Vec<(String, String)> {
    let payload_hash = hex(&Sha256::digest(input.body));
    let token = creds.session_token.as_deref();
    let canonical = canonical_request(input, &payload_hash, token);
    let date = scope_date(input.amz_date);
    let scope = credential_scope(date, input.region, input.service);
    let to_sign = string_to_sign(input.amz_date, &scope, &canonical.text);
    let key = signing_key(&creds.secret_access_key, date, input.region, input.service);
    let signature = hex(&hmac_sha256(&key, to_sign.as_bytes()));

    let mut out = Vec::with_capacity(4);
    out.push((
        "authorization".to_string(),
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
            creds.access_key_id, canonical.signed_headers
        ),
    ));
    out.push(("x-amz-date".to_string(), input.amz_date.to_string()));
    if input.sign_content_sha256 {
        out.push(("x-amz-content-sha256".to_string(), payload_hash));
    }
    if let Some(token) = token {
        out.push(("x-amz-security-token".to_string(), token.to_string()));
    }
    out
}

/// "YYYYMMDDTHHMMSSZ" (the ISO 8601 basic format SigV4 uses for `x-amz-date`) from Unix epoch
/// milliseconds, in UTC: chrono's proleptic Gregorian calendar, no clock read. Milliseconds are
/// truncated toward the past (also for times before 1970). `None` outside chrono's range (about
/// ±262,000 years), which no clock reports.
pub fn amz_date(epoch_ms: i64) -> Option<String> {
    use chrono::{Datelike, Timelike};
    let t = chrono::DateTime::from_timestamp_millis(epoch_ms)?;
    // Fields rather than `format("%Y...")`: chrono's strftime parser would add 20 KB to the
    // Worker for one fixed layout.
    Some(format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    ))
}

/// Percent-encodes one path segment (or one query name or value) the way SigV4 requires:
/// the RFC 3986 unreserved characters `A-Z a-z 0-9 - _ . ~` are kept, every other byte of the
/// UTF-8 encoding becomes `%XX` with uppercase hex ("URI-encode each byte", step 1 of the
/// canonical request). A '/' is encoded too, so pass segments, not whole paths.
pub fn encode_segment(s: &str) -> String {
    uri_encode(s.as_bytes())
}

/// The canonical request text and its signed-header list.
pub(crate) struct CanonicalRequest {
    pub(crate) text: String,
    pub(crate) signed_headers: String,
}

/// Step 1 of the spec: the canonical request,
/// `method \n canonical URI \n canonical query \n canonical headers \n signed headers \n
/// payload hash`, where the canonical headers end in their own '\n' (so a blank line
/// precedes the signed-header list).
pub(crate) fn canonical_request(
    input: &SignInput,
    payload_hash: &str,
    session_token: Option<&str>,
) -> CanonicalRequest {
    // (lowercase name, normalized value); the managed headers first, then the caller's.
    let mut headers: Vec<(String, String)> = vec![
        ("host".to_string(), normalize_value(input.host)),
        ("x-amz-date".to_string(), normalize_value(input.amz_date)),
    ];
    if input.sign_content_sha256 {
        headers.push(("x-amz-content-sha256".to_string(), payload_hash.to_string()));
    }
    if let Some(token) = session_token {
        headers.push(("x-amz-security-token".to_string(), normalize_value(token)));
    }
    for (name, value) in input.headers {
        let name = name.trim().to_ascii_lowercase();
        if MANAGED_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let value = normalize_value(value);
        // The spec joins repeated headers into one comma-separated value, in the order given.
        match headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            None => headers.push((name, value)),
        }
    }
    // Sorted by (lowercase) name, byte order: the spec's "sort by header name".
    headers.sort_by(|a, b| a.0.cmp(&b.0));

    let mut text = String::new();
    text.push_str(input.method);
    text.push('\n');
    text.push_str(&canonical_uri(input.path, input.service));
    text.push('\n');
    text.push_str(&canonical_query(input.query));
    text.push('\n');
    for (name, value) in &headers {
        text.push_str(name);
        text.push(':');
        text.push_str(value);
        text.push('\n');
    }
    text.push('\n');
    let signed_headers = headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    text.push_str(&signed_headers);
    text.push('\n');
    text.push_str(payload_hash);
    CanonicalRequest {
        text,
        signed_headers,
    }
}

/// Headers whose values this module sets; a caller-supplied copy would sign a second,
/// conflicting value, so [`SignInput::headers`] entries with these names are skipped.
const MANAGED_HEADERS: &[&str] = &[
    "host",
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-security-token",
    "authorization",
];

/// The canonical URI: the path with each '/'-separated segment URI-encoded.
///
/// Every service except S3 encodes the path it is given *again*, even though it is already
/// percent-encoded on the wire (spec: "each path segment must be URI-encoded twice ... except
/// for Amazon S3 which only gets URI-encoded once"). So Bedrock's
/// `/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream` is canonicalised as
/// `/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse-stream`; signing the single
/// encoding gives a SignatureDoesNotMatch. For S3 the path is taken as sent. An empty path
/// is "/". Dot segments are not resolved: callers send normalized paths.
pub(crate) fn canonical_uri(path: &str, service: &str) -> String {
    if path.is_empty() {
        return "/".to_string();
    }
    let mut out = String::with_capacity(path.len() + 8);
    if !path.starts_with('/') {
        out.push('/');
    }
    if service == "s3" {
        out.push_str(path);
        return out;
    }
    let mut first = true;
    for segment in path.split('/') {
        if !first {
            out.push('/');
        }
        first = false;
        out.push_str(&encode_segment(segment));
    }
    out
}

/// The canonical query string: parameters sorted by name, then by value, each name and value
/// URI-encoded, joined as `name=value` with '&'; a parameter without '=' gets an empty value.
///
/// The raw query may already be encoded, so each name and value is decoded first (`%XX`, and
/// '+' as a space, as the AWS SDKs' form-urlencoded parsing does) and then encoded with
/// [`encode_segment`]: that way "a%20b", "a+b" and "a b" all sign as "a%20b" instead of being
/// double-encoded. Sorting is by the encoded bytes, as the spec's test suite does.
pub(crate) fn canonical_query(query: &str) -> String {
    let mut params: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&form_decode(name)),
                uri_encode(&form_decode(value)),
            )
        })
        .collect();
    params.sort();
    params
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Step 2 of the spec: the string to sign.
pub(crate) fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    )
}

/// Step 3 of the spec: the signing key,
/// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
/// It depends only on the day, so a caller could cache it; we recompute (four HMACs).
pub(crate) fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_secret = format!("AWS4{secret}");
    let k_date = hmac_sha256(k_secret.as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// `{date}/{region}/{service}/aws4_request`, the credential scope.
fn credential_scope(date: &str, region: &str, service: &str) -> String {
    format!("{date}/{region}/{service}/aws4_request")
}

/// The "YYYYMMDD" date of the credential scope: the first 8 characters of `x-amz-date`
/// (the whole string if it is shorter, which then fails to verify rather than panicking).
fn scope_date(amz_date: &str) -> &str {
    amz_date.get(..8).unwrap_or(amz_date)
}

/// HMAC-SHA256 (RFC 2104).
fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().into()
        }
        // HMAC takes keys of any length (RFC 2104 §2: longer keys are hashed first); hmac
        // 0.12's `new_from_slice` always returns Ok and only has a Result because the
        // `KeyInit` trait is shared with fixed-key ciphers.
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

/// The spec's header value normalization: leading and trailing whitespace trimmed, and runs
/// of spaces (or tabs) inside collapsed to one space.
fn normalize_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for word in value.split([' ', '\t']).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word.trim());
    }
    out
}

/// What SigV4 encodes: every byte but the RFC 3986 unreserved characters `A-Z a-z 0-9 - _ . ~`.
const SIGV4_ENCODED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// URI-encodes bytes: unreserved characters kept, everything else `%XX` uppercase.
fn uri_encode(bytes: &[u8]) -> String {
    percent_encode(bytes, SIGV4_ENCODED).to_string()
}

/// Decodes one form-urlencoded component: '+' to a space, then `%XX` to its byte; a '%' not
/// followed by two hex digits is kept as a literal '%'.
fn form_decode(s: &str) -> Vec<u8> {
    percent_decode_str(&s.replace('+', " ")).collect()
}

/// Lowercase hex, as the spec uses for hashes and the signature.
fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const AKID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn creds() -> Credentials {
        Credentials {
            access_key_id: AKID.to_string(),
            secret_access_key: SECRET.to_string(),
            session_token: None,
        }
    }

    fn header<'a>(out: &'a [(String, String)], name: &str) -> Option<&'a str> {
        out.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    const IAM_HEADERS: &[(&str, &str)] = &[(
        "Content-Type",
        "application/x-www-form-urlencoded; charset=utf-8",
    )];

    fn iam_input() -> SignInput<'static> {
        SignInput {
            method: "GET",
            host: "iam.amazonaws.com",
            path: "/",
            query: "Action=ListUsers&Version=2010-05-08",
            headers: IAM_HEADERS,
            body: b"",
            region: "us-east-1",
            service: "iam",
            amz_date: "20150830T123600Z",
            sign_content_sha256: false,
        }
    }

    /// The worked example of the SigV4 documentation (IAM ListUsers): canonical request,
    /// its hash, the derived signing key and the signature are all published values.
    #[test]
    fn iam_list_users_published_example() {
        let input = iam_input();
        let canonical = canonical_request(&input, EMPTY_SHA256, None);
        assert_eq!(
            canonical.text,
            "GET\n/\nAction=ListUsers&Version=2010-05-08\n\
             content-type:application/x-www-form-urlencoded; charset=utf-8\n\
             host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
             content-type;host;x-amz-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(canonical.signed_headers, "content-type;host;x-amz-date");
        assert_eq!(
            hex(&Sha256::digest(canonical.text.as_bytes())),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        assert_eq!(
            string_to_sign(
                "20150830T123600Z",
                "20150830/us-east-1/iam/aws4_request",
                &canonical.text
            ),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n\
             f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        assert_eq!(
            hex(&signing_key(SECRET, "20150830", "us-east-1", "iam")),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );

        let out = sign(&input, &creds());
        assert_eq!(
            header(&out, "authorization"),
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date, \
                 Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
            )
        );
        assert_eq!(header(&out, "x-amz-date"), Some("20150830T123600Z"));
        assert_eq!(header(&out, "x-amz-content-sha256"), None);
        assert_eq!(header(&out, "x-amz-security-token"), None);
        assert_eq!(header(&out, "host"), None);
    }

    /// aws-sig-v4-test-suite "get-vanilla": GET / on example.amazonaws.com, service "service".
    #[test]
    fn test_suite_get_vanilla() {
        let input = SignInput {
            method: "GET",
            host: "example.amazonaws.com",
            path: "/",
            query: "",
            headers: &[],
            body: b"",
            region: "us-east-1",
            service: "service",
            amz_date: "20150830T123600Z",
            sign_content_sha256: false,
        };
        assert_eq!(
            canonical_request(&input, EMPTY_SHA256, None).text,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
             host;x-amz-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let out = sign(&input, &creds());
        assert_eq!(
            header(&out, "authorization"),
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, \
                 Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
            )
        );
        // An empty path canonicalises to "/" and so signs the same.
        let empty_path = SignInput { path: "", ..input };
        assert_eq!(sign(&empty_path, &creds()), out);

        // "get-vanilla-query-order-key-case": the query is sorted before signing.
        let query = SignInput {
            query: "Param2=value2&Param1=value1",
            ..input
        };
        assert_eq!(
            header(&sign(&query, &creds()), "authorization"),
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, \
                 Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
            )
        );
    }

    #[test]
    fn amz_date_from_epoch_ms() {
        assert_eq!(
            amz_date(1_440_938_160_000).as_deref(),
            Some("20150830T123600Z")
        );
        assert_eq!(
            amz_date(1_440_938_160_999).as_deref(),
            Some("20150830T123600Z")
        );
        assert_eq!(amz_date(0).as_deref(), Some("19700101T000000Z"));
        assert_eq!(amz_date(-1).as_deref(), Some("19691231T235959Z"));
        // 2024-02-29T12:34:56Z, a leap day, and the day after it.
        assert_eq!(
            amz_date(1_709_210_096_000).as_deref(),
            Some("20240229T123456Z")
        );
        assert_eq!(
            amz_date(1_709_251_200_000).as_deref(),
            Some("20240301T000000Z")
        );
        // 2000-02-29 (a 400-year leap day) and the last second of 1999.
        assert_eq!(
            amz_date(951_782_400_000).as_deref(),
            Some("20000229T000000Z")
        );
        assert_eq!(
            amz_date(946_684_799_000).as_deref(),
            Some("19991231T235959Z")
        );
        // Outside the calendar: no date rather than a wrong one.
        assert_eq!(amz_date(i64::MAX), None);
        assert_eq!(amz_date(i64::MIN), None);
    }

    #[test]
    fn encode_segment_keeps_only_unreserved() {
        assert_eq!(encode_segment("aZ09-_.~"), "aZ09-_.~");
        assert_eq!(encode_segment("a b/c:d%"), "a%20b%2Fc%3Ad%25");
        assert_eq!(encode_segment("é"), "%C3%A9");
        assert_eq!(encode_segment(""), "");
    }

    /// The model id's ':' is encoded once on the wire and twice in the canonical URI.
    #[test]
    fn bedrock_model_path_is_encoded_twice() {
        let path = format!(
            "/model/{}/converse-stream",
            encode_segment("anthropic.claude-3-haiku-20240307-v1:0")
        );
        assert_eq!(
            path,
            "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream"
        );
        assert_eq!(
            canonical_uri(&path, "bedrock"),
            "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse-stream"
        );
        // S3 is the exception: its path is signed as sent.
        assert_eq!(canonical_uri(&path, "s3"), path);
    }

    #[test]
    fn canonical_query_sorts_and_encodes() {
        assert_eq!(canonical_query(""), "");
        assert_eq!(
            canonical_query("Param2=value2&Param1=value1"),
            "Param1=value1&Param2=value2"
        );
        assert_eq!(canonical_query("b=2&a=1&A=0&a=0"), "A=0&a=0&a=1&b=2");
        assert_eq!(canonical_query("k=a b&x&y="), "k=a%20b&x=&y=");
        assert_eq!(canonical_query("k=a%20b"), "k=a%20b");
        assert_eq!(canonical_query("k=a+b"), "k=a%20b");
        assert_eq!(canonical_query("k=%3a%2F&bad=%zz"), "bad=%25zz&k=%3A%2F");
    }

    #[test]
    fn header_values_are_trimmed_and_collapsed() {
        assert_eq!(normalize_value("  a   b \t c  "), "a b c");
        assert_eq!(normalize_value(""), "");
    }

    /// A Bedrock-shaped request: content sha and session token are returned and signed, the
    /// caller's headers are lowercased, sorted, and repeated names joined.
    #[test]
    fn bedrock_request_signs_the_expected_headers() {
        let body = br#"{"messages":[]}"#;
        let input = SignInput {
            method: "POST",
            host: "bedrock-runtime.us-east-1.amazonaws.com",
            path: "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream",
            query: "",
            headers: &[
                ("Content-Type", "application/json"),
                ("X-Custom", " a "),
                ("x-custom", "b"),
                ("Host", "ignored.example"),
            ],
            body,
            region: "us-east-1",
            service: "bedrock",
            amz_date: &amz_date(1_440_938_160_000).unwrap(),
            sign_content_sha256: true,
        };
        let creds = Credentials {
            session_token: Some("TOKEN".to_string()),
            ..creds()
        };
        let payload_hash = hex(&Sha256::digest(body));
        let canonical = canonical_request(&input, &payload_hash, Some("TOKEN"));
        assert_eq!(
            canonical.signed_headers,
            "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-custom"
        );
        assert!(canonical
            .text
            .contains("/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse-stream\n"));
        assert!(canonical
            .text
            .contains("\nhost:bedrock-runtime.us-east-1.amazonaws.com\n"));
        assert!(canonical.text.contains("\nx-custom:a,b\n"));

        let out = sign(&input, &creds);
        let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "authorization",
                "x-amz-date",
                "x-amz-content-sha256",
                "x-amz-security-token"
            ]
        );
        assert_eq!(
            header(&out, "x-amz-content-sha256"),
            Some(payload_hash.as_str())
        );
        assert_eq!(header(&out, "x-amz-security-token"), Some("TOKEN"));
        let auth = header(&out, "authorization").unwrap_or_default();
        assert!(auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request, \
             SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;\
             x-amz-security-token;x-custom, Signature="
        ));
        // The signature covers the body: a different body signs differently.
        let other = SignInput {
            body: b"{}",
            ..input
        };
        assert_ne!(header(&sign(&other, &creds), "authorization"), Some(auth));
    }

    #[test]
    fn debug_redacts_secrets() {
        let creds = Credentials {
            session_token: Some("TOKEN".to_string()),
            ..creds()
        };
        let shown = format!("{creds:?}");
        assert!(shown.contains(AKID));
        assert!(!shown.contains(SECRET));
        assert!(!shown.contains("TOKEN"));
    }
}
