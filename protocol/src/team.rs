//! A member's role on a team's probe Worker (issue 16, workers/README.md "Teams"): the Worker
//! checks every endpoint against it, and the dashboard's workspace view shows it and disables
//! what the role may not do.

use serde::Deserialize;
use std::fmt;

/// A member's role, least to most powerful.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads results, targets, dashboards and comparisons.
    Viewer,
    /// And runs probes, saves dashboards, shares.
    Editor,
    /// And edits targets, manages editors and viewers, reads the audit log.
    Admin,
    /// And manages admins and owners.
    Owner,
}

impl Role {
    /// Every role, least to most powerful (the permission matrix's column order).
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Editor, Role::Admin, Role::Owner];

    /// The name in JSON and D1.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// Reads a role's name, exactly as [`Role::as_str`] writes it.
    pub fn parse(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("role: {s:?} is not a role: use owner, admin, editor or viewer"))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn a_role_reads_back_as_written_and_nothing_else_is_one() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
            let json = format!("\"{role}\"");
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
        }
        assert!(Role::parse("Owner")
            .unwrap_err()
            .contains("use owner, admin"));
        assert!(Role::Viewer < Role::Editor && Role::Admin < Role::Owner);
    }
}
