//! A listpack: byte strings packed one after the other in one buffer,
//! each behind its length as a LEB128 varint (one byte up to 127), as
//! Redis's listpack packs small hashes. Reads walk it from the start, which
//! is fast for the few hundred entries a listpack holds at most; a change
//! splices the buffer in place. The buffer is kept exactly as long as its
//! contents, so its heap size is its length.

/// Byte strings in one buffer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Listpack {
    bytes: Vec<u8>,
}

/// Writes `len` as a varint.
fn put_len(out: &mut Vec<u8>, mut len: usize) {
    while len >= 0x80 {
        out.push((len as u8 & 0x7f) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
}

/// The bytes an entry of `len` bytes takes.
pub fn entry_size(len: usize) -> usize {
    let mut size = 1;
    let mut rest = len >> 7;
    while rest > 0 {
        size += 1;
        rest >>= 7;
    }
    size + len
}

/// Where one entry (its length, then its bytes) lies in the buffer.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Listpack {
    /// Bytes of the buffer.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// The entries in order, with where each lies.
    pub fn spans(&self) -> impl Iterator<Item = (Span, &[u8])> {
        let bytes = &self.bytes;
        let mut at = 0;
        std::iter::from_fn(move || {
            if at >= bytes.len() {
                return None;
            }
            let start = at;
            let (mut len, mut shift) = (0usize, 0);
            loop {
                let byte = bytes[at];
                at += 1;
                len |= usize::from(byte & 0x7f) << shift;
                shift += 7;
                if byte & 0x80 == 0 {
                    break;
                }
            }
            let data = at;
            at += len;
            Some((Span { start, end: at }, &bytes[data..at]))
        })
    }

    /// The entries in order.
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.spans().map(|(_, entry)| entry)
    }

    /// Appends the entries in `entries`.
    pub fn push(&mut self, entries: &[&[u8]]) {
        let added: usize = entries.iter().map(|entry| entry_size(entry.len())).sum();
        self.bytes.reserve_exact(added);
        for entry in entries {
            put_len(&mut self.bytes, entry.len());
            self.bytes.extend_from_slice(entry);
        }
    }

    /// Replaces the bytes `start..end` by the entries in `entries`.
    pub fn splice(&mut self, start: usize, end: usize, entries: &[&[u8]]) {
        let mut packed = Vec::new();
        for entry in entries {
            put_len(&mut packed, entry.len());
            packed.extend_from_slice(entry);
        }
        self.bytes.splice(start..end, packed);
        self.bytes.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_of_any_length_round_trip() {
        let long = vec![b'x'; 300];
        let mut pack = Listpack::default();
        pack.push(&[b"a", b"", &long]);
        let entries: Vec<&[u8]> = pack.iter().collect();
        assert_eq!(entries, [&b"a"[..], b"", &long[..]]);
        assert_eq!(pack.heap_bytes(), 2 + 1 + 302);
        assert_eq!(entry_size(300), 302);
        assert_eq!(entry_size(127), 128);
        let (second, _) = pack.spans().nth(1).unwrap();
        pack.splice(second.start, second.end, &[b"bb", b"c"]);
        let entries: Vec<&[u8]> = pack.iter().collect();
        assert_eq!(entries, [&b"a"[..], b"bb", b"c", &long[..]]);
        let (first, _) = pack.spans().next().unwrap();
        pack.splice(first.start, first.end, &[]);
        assert_eq!(pack.iter().count(), 3);
        assert_eq!(pack.heap_bytes(), 3 + 2 + 302);
    }
}
