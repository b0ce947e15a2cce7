//! A request's argument vector without a copy per request: [`Args`] is the
//! reusable storage a connection owns, [`Argv`] the view of one parsed
//! request. See the [module documentation](super) for the design.

use std::fmt;
use std::ops::Range;

/// Reusable storage for the arguments of the request being parsed. Create
/// one per connection and pass it to every [`parse`](super::parse) call;
/// its capacity is kept from request to request.
#[derive(Debug, Clone, Default)]
pub struct Args {
    /// Each argument's byte range, in the read buffer or in `decoded`.
    spans: Vec<Range<usize>>,
    /// Arguments of an inline request with quotes, unescaped.
    decoded: Vec<u8>,
    /// Whether `spans` index `decoded` rather than the read buffer.
    in_decoded: bool,
}

impl Args {
    /// Empty storage; it grows to the largest request seen.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets the previous request; the next arguments index the buffer.
    pub(super) fn start_in_buffer(&mut self) {
        self.spans.clear();
        self.decoded.clear();
        self.in_decoded = false;
    }

    /// Forgets the previous request; the next arguments are decoded.
    pub(super) fn start_decoded(&mut self) {
        self.start_in_buffer();
        self.in_decoded = true;
    }

    /// Adds an argument: `range` of the read buffer, or of the decoded
    /// bytes (see [`Args::decoded_len`]).
    pub(super) fn push(&mut self, range: Range<usize>) {
        self.spans.push(range);
    }

    /// The decoded bytes so far, to append an argument's bytes to.
    pub(super) fn decoded(&mut self) -> &mut Vec<u8> {
        &mut self.decoded
    }

    /// How many decoded bytes there are: where the next one will go.
    pub(super) fn decoded_len(&self) -> usize {
        self.decoded.len()
    }

    /// How many arguments have been added.
    pub(super) fn len(&self) -> usize {
        self.spans.len()
    }

    /// The arguments, read against `buf`, the buffer that was parsed.
    pub(super) fn view<'a>(&'a self, buf: &'a [u8]) -> Argv<'a> {
        let bytes = if self.in_decoded { &self.decoded } else { buf };
        Argv {
            bytes,
            spans: &self.spans,
        }
    }
}

/// The arguments of one request, the command name first: byte strings
/// borrowed from the read buffer (or from [`Args`] for decoded inline
/// arguments). Never empty.
#[derive(Clone, Copy)]
pub struct Argv<'a> {
    bytes: &'a [u8],
    spans: &'a [Range<usize>],
}

impl<'a> Argv<'a> {
    /// How many arguments there are, the command name included.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Always false for a parsed request; here for completeness.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The argument at `index` (0 is the command name).
    pub fn get(&self, index: usize) -> Option<&'a [u8]> {
        let span = self.spans.get(index)?;
        self.bytes.get(span.clone())
    }

    /// The command name, as sent (any case).
    pub fn name(&self) -> &'a [u8] {
        self.get(0).unwrap_or_default()
    }

    /// Every argument in order, the command name first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + 'a {
        let bytes = self.bytes;
        self.spans
            .iter()
            .map(move |span| bytes.get(span.clone()).unwrap_or_default())
    }
}

impl PartialEq for Argv<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Argv<'_> {}

impl fmt::Debug for Argv<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|arg| arg.escape_ascii().to_string()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_arguments_are_ranges_of_the_buffer() {
        let buf = b"xxGETyykey";
        let mut args = Args::new();
        args.start_in_buffer();
        args.push(2..5);
        args.push(7..10);
        let argv = args.view(buf);
        assert_eq!(argv.len(), 2);
        assert_eq!(argv.name(), b"GET");
        assert_eq!(argv.get(1), Some(&b"key"[..]));
        assert_eq!(argv.get(2), None);
        assert!(std::ptr::eq(argv.name().as_ptr(), buf[2..].as_ptr()));
    }

    #[test]
    fn decoded_arguments_come_from_the_arena_and_reuse_it() {
        let mut args = Args::new();
        args.start_decoded();
        args.decoded().extend_from_slice(b"setk\0v");
        args.push(0..3);
        args.push(3..4);
        args.push(4..6);
        let argv = args.view(b"unrelated buffer");
        assert_eq!(argv.iter().collect::<Vec<_>>(), [&b"set"[..], b"k", b"\0v"]);
        assert_eq!(format!("{argv:?}"), r#"["set", "k", "\\x00v"]"#);

        let capacity = args.decoded.capacity();
        args.start_in_buffer();
        assert_eq!(args.len(), 0);
        assert_eq!(args.decoded_len(), 0);
        assert_eq!(args.decoded.capacity(), capacity);
    }

    #[test]
    fn views_compare_by_content() {
        let mut a = Args::new();
        a.start_in_buffer();
        a.push(0..4);
        let mut b = Args::new();
        b.start_decoded();
        b.decoded().extend_from_slice(b"PING");
        b.push(0..4);
        assert_eq!(a.view(b"PING"), b.view(b""));
        assert_ne!(a.view(b"PONG"), b.view(b""));
    }
}
