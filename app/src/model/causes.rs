//! Assignable causes (issue 13): what the user recorded on a signal episode (a cause and a
//! corrective action from a taxonomy they can edit, and a note), and what that changes:
//! acknowledging can require a cause, and annotated points can be set aside from the limits'
//! estimate. An SPC tool of record asks the operator for the assignable cause of an
//! out-of-control signal (Montgomery, *Introduction to Statistical Quality Control*, §5.3.4,
//! the out-of-control action plan); here the answer is session data, kept and shared with it.
//!
//! An annotation names its stream and the times of the episode's first and last points, not
//! point indexes: a growing stream drops its oldest points and its indexes move, its times do
//! not. An episode carries the annotations whose span meets its own.

use super::{ChartState, Session, Stream};
use llmscope_spc::explain::cause::Domain;
use llmscope_spc::explain::episode::{with_rules, Episode, CLEAN_RUN};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The cause recorded when the user does not know it.
pub use llmscope_protocol::causes::UNKNOWN;

/// One domain's lists: the causes and the corrective actions offered.
#[derive(Clone, Debug, PartialEq)]
pub struct Lists {
    /// Causes, in the order offered.
    pub causes: Vec<String>,
    /// Corrective actions, in the order offered.
    pub actions: Vec<String>,
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The causes and actions the user picks from, per domain; the defaults are the engine's
/// suggestion table's words (`llmscope_spc::explain::cause`), so a recorded cause and a
/// suggested one are the same words.
#[derive(Clone, Debug, PartialEq)]
pub struct Taxonomy {
    /// For probe targets (LLM providers).
    pub llm: Lists,
    /// For machines (the shim's registers and topics).
    pub plant: Lists,
}

impl Default for Taxonomy {
    fn default() -> Taxonomy {
        Taxonomy {
            llm: Lists {
                causes: words(&llmscope_protocol::causes::LLM),
                actions: words(&[
                    "none",
                    "re-baselined",
                    "contacted provider",
                    "switched model",
                    "pinned the model version",
                    "changed region",
                    "changed the prompt",
                ]),
            },
            plant: Lists {
                causes: words(&[
                    "tool wear",
                    "sensor stuck or failing",
                    "material lot change",
                    "setpoint change",
                    "over-adjustment",
                    "two alternating sources",
                    UNKNOWN,
                ]),
                actions: words(&[
                    "none",
                    "re-baselined",
                    "replaced tool",
                    "recalibrated sensor",
                    "reset the setpoint",
                    "stopped adjusting",
                    "separated the sources",
                ]),
            },
        }
    }
}

impl Taxonomy {
    /// The lists for `domain`.
    pub fn lists(&self, domain: Domain) -> &Lists {
        match domain {
            Domain::Llm => &self.llm,
            Domain::Plant => &self.plant,
        }
    }

    /// The lists for `domain`, to edit.
    pub fn lists_mut(&mut self, domain: Domain) -> &mut Lists {
        match domain {
            Domain::Llm => &mut self.llm,
            Domain::Plant => &mut self.plant,
        }
    }
}

/// Lines of `text` as a list: trimmed, empty ones and repeats left out (the settings' text
/// areas, one item a line).
pub fn lines(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.iter().any(|x| x == line) {
            out.push(line.to_string());
        }
    }
    out
}

/// A cause recorded on one episode of one stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Annotation {
    /// The stream's id.
    pub stream: String,
    /// The time of the episode's first point (a sample's `t`).
    pub from: f64,
    /// The time of its last flagged point.
    pub to: f64,
    /// The assignable cause, from the taxonomy (or [`UNKNOWN`]).
    pub cause: String,
    /// The corrective action taken.
    pub action: String,
    /// Free text.
    pub note: String,
}

impl Annotation {
    /// Whether it covers any time of `from..=to` on `stream`.
    pub fn meets(&self, stream: &str, from: f64, to: f64) -> bool {
        self.stream == stream && llmscope_app_lazy::why::meets((self.from, self.to), from, to)
    }
}

/// The session's assignable causes: the taxonomy, the annotations, and the option that makes
/// acknowledging an alert wait for a cause.
///
/// Its JSON is `{"taxonomy": {"llm": {"causes": [..], "actions": [..]}, "plant": {..}},
/// "annotations": [{"stream", "from", "to", "cause", "action", "note"}], "require": true}`,
/// every part optional, written and read by hand through `serde_json::Value` ([`to_json`],
/// [`from_json`]): derived readers for four types cost the site's wasm several KB each.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(into = "Value", try_from = "Value")]
pub struct Causes {
    /// What the user picks from.
    pub taxonomy: Taxonomy,
    /// Every annotation, in the order made.
    pub annotations: Vec<Annotation>,
    /// Off by default: when on, an episode's signals are acknowledged only once it has a cause.
    pub require: bool,
}

fn texts(list: &[String]) -> Value {
    Value::Array(list.iter().cloned().map(Value::String).collect())
}

/// `Causes` as JSON (the empty parts left out).
fn to_json(c: Causes) -> Value {
    let lists = |l: &Lists| {
        let mut m = Map::new();
        m.insert("causes".into(), texts(&l.causes));
        m.insert("actions".into(), texts(&l.actions));
        Value::Object(m)
    };
    let mut taxonomy = Map::new();
    taxonomy.insert("llm".into(), lists(&c.taxonomy.llm));
    taxonomy.insert("plant".into(), lists(&c.taxonomy.plant));
    let mut out = Map::new();
    out.insert("taxonomy".into(), Value::Object(taxonomy));
    if !c.annotations.is_empty() {
        let all = c.annotations.into_iter().map(|a| {
            let mut m = Map::new();
            m.insert("stream".into(), Value::String(a.stream));
            m.insert("from".into(), a.from.into());
            m.insert("to".into(), a.to.into());
            m.insert("cause".into(), Value::String(a.cause));
            m.insert("action".into(), Value::String(a.action));
            m.insert("note".into(), Value::String(a.note));
            Value::Object(m)
        });
        out.insert("annotations".into(), Value::Array(all.collect()));
    }
    if c.require {
        out.insert("require".into(), Value::Bool(true));
    }
    Value::Object(out)
}

impl From<Causes> for Value {
    fn from(c: Causes) -> Value {
        to_json(c)
    }
}

/// Field `key` of `v` read by `read`, or `default` when absent; errors name the field.
fn field<T>(
    v: &Value,
    key: &str,
    default: T,
    read: impl Fn(&Value) -> Option<T>,
    what: &str,
) -> Result<T, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(x) => read(x).ok_or_else(|| format!("{key}: not {what}")),
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn text_list(v: &Value) -> Option<Vec<String>> {
    v.as_array()?.iter().map(text).collect()
}

/// `Causes` from its JSON; what is absent is the default, what is malformed is named.
fn from_json(v: &Value) -> Result<Causes, String> {
    if !v.is_object() {
        return Err("not an object".into());
    }
    let mut c = Causes::default();
    let none = Value::Null;
    let taxonomy = v.get("taxonomy").unwrap_or(&none);
    for (name, lists) in [
        ("llm", &mut c.taxonomy.llm),
        ("plant", &mut c.taxonomy.plant),
    ] {
        let l = taxonomy.get(name).unwrap_or(&none);
        let at = |e: String| format!("taxonomy.{name}.{e}");
        lists.causes = field(
            l,
            "causes",
            lists.causes.clone(),
            text_list,
            "a list of texts",
        )
        .map_err(at)?;
        lists.actions = field(
            l,
            "actions",
            lists.actions.clone(),
            text_list,
            "a list of texts",
        )
        .map_err(at)?;
    }
    let all = field(
        v,
        "annotations",
        Vec::new(),
        |x| x.as_array().cloned(),
        "a list",
    )?;
    for (i, a) in all.iter().enumerate() {
        let at = |e: String| format!("annotation {i}: {e}");
        let time = |key| field(a, key, f64::NAN, Value::as_f64, "a number").map_err(at);
        let words = |key, what| field(a, key, String::new(), text, what).map_err(at);
        let annotation = Annotation {
            stream: words("stream", "text")?,
            from: time("from")?,
            to: time("to")?,
            cause: words("cause", "text")?,
            action: words("action", "text")?,
            note: words("note", "text")?,
        };
        let spans = annotation.from.is_finite() && annotation.to >= annotation.from;
        if annotation.stream.is_empty() || !spans {
            return Err(at("it needs a stream and a time span (from ≤ to)".into()));
        }
        c.annotations.push(annotation);
    }
    c.require = field(v, "require", false, Value::as_bool, "true or false")?;
    Ok(c)
}

impl TryFrom<Value> for Causes {
    type Error = String;
    fn try_from(v: Value) -> Result<Causes, String> {
        from_json(&v)
    }
}

impl Causes {
    /// Whether nothing differs from a new session's (then it is not saved).
    pub fn is_default(&self) -> bool {
        *self == Causes::default()
    }

    /// The annotation of the episode `from..=to` of `stream`, if any.
    pub fn of(&self, stream: &str, from: f64, to: f64) -> Option<&Annotation> {
        self.annotations.iter().find(|a| a.meets(stream, from, to))
    }

    /// Records `a`, replacing any annotation of the same stream it meets (the same episode,
    /// perhaps grown since).
    pub fn annotate(&mut self, a: Annotation) {
        self.annotations
            .retain(|x| !x.meets(&a.stream, a.from, a.to));
        self.annotations.push(a);
    }

    /// Adds `other`'s annotations, and the causes and actions of its taxonomy this one lacks;
    /// this session's option stays.
    pub fn merge(&mut self, other: Causes) {
        for domain in [Domain::Llm, Domain::Plant] {
            let theirs = other.taxonomy.lists(domain).clone();
            let mine = self.taxonomy.lists_mut(domain);
            for (to, from) in [
                (&mut mine.causes, theirs.causes),
                (&mut mine.actions, theirs.actions),
            ] {
                for item in from {
                    if !to.contains(&item) {
                        to.push(item);
                    }
                }
            }
        }
        for a in other.annotations {
            self.annotate(a);
        }
    }

    /// The annotations of the streams `kept` takes, the others' dropped.
    pub fn retain_streams(&mut self, kept: impl Fn(&str) -> bool) {
        self.annotations.retain(|a| kept(&a.stream));
    }
}

/// Whose words a stream is in: a probe's are an LLM provider's; a live (shim) stream's a
/// machine's; simulated and imported ones by their unit or name (latency in ms, tokens, TTFT
/// are an LLM's).
pub fn domain(stream: &Stream) -> Domain {
    match &stream.origin {
        super::Origin::Probe { .. } => Domain::Llm,
        super::Origin::Live { .. } => Domain::Plant,
        _ => {
            let name = stream.id.to_lowercase();
            let llm = [
                "ttft", "token", "latency", "_ms", "llm", "gpt", "claude", "gemini",
            ];
            if matches!(stream.unit.as_str(), "ms" | "tokens/s")
                || llm.iter().any(|w| name.contains(w))
            {
                Domain::Llm
            } else {
                Domain::Plant
            }
        }
    }
}

impl Stream {
    /// The episodes of the chart's signals (every signal, the baseline's too, and the named
    /// rules' that alarm), grouped as the engine and the Worker group alerts: closed by
    /// [`CLEAN_RUN`] unflagged points.
    pub fn episodes(&self, chart: &ChartState) -> Vec<Episode> {
        chart.ready().map_or_else(Vec::new, |c| {
            let alarms = super::rules::alarms(&c.primary);
            with_rules(&c.primary.signals, &alarms, 0, CLEAN_RUN)
        })
    }

    /// The times of an episode's first and last points.
    pub fn span(&self, e: &Episode) -> Option<(f64, f64)> {
        Some((self.point_time(e.first)?, self.point_time(e.last)?))
    }
}

impl Session {
    /// The annotation of episode `e` of `stream`, if any.
    pub fn annotation(&self, stream: &Stream, e: &Episode) -> Option<&Annotation> {
        let (from, to) = stream.span(e)?;
        self.causes.of(&stream.id, from, to)
    }

    /// Records that the user saw every signal of stream `id` so far (they opened it, or left
    /// its view), and whether that is news. When a cause is required
    /// ([`Causes::require`]), it stops before the first unseen episode without one, and says
    /// which episode that is.
    pub fn acknowledge_all(&mut self, id: &str) -> (bool, Option<String>) {
        let Some(stream) = self.stream(id) else {
            return (false, None);
        };
        let chart = stream.chart_state();
        if !self.causes.require {
            let latest = stream.latest_signal_time(&chart);
            return (latest.is_some_and(|t| self.acknowledge(id, t)), None);
        }
        let seen = self
            .acknowledged
            .get(id)
            .copied()
            .unwrap_or(f64::NEG_INFINITY);
        let mut upto = None;
        let mut blocked = None;
        for e in stream.episodes(&chart) {
            let Some((from, to)) = stream.span(&e) else {
                continue;
            };
            if to > seen && self.causes.of(id, from, to).is_none() {
                blocked = Some(format!(
                    "{id}: the episode at points {}–{} needs a cause before it can be \
                     acknowledged (open the stream, click the episode and record a cause, \
                     \"{UNKNOWN}\" if none is known)",
                    e.first, e.last
                ));
                break;
            }
            upto = Some(to);
        }
        let news = upto.is_some_and(|t| self.acknowledge(id, t));
        (news, blocked)
    }

    /// Sets the annotated points of stream `id` aside from its limits' estimate (the engine's
    /// `exclude`: Montgomery §6.3, points with an assignable cause are dropped from the
    /// Phase I estimate and the limits are computed again); says what it did.
    pub fn exclude_annotated(&mut self, id: &str) -> Result<String, String> {
        let stream = self.stream(id).ok_or_else(|| format!("no stream {id}"))?;
        let points = stream.data().len();
        let annotated: Vec<usize> = (0..points)
            .filter(|&i| {
                stream
                    .point_time(i)
                    .is_some_and(|t| self.causes.annotations.iter().any(|a| a.meets(id, t, t)))
            })
            .collect();
        if annotated.is_empty() {
            return Err(format!(
                "{id} has no annotated points: record a cause on an episode first"
            ));
        }
        let n = annotated.len();
        let st = self
            .stream_mut(id)
            .ok_or_else(|| format!("no stream {id}"))?;
        st.settings.chart.exclude = Some(annotated);
        let est = st.chart().map_err(|e| e.to_string())?.map(|c| c.estimate);
        let inside = est.as_ref().map_or(0, |e| e.excluded.len());
        let window = est.map_or(String::new(), |e| {
            format!(
                " (points {}–{})",
                e.baseline_start,
                e.baseline_end.saturating_sub(1)
            )
        });
        Ok(format!(
            "{n} annotated points set aside from the limits' estimate, {inside} of them in \
             the baseline now{window}; a baseline chosen later leaves them out too"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Sample};

    /// 80 points at 10 then a step to 14 from point 60 (test 1 and 2 fire), times 1000 × i.
    fn stepped() -> Stream {
        let mut s = Stream::new("press/temp", "°C", Origin::Simulator);
        s.samples = (0..80)
            .map(|i| Sample {
                t: 1000.0 * i as f64,
                value: if i >= 60 { 14.0 } else { 10.0 } + [0.0, 0.3, -0.2, 0.1][i % 4],
            })
            .collect();
        s
    }

    fn cause(from: f64, to: f64, cause: &str) -> Annotation {
        Annotation {
            stream: "press/temp".into(),
            from,
            to,
            cause: cause.into(),
            action: "reset the setpoint".into(),
            note: "lot 7".into(),
        }
    }

    #[test]
    fn an_annotation_belongs_to_the_episode_it_meets_and_replaces_its_earlier_one() {
        let mut session = Session::default();
        session.streams.push(stepped());
        let st = session.streams[0].clone();
        let found = st.episodes(&st.chart_state());
        assert_eq!(found.len(), 1, "{found:?}");
        let (from, to) = st.span(&found[0]).unwrap();
        assert!(session.annotation(&st, &found[0]).is_none());
        session.causes.annotate(cause(from, to, "setpoint change"));
        session
            .causes
            .annotate(cause(from + 1000.0, to + 5000.0, "tool wear"));
        assert_eq!(
            session.causes.annotations.len(),
            1,
            "the same episode, grown"
        );
        let a = session.annotation(&st, &found[0]).unwrap();
        assert_eq!(a.cause, "tool wear");
        assert!(!a.meets("other", from, to));
    }

    #[test]
    fn a_required_cause_stops_acknowledging_at_the_episode_without_one() {
        let mut session = Session::default();
        session.streams.push(stepped());
        session.causes.require = true;
        let (news, blocked) = session.acknowledge_all("press/temp");
        assert!(!news);
        let said = blocked.expect("the episode is named");
        assert!(said.contains("press/temp: the episode at points"), "{said}");
        assert!(said.contains("needs a cause"), "{said}");
        let st = session.streams[0].clone();
        let e = &st.episodes(&st.chart_state())[0];
        let (from, to) = st.span(e).unwrap();
        session.causes.annotate(cause(from, to, UNKNOWN));
        assert_eq!(session.acknowledge_all("press/temp"), (true, None));
        assert_eq!(session.acknowledged["press/temp"], to);
        // Off (the default): everything is acknowledged, cause or not.
        let mut free = Session::default();
        free.streams.push(stepped());
        assert_eq!(free.acknowledge_all("press/temp"), (true, None));
    }

    #[test]
    fn annotated_points_are_set_aside_from_the_estimate() {
        let mut session = Session::default();
        let mut st = stepped();
        st.settings.chart.phase1 = None;
        st.settings.chart.baseline_range = Some((0, 80));
        session.streams.push(st);
        assert!(session.exclude_annotated("press/temp").is_err());
        session
            .causes
            .annotate(cause(60_000.0, 79_000.0, "setpoint change"));
        let said = session.exclude_annotated("press/temp").unwrap();
        assert!(
            said.starts_with(
                "20 annotated points set aside from the limits' estimate, 20 of them in the \
                 baseline now (points 0–79)"
            ),
            "{said}"
        );
        let st = session.stream("press/temp").unwrap();
        assert_eq!(st.settings.chart.exclude, Some((60..80).collect()));
        let chart = st.chart().unwrap().unwrap();
        // The center is the first 60 points' mean (10.05), not pulled up by the step.
        assert!(
            (chart.estimate.center - 10.05).abs() < 1e-9,
            "{}",
            chart.estimate.center
        );
    }

    #[test]
    fn causes_round_trip_as_json_and_old_sessions_read_without_them() {
        let mut session = Session::default();
        session.causes.require = true;
        session.causes.taxonomy.plant.causes.push("coolant".into());
        session.causes.annotate(cause(1.0, 2.0, "setpoint change"));
        let text = serde_json::to_string(&session).unwrap();
        assert_eq!(serde_json::from_str::<Session>(&text).unwrap(), session);
        let old: Session = serde_json::from_str(r#"{"streams":[]}"#).unwrap();
        assert!(old.causes.is_default());
        assert!(!serde_json::to_string(&old).unwrap().contains("causes"));
        assert_eq!(lines(" a\n\nb \na\n"), ["a", "b"]);
    }

    #[test]
    fn streams_speak_their_domain() {
        let probe = Origin::Probe {
            url: "https://p".into(),
        };
        assert_eq!(domain(&Stream::new("x/y", "", probe)), Domain::Llm);
        assert_eq!(
            domain(&Stream::new("gpt-4o-mini/ttft", "ms", Origin::Simulator)),
            Domain::Llm
        );
        assert_eq!(
            domain(&Stream::new("press1/cycle_time", "s", Origin::Simulator)),
            Domain::Plant
        );
        let file = Origin::Import {
            file: "run.csv".into(),
        };
        assert_eq!(domain(&Stream::new("run/ttft", "", file)), Domain::Llm);
    }
}
