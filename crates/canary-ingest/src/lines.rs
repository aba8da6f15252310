//! Reading CSV files so that every error names the line an editor shows.
//!
//! The `csv` crate counts lines at `\n` and dates a record from where it starts; after a
//! `\r\n` terminator a record starts at the `\n`, one line early. [`open`] hands the parser the
//! file with each `\r\n` read as `\n` (a bare `\r` is kept), so that LF files, CRLF files and
//! quoted fields spanning lines all report physical lines. It streams: nothing but one 64 KiB
//! buffer is held.

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
            match chunk.iter().position(|&b| b == b'\r') {
                Some(i) => {
                    out[w..w + i].copy_from_slice(&chunk[..i]);
                    w += i;
                    self.pos += i + 1;
                    self.held_cr = true;
                }
                None => {
                    out[w..w + take].copy_from_slice(chunk);
                    w += take;
                    self.pos += take;
                }
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
