//! API tokens: `tokens` (create, list, revoke).

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct TokensArgs {
    #[command(subcommand)]
    pub command: TokensCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Issue a token: printed once (only its SHA-256 is stored).
    Create(TokenCreateArgs),
    /// The tokens issued: id, name, scope, when, revoked, rules.
    List,
    /// Refuse a token from now on.
    Revoke(TokenRevokeArgs),
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// Who or what uses it (shown in the list).
    #[arg(long)]
    pub name: String,
    /// read: reports, and its own rules and deliveries listed; alerts: also add, test,
    /// silence and remove its own rules.
    #[arg(long, default_value = "alerts", value_parser = ["read", "alerts"])]
    pub scope: String,
}

#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    /// The token's id, as listed.
    pub id: i64,
    /// Also remove its alert rules (otherwise they keep running, reachable by no token).
    #[arg(long)]
    pub remove_rules: bool,
}
