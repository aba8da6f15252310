//! A candle file's layout from its first record: a Binance kline dump (with or without its
//! header) or a header whose columns are matched by name and alias (or the column map), and
//! where each field sits in a record.

use canary_model::excerpt::{excerpt, quoted};

use super::{Field, Format, ImportOptions, other_delimiter};

/// Where each field sits in a record (looked up for every field of every row: an array, not
/// a hash map).
#[derive(Debug, Clone, Default)]
pub(super) struct Columns([Option<usize>; Field::ALL.len()]);

impl Columns {
    fn new() -> Self {
        Columns::default()
    }

    pub(super) fn get(&self, f: Field) -> Option<usize> {
        self.0[f as usize]
    }

    fn insert(&mut self, f: Field, i: usize) {
        self.0[f as usize] = Some(i);
    }

    fn contains_key(&self, f: Field) -> bool {
        self.get(f).is_some()
    }
}

fn binance_columns() -> Columns {
    let mut c = Columns::new();
    for (f, i) in [
        (Field::Time, 0),
        (Field::Open, 1),
        (Field::High, 2),
        (Field::Low, 3),
        (Field::Close, 4),
        (Field::Volume, 5),
        (Field::QuoteVolume, 7),
        (Field::Trades, 8),
    ] {
        c.insert(f, i);
    }
    c
}

pub(super) fn header_columns(header: &[String], opts: &ImportOptions) -> Result<Columns, String> {
    let lower: Vec<String> = header
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let find = |name: &str| lower.iter().position(|h| h == name);
    let mut cols = Columns::new();
    for (field, col) in &opts.map {
        let i = find(&col.to_ascii_lowercase()).ok_or_else(|| {
            format!(
                "column map {}={col}: no column {} in the header ({})",
                field.name(),
                quoted(col),
                excerpt(&header.join(", "))
            )
        })?;
        cols.insert(*field, i);
    }
    for field in Field::ALL {
        if cols.contains_key(field) {
            continue;
        }
        if let Some(i) = field.aliases().iter().find_map(|a| find(a)) {
            cols.insert(field, i);
        } else if field == Field::Volume {
            // Any other `volume_*` column that is not a quote volume is a base volume.
            let quote = Field::QuoteVolume.aliases();
            if let Some(i) = lower
                .iter()
                .position(|h| h.starts_with("volume") && !quote.contains(&h.as_str()))
            {
                cols.insert(field, i);
            }
        }
    }
    let missing: Vec<&str> = [
        Field::Time,
        Field::Open,
        Field::High,
        Field::Low,
        Field::Close,
        Field::Volume,
    ]
    .into_iter()
    .filter(|&f| !cols.contains_key(f))
    .map(Field::name)
    .collect();
    if !missing.is_empty() {
        return Err(format!(
            "no column for {} in the header ({}); name them in the column map ({}=COLUMN)",
            missing.join(", "),
            excerpt(&header.join(", ")),
            missing[0]
        ));
    }
    Ok(cols)
}

fn looks_numeric(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty() && s.parse::<f64>().is_ok()
}

/// The file's layout from its first record: a Binance kline dump (with or without its header)
/// or a header naming the columns; the first record when it is already a bar.
pub(super) fn layout(
    first: ::csv::StringRecord,
    opts: &ImportOptions,
    delimiter: u8,
) -> Result<(Format, Columns, Option<::csv::StringRecord>), String> {
    if looks_numeric(first.get(0).unwrap_or("").trim_ascii()) {
        if first.len() < 6 {
            return Err(format!(
                "no header row and {} columns: expected a Binance kline CSV (12 columns) or a header naming the columns",
                first.len()
            ));
        }
        return Ok((Format::Binance, binance_columns(), Some(first)));
    }
    let header: Vec<String> = first.iter().map(|h| h.trim_ascii().to_string()).collect();
    if let Some((shown, name)) = other_delimiter(&header, delimiter) {
        return Err(format!(
            "the first line is one column ({}): this looks {name}-separated: read it with the delimiter {shown}",
            excerpt(&header[0])
        ));
    }
    let lower: Vec<String> = header.iter().map(|h| h.to_ascii_lowercase()).collect();
    let binance_header = header.len() == 12 && lower[0] == "open_time" && lower[6] == "close_time";
    let cols = if binance_header && opts.map.is_empty() {
        binance_columns()
    } else {
        header_columns(&header, opts)?
    };
    let format = if binance_header {
        Format::Binance
    } else {
        Format::Header
    };
    Ok((format, cols, None))
}
