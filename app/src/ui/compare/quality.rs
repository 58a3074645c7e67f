//! Quality scores from outside (any eval's output), joined to the compared targets by their
//! results' `model` (compared without case and surrounding spaces); scored models that no
//! target uses are listed. Reading the file (CSV or JSON, its scale and bad lines) is the second
//! module's (`llmscope_app_lazy::quality`, [`read`]).

use llmscope_app_lazy::quality::same_model;
pub use llmscope_app_lazy::quality::Scores;

/// The scores of `file`, whose text is `text`, read by the second module; an error only when
/// nothing in it can be used.
pub async fn read(file: &str, text: &str) -> Result<Scores, String> {
    crate::lazy::quality(file, text).await
}

/// The scores joined to targets: each target's score (by its model), and the scored models
/// no target uses.
#[derive(Clone, Debug, PartialEq)]
pub struct Joined {
    /// One per target, in the targets' order.
    pub per_target: Vec<Option<f64>>,
    /// Scored models matched by no target.
    pub unmatched: Vec<String>,
}

/// Joins `scores` to targets whose results name `models` (one per target; `None`: unknown).
pub fn join(scores: &Scores, models: &[Option<String>]) -> Joined {
    let score_of = |model: &str| {
        scores
            .scores
            .iter()
            .find(|(m, _)| same_model(m, model))
            .map(|(_, s)| *s)
    };
    let per_target = models
        .iter()
        .map(|m| m.as_deref().and_then(score_of))
        .collect();
    let unmatched = scores
        .scores
        .iter()
        .filter(|(m, _)| !models.iter().flatten().any(|t| same_model(t, m)))
        .map(|(m, _)| m.clone())
        .collect();
    Joined {
        per_target,
        unmatched,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llmscope_app_lazy::quality::parse;

    #[test]
    fn scores_join_targets_by_model_without_case() {
        let s = parse("e.csv", "model,score\nGPT-4o,0.9\nllama,0.4\n").unwrap();
        let joined = join(&s, &[Some("gpt-4o".into()), None, Some("claude".into())]);
        assert_eq!(joined.per_target, [Some(0.9), None, None]);
        assert_eq!(joined.unmatched, ["llama"]);
    }
}
