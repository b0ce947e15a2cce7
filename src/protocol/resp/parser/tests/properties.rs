//! Property tests: generated requests of every kind parse back to what was
//! generated, whole or cut at any byte, alone or pipelined; and arbitrary
//! bytes give the same answers however they are split into reads.

use proptest::collection::vec;
use proptest::prelude::*;

use super::super::inline::{decode, split_plain};
use super::*;

/// One argument: often short text, sometimes any bytes (line breaks, NULs,
/// protocol markers), sometimes empty.
fn argument() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => "[a-zA-Z0-9:_-]{1,12}".prop_map(String::into_bytes),
        3 => vec(any::<u8>(), 0..40),
        1 => Just(Vec::new()),
        1 => proptest::sample::select(vec![&b"\r\n"[..], b"*1\r\n", b"$3\r\n", b"\0", b"\n"])
            .prop_map(<[u8]>::to_vec),
    ]
}

/// The arguments of one request.
fn arguments() -> impl Strategy<Value = Vec<Vec<u8>>> {
    vec(argument(), 1..8)
}

/// `args` as a multibulk request, as clients send it.
fn multibulk(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// `arg` in double quotes with escapes, as Redis's `sdscatrepr` writes it.
fn double_quoted(arg: &[u8]) -> Vec<u8> {
    let mut out = vec![b'"'];
    for &b in arg {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            b' '..=b'~' => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
    out
}

/// `arg` (printable, not ending in a backslash) in single quotes.
fn single_quoted(arg: &[u8]) -> Vec<u8> {
    let mut out = vec![b'\''];
    for &b in arg {
        if b == b'\'' {
            out.extend_from_slice(b"\\'");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    out
}

/// One inline argument and how it is written on the line.
fn inline_argument() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    prop_oneof![
        // No quotes, no whitespace, no leading `*` (which would make a
        // first argument multibulk): written as it is.
        4 => "[!#-&()+-~][!#-&(-~]{0,11}".prop_map(|t| (t.clone().into_bytes(), t.into_bytes())),
        2 => vec(any::<u8>(), 0..16).prop_map(|a| (double_quoted(&a), a)),
        1 => "[ -~]{0,10}"
            .prop_filter("a final backslash escapes the quote", |t| !t.ends_with('\\'))
            .prop_map(|t| (single_quoted(t.as_bytes()), t.into_bytes())),
    ]
}

/// An inline request: its line and its arguments.
fn inline_request() -> impl Strategy<Value = (Vec<u8>, Vec<Vec<u8>>)> {
    let separator = proptest::sample::select(vec![" ", "  ", "\t", " \t ", " \x0b"]);
    (
        vec((inline_argument(), separator.clone()), 1..6),
        proptest::sample::select(vec!["", " ", "\t"]),
        proptest::sample::select(vec!["\r\n", "\n", " \r\n"]),
    )
        .prop_map(|(parts, indent, end)| {
            let mut line = indent.as_bytes().to_vec();
            let mut args = Vec::new();
            for (i, ((written, arg), separator)) in parts.into_iter().enumerate() {
                if i > 0 {
                    line.extend_from_slice(separator.as_bytes());
                }
                line.extend_from_slice(&written);
                args.push(arg);
            }
            line.extend_from_slice(end.as_bytes());
            (line, args)
        })
}

/// Soup of protocol-looking pieces, to reach the error paths.
fn soup() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        proptest::sample::select(vec![
            &b"*1\r\n"[..],
            b"*2\r\n",
            b"*0\r\n",
            b"*-1\r\n",
            b"*11\r\n",
            b"$3\r\n",
            b"$0\r\n",
            b"$-1\r\n",
            b"$20000\r\n",
            b"$01\r\n",
            b"foo",
            b"PING",
            b"\r\n",
            b"\r",
            b"\n",
            b"\"",
            b"'",
            b"\\",
            b"\\x4",
            b"\0",
            b" ",
            b"\t",
            b"\x0b",
            b"*",
            b"$",
        ])
        .prop_map(<[u8]>::to_vec),
        (0u32..40).prop_map(|n| n.to_string().into_bytes()),
        vec(any::<u8>(), 0..6),
    ];
    vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

/// The limits arbitrary input is parsed under: the defaults, and limits
/// small enough for short input to reach them.
fn limits() -> impl Strategy<Value = Limits> {
    prop_oneof![
        Just(Limits::default()),
        Just(Limits {
            inline_max: 6,
            proto_max_bulk_len: 4,
            max_multibulk_len: 3,
            unauthenticated: false,
        }),
        Just(Limits {
            unauthenticated: true,
            ..Limits::default()
        }),
    ]
}

/// What a connection sees when the bytes arrive in `reads`: every outcome
/// but Incomplete, parsing on after each read from where it stopped, up to
/// the first error; and whether it ended waiting for more.
fn stream(reads: &[&[u8]], limits: &Limits) -> (Vec<Outcome>, bool) {
    let mut buf = Vec::new();
    let mut pos = 0;
    let mut outcomes = Vec::new();
    let mut args = Args::new();
    for read in reads {
        buf.extend_from_slice(read);
        loop {
            let outcome = Outcome::from(parse(&buf[pos..], limits, &mut args));
            match outcome {
                Outcome::Command(_, consumed) | Outcome::Skip(consumed) => {
                    assert!(consumed > 0 && pos + consumed <= buf.len());
                    pos += consumed;
                    outcomes.push(outcome);
                }
                Outcome::Incomplete(needed) => {
                    assert!(needed > 0);
                    break;
                }
                Outcome::Error(_) => {
                    outcomes.push(outcome);
                    return (outcomes, false);
                }
            }
        }
    }
    (outcomes, true)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_multibulk_request_cut_anywhere_waits_then_parses_whole(args in arguments()) {
        let bytes = multibulk(&args);
        for end in 0..bytes.len() {
            prop_assert!(
                matches!(parsed(&bytes[..end]), Outcome::Incomplete(_)),
                "prefix of {} bytes", end
            );
        }
        prop_assert_eq!(parsed(&bytes), Outcome::Command(args, bytes.len()));
    }

    #[test]
    fn pipelined_multibulk_requests_parse_one_by_one(requests in vec(arguments(), 1..8)) {
        let rendered: Vec<Vec<u8>> = requests.iter().map(|args| multibulk(args)).collect();
        let buf = rendered.concat();
        let mut args = Args::new();
        let mut pos = 0;
        for (request, bytes) in requests.into_iter().zip(&rendered) {
            let outcome = Outcome::from(parse(&buf[pos..], &Limits::default(), &mut args));
            prop_assert_eq!(outcome, Outcome::Command(request, bytes.len()));
            pos += bytes.len();
        }
        prop_assert!(matches!(parsed(&buf[pos..]), Outcome::Incomplete(_)));
    }

    #[test]
    fn an_inline_request_cut_anywhere_waits_then_parses_whole(
        (line, args) in inline_request()
    ) {
        for end in 0..line.len() {
            prop_assert_eq!(parsed(&line[..end]), Outcome::Incomplete(1), "prefix of {}", end);
        }
        prop_assert_eq!(parsed(&line), Outcome::Command(args, line.len()));
    }

    #[test]
    fn pipelined_inline_and_multibulk_requests_parse_one_by_one(
        requests in vec(prop_oneof![
            inline_request(),
            arguments().prop_map(|args| (multibulk(&args), args)),
        ], 1..8)
    ) {
        let buf: Vec<u8> = requests.iter().flat_map(|(bytes, _)| bytes.clone()).collect();
        let expected: Vec<Outcome> = requests
            .into_iter()
            .map(|(bytes, args)| Outcome::Command(args, bytes.len()))
            .collect();
        prop_assert_eq!(stream(&[&buf], &Limits::default()), (expected, true));
    }

    #[test]
    fn lines_without_quotes_split_alike_as_slices_or_decoded(
        line in vec(proptest::sample::select(b"ab\\x1 \t\r\x0b\x0c".to_vec()), 0..24)
    ) {
        let mut plain = Args::new();
        split_plain(&line, &mut plain);
        let mut decoded = Args::new();
        prop_assert_eq!(decode(&line, &mut decoded), Ok(()));
        prop_assert_eq!(plain.view(&line), decoded.view(&line));
    }

    #[test]
    fn arbitrary_bytes_give_the_same_answers_however_they_arrive(
        input in prop_oneof![vec(any::<u8>(), 0..200), soup()],
        cuts in vec(any::<prop::sample::Index>(), 0..4),
        limits in limits(),
    ) {
        let whole = stream(&[&input], &limits);
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
        points.sort_unstable();
        let mut reads = Vec::new();
        let mut start = 0;
        for point in points {
            reads.push(&input[start..point]);
            start = point;
        }
        reads.push(&input[start..]);
        prop_assert_eq!(stream(&reads, &limits), whole);
    }

    #[test]
    fn an_answer_depends_only_on_the_bytes_it_consumed(
        input in prop_oneof![vec(any::<u8>(), 0..200), soup()],
        limits in limits(),
    ) {
        let outcome = parsed_with(&input, &limits);
        let consumed = match outcome {
            Outcome::Command(_, consumed) | Outcome::Skip(consumed) => consumed,
            Outcome::Incomplete(_) | Outcome::Error(_) => return Ok(()),
        };
        prop_assert!(consumed > 0 && consumed <= input.len());
        prop_assert_eq!(parsed_with(&input[..consumed], &limits), outcome);
        for end in 0..consumed {
            prop_assert!(
                matches!(parsed_with(&input[..end], &limits), Outcome::Incomplete(_)),
                "prefix of {} bytes", end
            );
        }
    }
}
