//! Fuzzes the RESP request parser: the input is a client's byte stream
//! (after two bytes that choose where to cut it), parsed as a pipeline
//! under a few limits. Besides not panicking, every answer must be
//! consistent: what a request consumed fits the buffer and parses the same
//! on its own, every command has arguments, and cutting the stream into two
//! reads never changes the sequence of answers.

#![no_main]

use corecache::protocol::resp::{parse, Args, Limits, Parsed, ProtocolError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [a, b, input @ ..] = data else {
        return;
    };
    let cut = usize::from(u16::from_le_bytes([*a, *b])) % (input.len() + 1);
    for limits in [
        Limits::default(),
        Limits {
            proto_max_bulk_len: 8,
            max_multibulk_len: 4,
            inline_max: 16,
            unauthenticated: false,
        },
        Limits {
            unauthenticated: true,
            ..Limits::default()
        },
    ] {
        let whole = stream(&[input], &limits);
        let split = stream(&[&input[..cut], &input[cut..]], &limits);
        assert_eq!(whole, split, "cut at {cut}");
    }
});

/// One answer, owned.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Command(Vec<Vec<u8>>, usize),
    Skip(usize),
    Error(ProtocolError),
}

/// The answers a connection gets when `reads` arrive one after the other,
/// up to the first error, and whether it ends waiting for more bytes.
fn stream(reads: &[&[u8]], limits: &Limits) -> (Vec<Outcome>, bool) {
    let mut buf = Vec::new();
    let mut pos = 0;
    let mut outcomes = Vec::new();
    let mut args = Args::new();
    for read in reads {
        buf.extend_from_slice(read);
        loop {
            let rest = &buf[pos..];
            let outcome = match parse(rest, limits, &mut args) {
                Parsed::Command { argv, consumed } => {
                    assert!(!argv.is_empty());
                    assert_eq!(argv.iter().count(), argv.len());
                    Outcome::Command(argv.iter().map(<[u8]>::to_vec).collect(), consumed)
                }
                Parsed::Skip { consumed } => Outcome::Skip(consumed),
                Parsed::Incomplete { needed } => {
                    assert!(needed > 0);
                    break;
                }
                Parsed::Error(error) => {
                    outcomes.push(Outcome::Error(error));
                    return (outcomes, false);
                }
            };
            let consumed = match outcome {
                Outcome::Command(_, consumed) | Outcome::Skip(consumed) => consumed,
                Outcome::Error(_) => unreachable!(),
            };
            assert!(consumed > 0 && consumed <= rest.len());
            // The answer depends on the consumed bytes only.
            let alone = match parse(&rest[..consumed], limits, &mut args) {
                Parsed::Command { argv, consumed } => {
                    Outcome::Command(argv.iter().map(<[u8]>::to_vec).collect(), consumed)
                }
                Parsed::Skip { consumed } => Outcome::Skip(consumed),
                other => panic!("alone, {consumed} bytes answered {other:?}"),
            };
            assert_eq!(alone, outcome);
            pos += consumed;
            outcomes.push(outcome);
        }
    }
    (outcomes, true)
}
