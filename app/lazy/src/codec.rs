//! Plain little-endian bytes for `wire`: numbers as 8 bytes, a flag as one, text and lists
//! with their length first, an option with a flag; reading past the end, a length beyond
//! what is left, or bytes left over is an error in words, never a panic.

/// Bytes being written.
#[derive(Default)]
pub(crate) struct Out(pub(crate) Vec<u8>);

impl Out {
    pub(crate) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn f64(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn bool(&mut self, v: bool) {
        self.0.push(u8::from(v));
    }
    pub(crate) fn str(&mut self, v: &str) {
        self.u64(v.len() as u64);
        self.0.extend_from_slice(v.as_bytes());
    }
    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.u64(v.len() as u64);
        self.0.extend_from_slice(v);
    }
    pub(crate) fn opt<T>(&mut self, v: &Option<T>, put: impl FnOnce(&mut Out, &T)) {
        self.bool(v.is_some());
        if let Some(v) = v {
            put(self, v);
        }
    }
    pub(crate) fn list<T>(&mut self, v: &[T], mut put: impl FnMut(&mut Out, &T)) {
        self.u64(v.len() as u64);
        for x in v {
            put(self, x);
        }
    }
}

/// Bytes being read; running out is an error that names what was being read.
pub(crate) struct In<'a> {
    bytes: &'a [u8],
    at: usize,
}

pub(crate) type Read<T> = Result<T, String>;

impl In<'_> {
    pub(crate) fn take(&mut self, n: usize) -> Read<&[u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| {
            format!(
                "the comparison's message ends at byte {} of {}: reload the page, so the \
                 dashboard and its comparison module are of one build",
                self.at,
                self.bytes.len()
            )
        })?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    pub(crate) fn u64(&mut self) -> Read<u64> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().unwrap_or_default()))
    }
    pub(crate) fn f64(&mut self) -> Read<f64> {
        Ok(f64::from_bits(self.u64()?))
    }
    pub(crate) fn bool(&mut self) -> Read<bool> {
        Ok(self.take(1)?[0] != 0)
    }
    pub(crate) fn len(&mut self) -> Read<usize> {
        let n = self.u64()?;
        // A length cannot exceed what is left to read (each item takes a byte at least).
        match usize::try_from(n) {
            Ok(n) if n <= self.bytes.len() - self.at => Ok(n),
            _ => Err(format!(
                "the comparison's message names {n} items at byte {}: it is damaged",
                self.at
            )),
        }
    }
    pub(crate) fn str(&mut self) -> Read<String> {
        let n = self.len()?;
        String::from_utf8(self.take(n)?.to_vec())
            .map_err(|_| "the comparison's message has a name that is not UTF-8".to_string())
    }
    pub(crate) fn bytes(&mut self) -> Read<Vec<u8>> {
        let n = self.len()?;
        Ok(self.take(n)?.to_vec())
    }
    pub(crate) fn opt<T>(&mut self, get: impl FnOnce(&mut Self) -> Read<T>) -> Read<Option<T>> {
        if self.bool()? {
            get(self).map(Some)
        } else {
            Ok(None)
        }
    }
    pub(crate) fn list<T>(&mut self, mut get: impl FnMut(&mut Self) -> Read<T>) -> Read<Vec<T>> {
        let n = self.len()?;
        (0..n).map(|_| get(self)).collect()
    }
    pub(crate) fn done(&self) -> Read<()> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err("the comparison's message has bytes left over: it is damaged".into())
        }
    }
}

pub(crate) fn reading<T>(bytes: &[u8], get: impl FnOnce(&mut In) -> Read<T>) -> Read<T> {
    let mut r = In { bytes, at: 0 };
    let out = get(&mut r)?;
    r.done()?;
    Ok(out)
}
