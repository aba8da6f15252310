//! `--format`: one `OutputFormat` for every command, and the list of formats each accepts.

use clap::ValueEnum;

/// What `--format` writes: one enum for every command, each of which accepts only the
/// formats it has (`Formats`, its list checked when parsing). The variants carry no doc
/// comments, so that `--help` lists the names only, as `[possible values: …]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    // A table for people.
    Table,
    // Every number with its claim.
    Json,
    // Markdown.
    Md,
    // Comma-separated rows.
    Csv,
    // One self-contained page (the analysis).
    Html,
}

impl OutputFormat {
    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::Json => "json",
            Self::Md => "md",
            Self::Csv => "csv",
            Self::Html => "html",
        }
    }

    /// The error for a format the command does not write: the parser refuses it, so only a
    /// caller other than the command line (the demo) could pass one.
    pub fn unavailable(self) -> anyhow::Error {
        anyhow::anyhow!("this command does not write {}", self.name())
    }
}

/// The formats one command's `--format` accepts, in the order its `--help` lists them. A
/// format of another command is refused with a message naming the command and its formats
/// ("--format html is not available for `canary stats`; use table, json or md"); a word that
/// is no format gets clap's usual message, listing these.
#[derive(Debug, Clone, Copy)]
pub struct Formats(pub &'static [OutputFormat]);

impl Formats {
    fn possible(&self) -> impl Iterator<Item = clap::builder::PossibleValue> + '_ {
        self.0.iter().filter_map(ValueEnum::to_possible_value)
    }

    /// "table, json or md".
    fn listed(&self) -> String {
        let names: Vec<&str> = self.0.iter().map(|f| f.name()).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.concat(),
        }
    }
}

impl clap::builder::TypedValueParser for Formats {
    type Value = OutputFormat;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<OutputFormat, clap::Error> {
        let ignore_case = arg.is_some_and(clap::Arg::is_ignore_case_set);
        let format = value
            .to_str()
            .and_then(|v| OutputFormat::from_str(v, ignore_case).ok());
        match format {
            Some(f) if self.0.contains(&f) => Ok(f),
            Some(f) => {
                let flag = arg
                    .and_then(clap::Arg::get_long)
                    .map_or_else(|| "--format".to_string(), |l| format!("--{l}"));
                let command = cmd.get_bin_name().unwrap_or_else(|| cmd.get_name());
                Err(cmd.clone().error(
                    clap::error::ErrorKind::InvalidValue,
                    format!(
                        "{flag} {} is not available for `{command}`; use {}",
                        f.name(),
                        self.listed()
                    ),
                ))
            }
            None => Err(clap::builder::PossibleValuesParser::new(self.possible())
                .parse_ref(cmd, arg, value)
                .expect_err("a word that is no format is in no list of formats")),
        }
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(self.possible()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::{CommandFactory, Parser};

    /// Each command's `--format` accepts what it accepted when every command had its own
    /// format enum (ReportFormat, AnalysisFormat, Format, TableFormat, ListFormat,
    /// SentimentFormat): the same formats in the same order (as `--help` lists them) and the
    /// same default; every other format is refused by name, with the command's list.
    #[test]
    fn each_command_accepts_the_formats_it_had() {
        fn walk(cmd: &clap::Command, path: &str, found: &mut Vec<(String, Vec<String>)>) {
            if let Some(a) = cmd.get_arguments().find(|a| a.get_id() == "format") {
                let listed = a.get_possible_values();
                let names = listed.iter().map(|v| v.get_name().to_string()).collect();
                found.push((path.trim_start().to_string(), names));
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), found);
            }
        }
        const REPORT: &[&str] = &["table", "json", "md"];
        const ANALYSIS: &[&str] = &["md", "html", "json"];
        const TABLE: &[&str] = &["table", "json", "csv"];
        const LIST: &[&str] = &["table", "json", "csv", "md"];
        // The command, the arguments it requires, its default format and its formats.
        let had: &[(&str, &str, &str, &[&str])] = &[
            ("stats", "--symbol BTCUSDT", "table", REPORT),
            ("levels", "--symbol BTCUSDT", "table", REPORT),
            ("backtest levels", "--symbol BTCUSDT", "table", REPORT),
            ("backtest scores", "--symbol BTCUSDT", "md", REPORT),
            ("hashprice", "", "table", REPORT),
            ("network", "", "table", REPORT),
            ("derivatives", "", "table", &["table", "json"]),
            ("derivatives map", "", "table", &["table", "json"]),
            ("scenario", "--price 52000", "table", &["table", "json"]),
            ("backtest liqmap", "", "table", &["table", "json"]),
            ("flows", "", "table", REPORT),
            ("watch", "--symbol BTCUSDT", "table", REPORT),
            ("alerts backtest", "RULE --from 2026-01-01", "table", REPORT),
            ("analyze", "--symbol BTCUSDT", "md", ANALYSIS),
            ("analyses show", "ID", "md", ANALYSIS),
            ("analyses history", "ID", "md", ANALYSIS),
            (
                "indicators",
                "--symbol BTCUSDT",
                "table",
                &["table", "csv", "json"],
            ),
            ("markets", "", "table", &["table", "json"]),
            ("miners", "", "table", TABLE),
            ("treasury", "", "table", TABLE),
            ("score", "--symbol BTCUSDT", "table", LIST),
            ("news list", "", "table", LIST),
            ("news stories", "", "table", LIST),
            ("news search", "", "table", LIST),
            ("news sentiment", "--input h.csv", "csv", &["csv", "json"]),
        ];
        let mut found = Vec::new();
        walk(&Cli::command(), "", &mut found);
        found.sort();
        let mut expected: Vec<(String, Vec<String>)> = had
            .iter()
            .map(|(c, _, _, f)| {
                (
                    c.to_string(),
                    f.iter().map(std::string::ToString::to_string).collect(),
                )
            })
            .collect();
        expected.sort();
        assert_eq!(
            found, expected,
            "the commands with --format, and what --help lists"
        );
        // The format the command line parses to, from the leaf command's matches.
        let parse = |args: Vec<&str>| {
            Cli::command().try_get_matches_from(args).map(|m| {
                let mut m = &m;
                while let Some((_, sub)) = m.subcommand() {
                    m = sub;
                }
                *m.get_one::<OutputFormat>("format").unwrap()
            })
        };
        for (command, required, default, formats) in had {
            let args = |format: &[&'static str]| {
                let mut args = vec!["canary"];
                args.extend(command.split(' '));
                args.extend(required.split_whitespace());
                args.extend(format);
                args
            };
            let parsed = parse(args(&[])).unwrap();
            assert_eq!(parsed.name(), *default, "canary {command}'s default");
            for f in OutputFormat::value_variants() {
                let parsed = parse(args(&["--format", f.name()]));
                if formats.contains(&f.name()) {
                    assert_eq!(
                        parsed.unwrap(),
                        *f,
                        "canary {command} --format {}",
                        f.name()
                    );
                } else {
                    let e = parsed.expect_err(f.name());
                    assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue);
                    let (last, rest) = formats.split_last().unwrap();
                    let message = format!(
                        "error: --format {} is not available for `canary {command}`; use {} or {last}\n",
                        f.name(),
                        rest.join(", ")
                    );
                    assert!(
                        e.to_string().starts_with(&message),
                        "canary {command} --format {}: {e}",
                        f.name()
                    );
                }
            }
        }
    }

    /// The refusal as the command line shows it, and clap's own message for a word that is
    /// no format, listing only the command's formats.
    #[test]
    fn a_format_the_command_lacks_is_refused_by_name() {
        let e = Cli::try_parse_from(["canary", "stats", "--symbol", "BTCUSDT", "--format", "html"])
            .unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue);
        assert!(
            e.to_string().starts_with(
                "error: --format html is not available for `canary stats`; use table, json or md\n"
            ),
            "{e}"
        );
        let cli = Cli::try_parse_from([
            "canary", "analyze", "--symbol", "BTCUSDT", "--format", "html",
        ])
        .unwrap();
        let Command::Analyze(a) = cli.command else {
            panic!("not the analyze command")
        };
        assert_eq!(a.format, OutputFormat::Html);
        let e = Cli::try_parse_from(["canary", "stats", "--symbol", "BTCUSDT", "--format", "xml"])
            .unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue);
        assert!(
            e.to_string().contains(
                "invalid value 'xml' for '--format <FORMAT>'\n  [possible values: table, json, md]"
            ),
            "{e}"
        );
        let e = Cli::try_parse_from([
            "canary",
            "news",
            "sentiment",
            "--input",
            "h.csv",
            "--format",
            "tabel",
        ])
        .unwrap_err();
        assert!(
            e.to_string().contains("[possible values: csv, json]"),
            "{e}"
        );
    }
}
