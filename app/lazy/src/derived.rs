//! Derived streams' formulas: the parser, which checks a formula against the session's stream
//! ids and compiles it to the small stack code the dashboard runs on every new sample
//! (`app/src/model/derived.rs`). It lives here, in the module loaded on first use, because only
//! adding a derived stream needs it.
//!
//! The language (docs/derived.md): numbers, stream ids, `+ - * /` (also `− × ÷`), unary minus,
//! parentheses, `delta(s)` (the change of counter `s` since the derived stream's previous
//! point), `rate(s)` (the same per second) and, as the whole formula, `p(bad, total)` (a
//! proportion charted on a p chart with each point's own size). A stream id is the longest id
//! of the session that the text starts with, so ids holding `/`, `-` or spaces need no quotes;
//! write spaces around `/` when one stream's id followed by `/` and another's is itself an id.

use crate::codec::{reading, In, Out, Read};

/// The stack code's operations (one byte each; `VALUE`, `DELTA` and `RATE` are followed by
/// the input's index, `NUMBER` by 8 little-endian bytes of an f64).
pub mod op {
    /// The input's latest value (no older than the staleness window).
    pub const VALUE: u8 = 0;
    /// The change of the input, a counter, since the previous point.
    pub const DELTA: u8 = 1;
    /// That change per second of the input's own sample times.
    pub const RATE: u8 = 2;
    /// A constant.
    pub const NUMBER: u8 = 3;
    /// Adds the top two values.
    pub const ADD: u8 = 4;
    /// Subtracts the top value from the one below.
    pub const SUB: u8 = 5;
    /// Multiplies the top two values.
    pub const MUL: u8 = 6;
    /// Divides the value below by the top one.
    pub const DIV: u8 = 7;
    /// Negates the top value.
    pub const NEG: u8 = 8;
    /// The last operation of `p(bad, total)`: the point is bad/total with size total.
    pub const P: u8 = 9;
}

/// What the dashboard asks: a new derived stream's name and formula, and the ids of the
/// streams it may use.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The derived stream's name (its id in the session).
    pub name: String,
    /// The formula as typed.
    pub formula: String,
    /// The ids of the streams a formula may name.
    pub streams: Vec<String>,
}

impl Request {
    /// The request as bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Out::default();
        o.str(&self.name);
        o.str(&self.formula);
        o.list(&self.streams, |o, s| o.str(s));
        o.0
    }

    /// Reads what [`Request::encode`] wrote.
    pub fn decode(bytes: &[u8]) -> Read<Request> {
        reading(bytes, |r| {
            Ok(Request {
                name: r.str()?,
                formula: r.str()?,
                streams: r.list(In::str)?,
            })
        })
    }
}

/// A compiled formula: the streams it reads, in order of first use (the first drives it:
/// a point is made at each of its samples), and its stack code ([`op`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// Stream ids, the first the driving stream.
    pub inputs: Vec<String>,
    /// The stack code.
    pub code: Vec<u8>,
}

impl Program {
    /// The program as bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Out::default();
        o.list(&self.inputs, |o, s| o.str(s));
        o.u64(self.code.len() as u64);
        o.0.extend_from_slice(&self.code);
        o.0
    }

    /// Reads what [`Program::encode`] wrote.
    pub fn decode(bytes: &[u8]) -> Read<Program> {
        reading(bytes, |r| {
            let inputs = r.list(In::str)?;
            let n = r.len()?;
            Ok(Program {
                inputs,
                code: r.take(n)?.to_vec(),
            })
        })
    }
}

/// A derived stream's definition as it is saved: its name, its formula and the compiled
/// program.
#[derive(Clone, Debug, PartialEq)]
pub struct Definition {
    /// The derived stream's id.
    pub name: String,
    /// The formula as written.
    pub formula: String,
    /// The formula compiled.
    pub program: Program,
}

/// Definitions, each as (name, formula, inputs, code), as one line of text (hex of their
/// bytes), for the saved session and share links: one string keeps the dashboard's JSON code
/// small. Written without iterator chains or formatting, which would weigh in its wasm.
pub fn save<'a>(defs: &[(&'a str, &'a str, &'a [String], &'a [u8])]) -> String {
    let mut o = Out::default();
    o.list(defs, |o, &(name, formula, inputs, code)| {
        o.str(name);
        o.str(formula);
        // The program as `Program::encode` writes it, with its length first.
        let mut p = Out::default();
        p.list(inputs, |p, s| p.str(s));
        p.u64(code.len() as u64);
        p.0.extend_from_slice(code);
        o.u64(p.0.len() as u64);
        o.0.extend(p.0);
    });
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(2 * o.0.len());
    for b in o.0 {
        text.push(char::from(HEX[usize::from(b >> 4)]));
        text.push(char::from(HEX[usize::from(b & 15)]));
    }
    text
}

/// Reads what [`save`] wrote; damage is an error in words.
pub fn load(text: &str) -> Read<Vec<Definition>> {
    let damaged = || "the saved derived streams are not hex: they are damaged".to_string();
    let digit = |c: u8| char::from(c).to_digit(16).ok_or_else(damaged);
    let text = text.as_bytes();
    if text.len() % 2 == 1 {
        return Err(damaged());
    }
    let mut bytes = Vec::with_capacity(text.len() / 2);
    for pair in text.chunks_exact(2) {
        bytes.push((digit(pair[0])? * 16 + digit(pair[1])?) as u8);
    }
    reading(&bytes, |r| {
        r.list(|r| {
            let name = r.str()?;
            let formula = r.str()?;
            let n = r.len()?;
            let program = Program::decode(r.take(n)?)?;
            Ok(Definition {
                name,
                formula,
                program,
            })
        })
    })
}

/// Checks the request (a name, not taken) and compiles its formula; an error says what is
/// wrong and where (`unknown stream 'press1/kwh' at 1:7`).
pub fn compile(request: &Request) -> Result<Program, String> {
    let name = request.name.trim();
    if name.is_empty() {
        return Err("give the derived stream a name, e.g. press1/energy_per_part".into());
    }
    if request.streams.iter().any(|s| s == name) {
        return Err(format!(
            "a stream named '{name}' exists already: choose another name"
        ));
    }
    let mut p = Parser {
        text: &request.formula,
        at: 0,
        streams: &request.streams,
        program: Program {
            inputs: Vec::new(),
            code: Vec::new(),
        },
    };
    p.skip_space();
    if p.rest().is_empty() {
        return Err(
            "the formula is empty: write one, e.g. delta(press1/energy) / delta(press1/parts)"
                .into(),
        );
    }
    if p.function_at() == Some("p") {
        p.at += 1;
        p.expect('(')?;
        p.expression()?;
        p.expect(',')?;
        p.expression()?;
        p.expect(')')?;
        p.program.code.push(op::P);
    } else {
        p.expression()?;
    }
    p.skip_space();
    if let Some(c) = p.rest().chars().next() {
        return Err(format!(
            "unexpected '{c}' at {}: expected an operator (+ - * /) or the end",
            p.position(p.at)
        ));
    }
    Ok(p.program)
}

/// A recursive-descent parser writing stack code as it goes.
struct Parser<'a> {
    text: &'a str,
    /// Byte offset of the next character.
    at: usize,
    streams: &'a [String],
    program: Program,
}

/// Characters a stream id may hold when it is not a known one (for naming it in an error).
fn id_char(c: char) -> bool {
    c.is_alphanumeric() || "_./:-".contains(c)
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    /// `line:column` (both from 1, the column in characters) of byte offset `at`.
    fn position(&self, at: usize) -> String {
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("{line}:{column}")
    }

    /// What is at the cursor, for an error: the character, or the end.
    fn found(&self) -> String {
        match self.rest().chars().next() {
            Some(c) => format!("'{c}' at {}", self.position(self.at)),
            None => format!("the end of the formula (at {})", self.position(self.at)),
        }
    }

    fn expect(&mut self, want: char) -> Result<(), String> {
        self.skip_space();
        if self.rest().starts_with(want) {
            self.at += want.len_utf8();
            return Ok(());
        }
        Err(format!("expected '{want}' but found {}", self.found()))
    }

    /// The operator at the cursor among `ops` (ASCII and typographic forms), consumed.
    fn operator(&mut self, ops: &[(char, u8)]) -> Option<u8> {
        self.skip_space();
        let c = self.rest().chars().next()?;
        let &(_, code) = ops.iter().find(|(o, _)| *o == c)?;
        self.at += c.len_utf8();
        Some(code)
    }

    fn expression(&mut self) -> Result<(), String> {
        self.term()?;
        let ops = [('+', op::ADD), ('-', op::SUB), ('−', op::SUB)];
        while let Some(code) = self.operator(&ops) {
            self.term()?;
            self.program.code.push(code);
        }
        Ok(())
    }

    fn term(&mut self) -> Result<(), String> {
        self.unary()?;
        let ops = [
            ('*', op::MUL),
            ('×', op::MUL),
            ('/', op::DIV),
            ('÷', op::DIV),
        ];
        while let Some(code) = self.operator(&ops) {
            self.unary()?;
            self.program.code.push(code);
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<(), String> {
        if self.operator(&[('-', op::NEG), ('−', op::NEG)]).is_some() {
            self.unary()?;
            self.program.code.push(op::NEG);
            return Ok(());
        }
        self.primary()
    }

    /// The function name at the cursor when a `(` follows it.
    fn function_at(&self) -> Option<&str> {
        let rest = self.rest();
        let end = rest.find(|c: char| !c.is_ascii_alphabetic())?;
        (end > 0 && rest[end..].trim_start().starts_with('(')).then(|| &rest[..end])
    }

    fn primary(&mut self) -> Result<(), String> {
        self.skip_space();
        let start = self.at;
        let function = self.function_at().map(String::from);
        if let Some(f) = function
            .clone()
            .filter(|f| ["delta", "rate", "p"].contains(&f.as_str()))
        {
            let code = match f.as_str() {
                "delta" => op::DELTA,
                "rate" => op::RATE,
                _ => {
                    return Err(format!(
                        "p(bad, total) at {} must be the whole formula",
                        self.position(start)
                    ))
                }
            };
            self.at += f.len();
            self.expect('(')?;
            self.skip_space();
            let Some(input) = self.stream()? else {
                return Err(format!(
                    "{f}() takes a stream (a counter), but found {}",
                    self.found()
                ));
            };
            self.expect(')')?;
            self.program.code.extend([code, input]);
            return Ok(());
        }
        if self.rest().starts_with('(') {
            self.at += 1;
            self.expression()?;
            return self.expect(')');
        }
        // A known id may look like a call (`a (live 127.0.0.1:8080)`): ids first.
        match (self.stream(), function) {
            (Ok(Some(input)), _) => {
                self.program.code.extend([op::VALUE, input]);
                return Ok(());
            }
            (Err(_), Some(other)) => {
                return Err(format!(
                    "unknown function '{other}' at {}: use delta(stream), rate(stream) or \
                     p(bad, total)",
                    self.position(start)
                ))
            }
            (Err(e), None) => return Err(e),
            (Ok(None), _) => {}
        }
        if let Some(number) = self.number() {
            self.program.code.push(op::NUMBER);
            self.program.code.extend(number.to_le_bytes());
            return Ok(());
        }
        Err(format!(
            "expected a number, a stream or '(' but found {}",
            self.found()
        ))
    }

    /// The stream id at the cursor, as an input index: the longest known id the text starts
    /// with (and that does not run on into more id characters). `None` when no id starts
    /// here; an unknown id is an error naming it.
    fn stream(&mut self) -> Result<Option<u8>, String> {
        let rest = self.rest();
        let known = self
            .streams
            .iter()
            .filter(|id| {
                // `press1/energyy` is not `press1/energy`, but `press1/energy/...` divides.
                let run_on = |c: char| c.is_alphanumeric() || "_.:".contains(c);
                rest.starts_with(id.as_str()) && !rest[id.len()..].starts_with(run_on)
            })
            .max_by_key(|id| id.len());
        let Some(id) = known else {
            let word: String = rest.chars().take_while(|&c| id_char(c)).collect();
            let number = word.parse::<f64>().is_ok();
            return match word.chars().next() {
                Some(c) if !number && !c.is_ascii_digit() && c != '.' => Err(format!(
                    "unknown stream '{word}' at {}",
                    self.position(self.at)
                )),
                _ => Ok(None),
            };
        };
        self.at += id.len();
        let inputs = &mut self.program.inputs;
        let index = match inputs.iter().position(|x| x == id) {
            Some(i) => i,
            None => {
                inputs.push(id.clone());
                inputs.len() - 1
            }
        };
        u8::try_from(index)
            .map(Some)
            .map_err(|_| "a formula may read at most 256 streams".to_string())
    }

    /// A number at the cursor (digits, a point, an exponent), consumed.
    fn number(&mut self) -> Option<f64> {
        let rest = self.rest();
        let mut end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if rest[end..].starts_with(['e', 'E']) {
            let exp = &rest[end + 1..];
            let sign = usize::from(exp.starts_with(['+', '-']));
            let digits = exp[sign..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(exp.len() - sign);
            if digits > 0 {
                end += 1 + sign + digits;
            }
        }
        let value = rest[..end].parse::<f64>().ok()?;
        self.at += end;
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streams() -> Vec<String> {
        [
            "press1/energy",
            "press1/parts",
            "press1/scrap",
            "a",
            "a-b",
            "t (live 127.0.0.1:8080)",
        ]
        .map(String::from)
        .to_vec()
    }

    fn compiled(formula: &str) -> Result<Program, String> {
        compile(&Request {
            name: "x".into(),
            formula: formula.into(),
            streams: streams(),
        })
    }

    #[test]
    fn energy_per_part_compiles_to_two_deltas_and_a_division() {
        let p = compiled("delta(press1/energy) / delta(press1/parts)").unwrap();
        assert_eq!(p.inputs, ["press1/energy", "press1/parts"]);
        assert_eq!(p.code, [op::DELTA, 0, op::DELTA, 1, op::DIV]);
        // Without spaces, and with the typographic division sign: the same program.
        assert_eq!(
            compiled("delta(press1/energy)÷delta(press1/parts)").unwrap(),
            p
        );
        // Streams divided without spaces: each is the longest id that matches.
        let q = compiled("press1/energy/press1/parts").unwrap();
        assert_eq!(q.code, [op::VALUE, 0, op::VALUE, 1, op::DIV]);
    }

    #[test]
    fn precedence_unary_minus_and_numbers() {
        let p = compiled("1 + 2 * -a - 3e1").unwrap();
        let mut want = vec![op::NUMBER];
        want.extend(1f64.to_le_bytes());
        want.push(op::NUMBER);
        want.extend(2f64.to_le_bytes());
        want.extend([op::VALUE, 0, op::NEG, op::MUL, op::ADD, op::NUMBER]);
        want.extend(30f64.to_le_bytes());
        want.push(op::SUB);
        assert_eq!(p.code, want);
        // `a-b` is a stream: the longest id wins; spaces make it a difference.
        assert_eq!(compiled("a-b").unwrap().code, [op::VALUE, 0]);
        assert_eq!(
            compiled("a - a-b").unwrap().code,
            [op::VALUE, 0, op::VALUE, 1, op::SUB]
        );
        assert_eq!(
            compiled("t (live 127.0.0.1:8080) * 2").unwrap().inputs,
            ["t (live 127.0.0.1:8080)"]
        );
        assert_eq!(compiled("(a + 1) × 2").unwrap().code.last(), Some(&op::MUL));
    }

    #[test]
    fn p_of_bad_and_total_must_be_the_whole_formula() {
        let p = compiled("p(delta(press1/scrap), delta(press1/parts))").unwrap();
        assert_eq!(p.code, [op::DELTA, 0, op::DELTA, 1, op::P]);
        assert_eq!(
            compiled("1 + p(a, a)").unwrap_err(),
            "p(bad, total) at 1:5 must be the whole formula"
        );
    }

    /// Every error names what is wrong and where, line:column in characters.
    #[test]
    fn bad_formulas_say_what_and_where() {
        let cases = [
            ("delta(press1/kwh)", "unknown stream 'press1/kwh' at 1:7"),
            (
                "a × press1/energyy",
                "unknown stream 'press1/energyy' at 1:5",
            ),
            ("ratio(a)", "unknown function 'ratio' at 1:1"),
            (
                "a +",
                "expected a number, a stream or '(' but found the end of the formula (at 1:4)",
            ),
            (
                "(a + 1",
                "expected ')' but found the end of the formula (at 1:7)",
            ),
            ("a a", "unexpected 'a' at 1:3"),
            (
                "rate(2)",
                "rate() takes a stream (a counter), but found '2' at 1:6",
            ),
            (
                "a\n+ )",
                "expected a number, a stream or '(' but found ')' at 2:3",
            ),
            ("   ", "the formula is empty"),
            ("a # 2", "unexpected '#' at 1:3"),
        ];
        for (formula, want) in cases {
            let e = compiled(formula).unwrap_err();
            assert!(e.starts_with(want), "{formula}: {e}");
        }
        let named = |name: &str| {
            compile(&Request {
                name: name.into(),
                formula: "a".into(),
                streams: streams(),
            })
            .unwrap_err()
        };
        assert!(named(" ").starts_with("give the derived stream a name"));
        assert!(named("a").starts_with("a stream named 'a' exists already"));
    }

    #[test]
    fn definitions_are_saved_as_one_line_of_text() {
        let defs = vec![
            Definition {
                name: "e/part".into(),
                formula: "delta(a) ÷ 2".into(),
                program: compiled("delta(a) ÷ 2").unwrap(),
            },
            Definition {
                name: "b".into(),
                formula: "a".into(),
                program: compiled("a").unwrap(),
            },
        ];
        let parts: Vec<_> = defs
            .iter()
            .map(|d| {
                let p = &d.program;
                (&d.name[..], &d.formula[..], &p.inputs[..], &p.code[..])
            })
            .collect();
        let text = save(&parts);
        assert!(text.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(load(&text).unwrap(), defs);
        assert_eq!(load(&save(&[])).unwrap(), []);
        for bad in [&text[..text.len() - 2], "zz", &text[..3], "é"] {
            assert!(load(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn requests_and_programs_travel_as_bytes_and_damage_is_an_error() {
        let r = Request {
            name: "e/part".into(),
            formula: "delta(a) / 2".into(),
            streams: streams(),
        };
        assert_eq!(Request::decode(&r.encode()).unwrap(), r);
        let p = compiled("delta(a) / 2").unwrap();
        let bytes = p.encode();
        assert_eq!(Program::decode(&bytes).unwrap(), p);
        for cut in 0..bytes.len() {
            assert!(Program::decode(&bytes[..cut]).is_err());
        }
    }
}
