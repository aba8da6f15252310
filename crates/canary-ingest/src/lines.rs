//! Reading CSV files so that every error names the line an editor shows.
//!
//! The `csv` crate counts lines at `\n` and dates a record from where it starts; after a
//! `\r\n` terminator a record starts at the `\n`, one line early. [`open`] hands the parser the
//! file with each `\r\n` read as `\n` (a bare `\r` is kept), so that LF files, CRLF files and
//! quoted fields spanning lines all report physical lines. It streams: nothing but one 64 KiB
//! buffer is held.
//!
//! [`CsvInput`] then checks the bytes as they stream to the parser: an encoding other than
//! UTF-8 is named with how to convert the file (a UTF-8 byte-order mark is dropped), and a
//! record longer than a bound ([`MAX_RECORD_BYTES`] for candles and network series) is
//! refused naming its line, without being held.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// A reader that turns each `\r\n` into `\n`.
#[derive(Debug)]
pub struct CrlfAsLf<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    /// A `\r` consumed but not yet known to precede `\n`.
    held_cr: bool,
}

impl<R: Read> CrlfAsLf<R> {
    pub fn new(inner: R) -> Self {
        CrlfAsLf {
            inner,
            buf: vec![0; 1 << 16].into_boxed_slice(),
            pos: 0,
            len: 0,
            held_cr: false,
        }
    }
}

impl<R: Read> Read for CrlfAsLf<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut w = 0;
        while w < out.len() {
            if self.pos == self.len {
                if w > 0 {
                    break; // hand over what is ready rather than wait for more input
                }
                self.len = self.inner.read(&mut self.buf)?;
                self.pos = 0;
                if self.len == 0 {
                    // End of input: a held `\r` is a bare one.
                    if std::mem::take(&mut self.held_cr) {
                        out[0] = b'\r';
                        return Ok(1);
                    }
                    return Ok(0);
                }
            }
            if self.held_cr {
                self.held_cr = false;
                if self.buf[self.pos] == b'\n' {
                    self.pos += 1;
                    out[w] = b'\n';
                } else {
                    out[w] = b'\r'; // a bare `\r`: the byte after it is read next time round
                }
                w += 1;
                continue;
            }
            // Copy up to the next `\r` (held until the byte after it is known) in one go.
            let take = (self.len - self.pos).min(out.len() - w);
            let chunk = &self.buf[self.pos..self.pos + take];
            if let Some(i) = chunk.iter().position(|&b| b == b'\r') {
                out[w..w + i].copy_from_slice(&chunk[..i]);
                w += i;
                self.pos += i + 1;
                self.held_cr = true;
            } else {
                out[w..w + take].copy_from_slice(chunk);
                w += take;
                self.pos += take;
            }
        }
        Ok(w)
    }
}

/// Open a CSV file for the `csv` crate with physical line numbers.
///
/// # Errors
/// The file cannot be opened.
pub fn open(path: &Path) -> io::Result<CrlfAsLf<File>> {
    Ok(CrlfAsLf::new(File::open(path)?))
}

/// The longest record the candle and network readers take, in bytes. A candle row is under
/// 200 bytes; a record this long is not data, and is refused before it is held in memory.
pub const MAX_RECORD_BYTES: u64 = 64 * 1024;

/// Why an input cannot be read as CSV text, found before the parser sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Text in another encoding than UTF-8.
    #[error(
        "the file is {encoding}, not UTF-8: convert it first, e.g. `iconv -f {iconv} -t UTF-8 FILE > FILE.utf8.csv`"
    )]
    Encoding {
        encoding: &'static str,
        iconv: &'static str,
    },
    /// Not text at all (compressed, an archive, NUL bytes).
    #[error("{0}")]
    NotText(&'static str),
    /// A record longer than the bound.
    #[error(
        "the record is {bytes} bytes; at most {limit} bytes are read in one record{}",
        if *open_quote { " (a quote opened here is never closed: check the quoting)" } else { " (this is not a row of data: check the file)" }
    )]
    RecordTooLong {
        /// The line the record starts on.
        line: u64,
        bytes: u64,
        limit: u64,
        /// The file ended inside a quoted field.
        open_quote: bool,
    },
}

impl InputError {
    /// The line the error is about, when it is about one.
    #[must_use]
    pub fn line(&self) -> Option<u64> {
        match self {
            InputError::RecordTooLong { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The error a CSV reader returned, as the line and reason to report: the checks of
    /// [`CsvInput`] with their own words, text that is not UTF-8 with how to convert it, and
    /// `None` for anything else (the caller words it).
    #[must_use]
    pub fn of_csv(e: &::csv::Error) -> Option<(Option<u64>, String)> {
        match e.kind() {
            ::csv::ErrorKind::Io(io) => io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<InputError>())
                .map(|ie| (ie.line(), ie.to_string())),
            ::csv::ErrorKind::Utf8 { pos, err } => Some((
                pos.as_ref().map(::csv::Position::line),
                format!(
                    "field {} is not UTF-8 text: the file is in another encoding (Latin-1 or Windows-1252?); convert it first, e.g. `iconv -f WINDOWS-1252 -t UTF-8 FILE > FILE.utf8.csv`",
                    err.field() + 1
                ),
            )),
            _ => None,
        }
    }
}

/// Where the reader is in the CSV grammar (the `csv` crate's, with `"` quoting, doubled
/// quotes inside quotes, and `\n` or `\r` ending a record outside quotes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Csv {
    StartField,
    InField,
    InQuotes,
    /// A quote inside quotes: the end of them, or the first of a doubled quote.
    QuoteInQuotes,
}

/// A CSV input checked as it streams: its first bytes for an encoding other than UTF-8 (a
/// UTF-16 or UTF-32 byte-order mark, UTF-16 without one, gzip, zip, NUL bytes), a UTF-8
/// byte-order mark dropped, and no record longer than a bound — one that is longer is
/// counted to its end without being kept, and is an [`InputError`] naming its line. Nothing
/// but a 512-byte head and the caller's buffer is held. Give it CRLF input through
/// [`CrlfAsLf`] first, so that its line numbers are the physical ones.
#[derive(Debug)]
pub struct CsvInput<R> {
    inner: R,
    delimiter: u8,
    limit: u64,
    state: Csv,
    /// Bytes of the current record so far.
    record: u64,
    /// The line the current record starts on, and the line being read.
    record_line: u64,
    line: u64,
    /// The head read to check the encoding, handed over first; `None` until read.
    head: Option<(Vec<u8>, usize)>,
}

impl<R: Read> CsvInput<R> {
    /// `delimiter` separates fields (`b','`); `limit` bounds a record, in bytes.
    pub fn new(inner: R, delimiter: u8, limit: u64) -> Self {
        CsvInput {
            inner,
            delimiter,
            limit,
            state: Csv::StartField,
            record: 0,
            record_line: 1,
            line: 1,
            head: None,
        }
    }

    fn fail(e: InputError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }

    /// Read the head and check what the bytes are.
    fn sniff(&mut self) -> io::Result<()> {
        let mut head = vec![0u8; 512];
        let mut n = 0;
        while n < head.len() {
            match self.inner.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        head.truncate(n);
        if let Some(e) = encoding_of(&head) {
            return Err(Self::fail(e));
        }
        let start = if head.starts_with(b"\xef\xbb\xbf") {
            3
        } else {
            0
        };
        self.head = Some((head, start));
        Ok(())
    }

    /// Take one byte through the grammar: whether it ends a record.
    fn step(&mut self, b: u8) -> bool {
        let ends = b == b'\n' || b == b'\r';
        let (next, end) = match self.state {
            Csv::InQuotes if b == b'"' => (Csv::QuoteInQuotes, false),
            Csv::InQuotes => (Csv::InQuotes, false),
            Csv::QuoteInQuotes if b == b'"' => (Csv::InQuotes, false),
            _ if ends => (Csv::StartField, true),
            _ if b == self.delimiter => (Csv::StartField, false),
            Csv::StartField if b == b'"' => (Csv::InQuotes, false),
            _ => (Csv::InField, false),
        };
        self.state = next;
        end
    }

    /// Follow the grammar over `bytes`; the index of the byte that makes the record too
    /// long, if one does.
    fn follow(&mut self, bytes: &[u8]) -> Option<usize> {
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' {
                self.line += 1;
            }
            if self.step(b) {
                self.record = 0;
                self.record_line = self.line;
            } else {
                self.record += 1;
                if self.record > self.limit {
                    return Some(i);
                }
            }
        }
        None
    }

    /// Count the bytes of `chunk` up to the end of the record (added to `bytes`): whether it
    /// ended there.
    fn count_to_end(&mut self, chunk: &[u8], bytes: &mut u64) -> bool {
        for &b in chunk {
            if self.step(b) {
                return true;
            }
            *bytes += 1;
        }
        false
    }

    /// The record has passed the bound; `rest` follows the byte that did it. Count the
    /// record to its end, keeping nothing.
    fn too_long(&mut self, rest: &[u8]) -> io::Error {
        let line = self.record_line;
        let mut bytes = self.record;
        let mut ended = self.count_to_end(rest, &mut bytes);
        // What is left of the head, then the input.
        if let Some((head, pos)) = self.head.take() {
            if !ended {
                ended = self.count_to_end(&head[pos..], &mut bytes);
            }
            self.head = Some((Vec::new(), 0));
        }
        let mut buf = vec![0u8; 1 << 16];
        while !ended {
            match self.inner.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => ended = self.count_to_end(&buf[..k], &mut bytes),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return e,
            }
        }
        Self::fail(InputError::RecordTooLong {
            line,
            bytes,
            limit: self.limit,
            open_quote: !ended && self.state == Csv::InQuotes,
        })
    }
}

impl<R: Read> Read for CsvInput<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.head.is_none() {
            self.sniff()?;
        }
        let n = match &mut self.head {
            Some((head, pos)) if *pos < head.len() => {
                let n = (head.len() - *pos).min(out.len());
                out[..n].copy_from_slice(&head[*pos..*pos + n]);
                *pos += n;
                n
            }
            _ => self.inner.read(out)?,
        };
        if let Some(at) = self.follow(&out[..n]) {
            let rest = out[at + 1..n].to_vec();
            return Err(self.too_long(&rest));
        }
        Ok(n)
    }
}

/// What the first bytes of a file say it is, when it is not UTF-8 text.
fn encoding_of(head: &[u8]) -> Option<InputError> {
    let enc = |encoding, iconv| Some(InputError::Encoding { encoding, iconv });
    if head.starts_with(b"\xff\xfe\x00\x00") {
        return enc("UTF-32 (little-endian, with a byte-order mark)", "UTF-32");
    }
    if head.starts_with(b"\x00\x00\xfe\xff") {
        return enc("UTF-32 (big-endian, with a byte-order mark)", "UTF-32");
    }
    if head.starts_with(b"\xff\xfe") {
        return enc("UTF-16 (little-endian, with a byte-order mark)", "UTF-16");
    }
    if head.starts_with(b"\xfe\xff") {
        return enc("UTF-16 (big-endian, with a byte-order mark)", "UTF-16");
    }
    if head.starts_with(b"\x1f\x8b") {
        return Some(InputError::NotText(
            "the file is gzip-compressed, not CSV text: decompress it first (gunzip FILE)",
        ));
    }
    if head.starts_with(b"PK\x03\x04") {
        return Some(InputError::NotText(
            "the file is a zip archive, not CSV text: extract the CSV from it first (unzip FILE)",
        ));
    }
    if !head.contains(&0) {
        return None;
    }
    // NUL bytes: UTF-16 without a byte-order mark puts one beside every ASCII character.
    let pairs = head.len() / 2;
    let zeros_at = |odd: usize| head.chunks_exact(2).filter(|p| p[odd] == 0).count();
    let (even, odd) = (zeros_at(0), zeros_at(1));
    if pairs > 0 && odd * 4 >= pairs * 3 && even * 4 < pairs {
        return enc("UTF-16 (little-endian, no byte-order mark)", "UTF-16LE");
    }
    if pairs > 0 && even * 4 >= pairs * 3 && odd * 4 < pairs {
        return enc("UTF-16 (big-endian, no byte-order mark)", "UTF-16BE");
    }
    Some(InputError::NotText(
        "the file holds NUL bytes: it is not CSV text (binary data, or text in an encoding other than UTF-8)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read everything through `CrlfAsLf` with reads of at most `chunk` bytes.
    fn convert(input: &[u8], chunk: usize) -> Vec<u8> {
        struct Chunks<'a>(&'a [u8], usize);
        impl Read for Chunks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut out = Vec::new();
        let mut r = CrlfAsLf::new(Chunks(input, chunk));
        let mut buf = vec![0u8; chunk];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    proptest::proptest! {
        /// Against the plain definition (each `\r\n` replaced by `\n`), for any mix of
        /// carriage returns and line feeds, read in chunks of any size.
        #[test]
        fn folding_equals_replacing_each_crlf(
            input in proptest::collection::vec(
                proptest::sample::select(vec![b'a', b'\r', b'\n', b',']), 0..300),
            chunk in 1usize..70,
        ) {
            let mut want = Vec::with_capacity(input.len());
            let mut i = 0;
            while i < input.len() {
                if input[i] == b'\r' && input.get(i + 1) == Some(&b'\n') {
                    want.push(b'\n');
                    i += 2;
                } else {
                    want.push(input[i]);
                    i += 1;
                }
            }
            proptest::prop_assert_eq!(convert(&input, chunk), want);
        }
    }

    /// Read everything through a `CsvInput` in reads of at most `chunk` bytes.
    fn checked(input: &[u8], limit: u64, chunk: usize) -> Result<Vec<u8>, InputError> {
        let mut r = CsvInput::new(input, b',', limit);
        let mut out = Vec::new();
        let mut buf = vec![0u8; chunk];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return Ok(out),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => {
                    return Err(e
                        .get_ref()
                        .and_then(|i| i.downcast_ref::<InputError>())
                        .cloned()
                        .expect("an input error"));
                }
            }
        }
    }

    /// Issue 19, item 9: a 200 MB field was held whole and echoed. A record past the bound
    /// is refused with its line and full length, quotes and delimiters followed as the `csv`
    /// crate reads them.
    #[test]
    fn a_record_longer_than_the_bound_is_refused_naming_its_line_and_length() {
        for chunk in [1, 7, 4096] {
            let ok = b"a,b\n\"x\ny\",\"q\"\"\"\n1234,5\n";
            assert_eq!(checked(ok, 12, chunk).unwrap(), ok.to_vec());
            let e = checked(b"a,b\n123456789,1\nz\n", 8, chunk).unwrap_err();
            assert_eq!(
                e,
                InputError::RecordTooLong {
                    line: 2,
                    bytes: 11,
                    limit: 8,
                    open_quote: false
                },
                "chunk {chunk}"
            );
            // A quoted field spanning lines counts as one record, from the line it starts.
            let e = checked(b"a\n\"1\n2\n3\n4\n5\",\"\"\"\"\nb\n", 8, chunk).unwrap_err();
            assert_eq!(e.line(), Some(2), "{e}");
            assert!(
                matches!(e, InputError::RecordTooLong { bytes: 16, .. }),
                "{e}"
            );
            // A quote never closed runs to the end of the file, and says so.
            let e = checked(b"a\n\"1234567890\n", 8, chunk).unwrap_err();
            assert!(e.to_string().contains("never closed"), "{e}");
        }
    }

    /// Issue 19, item 11: UTF-16 was reported as "invalid UTF-8".
    #[test]
    fn other_encodings_are_named_and_a_utf8_bom_dropped() {
        let utf16 = |be: bool, bom: bool| -> Vec<u8> {
            let mut units: Vec<u16> = if bom { vec![0xfeff] } else { vec![] };
            units.extend("time,open\n1,2\n".encode_utf16());
            units
                .into_iter()
                .flat_map(|u| if be { u.to_be_bytes() } else { u.to_le_bytes() })
                .collect()
        };
        for (bytes, says) in [
            (utf16(false, true), "UTF-16 (little-endian, with"),
            (utf16(true, true), "UTF-16 (big-endian, with"),
            (utf16(false, false), "UTF-16 (little-endian, no"),
            (utf16(true, false), "UTF-16 (big-endian, no"),
            (b"\x1f\x8b\x08\x00".to_vec(), "gzip"),
            (b"PK\x03\x04zz".to_vec(), "zip"),
            (b"a,b\n\x00\x01\x02,c".to_vec(), "NUL"),
        ] {
            let e = checked(&bytes, 100, 3).unwrap_err().to_string();
            assert!(e.contains(says), "{says}: {e}");
        }
        assert!(
            checked(&utf16(false, true), 100, 3)
                .unwrap_err()
                .to_string()
                .contains("iconv -f UTF-16 -t UTF-8")
        );
        assert_eq!(
            checked(b"\xef\xbb\xbfa,b\n", 100, 2).unwrap(),
            b"a,b\n".to_vec()
        );
    }

    #[test]
    fn crlf_becomes_lf_and_nothing_else_changes_whatever_the_chunking() {
        let input = b"a,b\r\n1,2\r\n\"x\r\ny\",3\rz\r\r\n\r";
        let want = b"a,b\n1,2\n\"x\ny\",3\rz\r\n\r".to_vec();
        for chunk in 1..=input.len() + 1 {
            assert_eq!(convert(input, chunk), want, "chunk {chunk}");
        }
        assert_eq!(convert(b"plain\nlf\n", 3), b"plain\nlf\n".to_vec());
    }
}
