//! Who may manage alert rules: tokens the operator issues, and the operator.
//!
//! A token is 32 random bytes from the system's generator, written `cnry_` and 43 base64url
//! characters, shown once when `canary tokens create` makes it; the store keeps its SHA-256,
//! a name and a scope. A request's bearer token must be one of these and not revoked: a token
//! nobody issued is refused, so a client cannot invent one (to own rules or to get a fresh
//! rate limit). Rules belong to the hash of their token. The command line, run by whoever
//! holds the database, adds rules for the [`Owner::Operator`] unless given a token: an owner
//! that no bearer token hashes to, so no HTTP request can reach the operator's rules.

use base64::Engine as _;
use canary_model::Timestamp;
use canary_store::{StoredToken, Stores};

use crate::EngineError;
use crate::alerting::owner_of;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Read the reports, and list its own rules and their deliveries.
    Read,
    /// Also add, test, silence and remove its own rules.
    Alerts,
}

impl Scope {
    /// Its name as stored and typed.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Alerts => "alerts",
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "read" => Ok(Scope::Read),
            "alerts" => Ok(Scope::Alerts),
            other => Err(format!("{other}: a scope is read or alerts")),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose rules: a token's (by its hash) or the operator's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The command line without a token.
    Operator,
    /// SHA-256 of an issued token, hex.
    Token(String),
}

/// The owner column of the operator's rules: not 64 hex digits, so no token hashes to it.
pub const OPERATOR: &str = "operator";

impl Owner {
    /// As stored in the rules' owner column.
    #[must_use]
    pub fn key(&self) -> &str {
        match self {
            Owner::Operator => OPERATOR,
            Owner::Token(hash) => hash,
        }
    }
}

/// A request's caller, once its token is known valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub id: i64,
    pub name: String,
    pub scope: Scope,
    /// Owner of the caller's rules.
    pub owner: Owner,
}

/// The prefix of every token (so that a leaked one is recognisable in a scan).
pub const PREFIX: &str = "cnry_";

/// Issue a token: the token (shown once) and its row.
///
/// # Errors
/// An empty or over-long name, the system's generator failing, a database error.
pub fn issue(
    store: &mut dyn Stores,
    name: &str,
    scope: Scope,
    now: Timestamp,
) -> Result<(String, StoredToken), EngineError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(EngineError::param(
            "name",
            name,
            "give a name of 1 to 100 printable characters (who or what uses the token)",
        ));
    }
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| EngineError::param("token", "", "the system's random generator failed"))?;
    let token = format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = owner_of(&token);
    let id = store.add_token(name, &hash, scope.as_str(), now)?;
    let row = store
        .token_by_hash(&hash)?
        .filter(|t| t.id == id)
        .ok_or_else(|| EngineError::param("token", "", "not found after it was stored"))?;
    Ok((token, row))
}

/// Who sends `token`: `None` for a token nobody issued or one revoked.
///
/// # Errors
/// A database error.
pub fn authenticate(store: &dyn Stores, token: &str) -> Result<Option<Caller>, EngineError> {
    let hash = owner_of(token);
    let Some(t) = store.token_by_hash(&hash)? else {
        return Ok(None);
    };
    if t.revoked_at.is_some() {
        return Ok(None);
    }
    Ok(Some(Caller {
        id: t.id,
        name: t.name,
        scope: t.scope.parse().unwrap_or(Scope::Read),
        owner: Owner::Token(hash),
    }))
}

/// The owner the command line acts for: the operator, or the token given (which must be
/// issued and valid).
///
/// # Errors
/// A token this database did not issue, or revoked; a database error.
pub fn cli_owner(store: &dyn Stores, token: Option<&str>) -> Result<Owner, EngineError> {
    let Some(t) = token else {
        return Ok(Owner::Operator);
    };
    match authenticate(store, t)? {
        Some(c) => Ok(c.owner),
        None => Err(EngineError::param(
            "token",
            "…",
            "not a valid token of this database (canary tokens create makes one; canary tokens list shows them)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_authenticate_until_revoked_and_invented_ones_never() {
        let mut s = canary_store::in_memory().unwrap();
        let t = Timestamp::from_millis(1);
        let (token, row) = issue(&mut *s, "bot", Scope::Alerts, t).unwrap();
        assert!(
            token.starts_with(PREFIX) && token.len() == PREFIX.len() + 43,
            "{token}"
        );
        let (other, _) = issue(&mut *s, "bot", Scope::Read, t).unwrap();
        assert_ne!(token, other);
        let c = authenticate(&*s, &token).unwrap().unwrap();
        assert_eq!((c.id, c.scope), (row.id, Scope::Alerts));
        assert_eq!(c.owner, Owner::Token(owner_of(&token)));
        assert_eq!(authenticate(&*s, "local").unwrap(), None);
        assert_eq!(authenticate(&*s, "cnry_made_up").unwrap(), None);
        s.revoke_token(row.id, false, t).unwrap();
        assert_eq!(authenticate(&*s, &token).unwrap(), None);
        assert_eq!(cli_owner(&*s, None).unwrap(), Owner::Operator);
        assert!(cli_owner(&*s, Some(&token)).is_err(), "revoked");
        assert!(cli_owner(&*s, Some(&other)).is_ok());
        assert!(issue(&mut *s, " ", Scope::Read, t).is_err());
        // No token hashes to the operator's owner key.
        assert_ne!(owner_of(OPERATOR), OPERATOR);
        assert_eq!(OPERATOR.len(), 8);
    }
}
