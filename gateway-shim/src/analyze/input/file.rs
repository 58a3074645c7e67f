//! Reading the file named on the command line. Copying a large file out of the page cache,
//! and the first touch of each page of the buffer, are most of the time spent reading it: a
//! large file is read in two halves at once, each into its own half of one buffer.

use std::fs::File;
use std::io::{ErrorKind, Read, Result};

/// Files below this are read on one thread.
const SPLIT_MIN: u64 = 1 << 20;

/// All of `file`, as a serial read would give it (bytes appended while reading included).
pub fn read_all(mut file: File) -> Result<Vec<u8>> {
    let len = file.metadata()?.len();
    if len >= SPLIT_MIN {
        if let Some(bytes) = read_halves(&file, len)? {
            return Ok(bytes);
        }
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The first `len` bytes read in two halves on two threads, then whatever follows them; None
/// when the file turns out shorter than `len` (then it is read again serially).
#[cfg(unix)]
fn read_halves(file: &File, len: u64) -> Result<Option<Vec<u8>>> {
    use std::os::unix::fs::FileExt;
    let (Ok(size), Ok(half)) = (usize::try_from(len), usize::try_from(len / 2)) else {
        return Ok(None);
    };
    let mut bytes = vec![0; size];
    let (first, second) = bytes.split_at_mut(half);
    let (early, late) = std::thread::scope(|s| {
        let late = s.spawn(|| file.read_exact_at(second, len / 2));
        (file.read_exact_at(first, 0), late.join())
    });
    let late = late.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    match early.and(late) {
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(None),
        other => other?,
    }
    let mut buf = [0; 1 << 16];
    let mut at = len;
    loop {
        match file.read_at(&mut buf, at) {
            Ok(0) => return Ok(Some(bytes)),
            Ok(n) => {
                bytes.extend_from_slice(&buf[..n]);
                at += n as u64;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(not(unix))]
fn read_halves(_: &File, _: u64) -> Result<Option<Vec<u8>>> {
    Ok(None)
}
