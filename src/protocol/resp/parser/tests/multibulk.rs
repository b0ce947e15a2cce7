//! Multibulk requests: framing, counts, lengths, and every error Redis's
//! `processMultibulkBuffer` answers.

use super::*;

#[test]
fn a_request_is_its_bulk_arguments() {
    assert_command(b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n", &[b"GET", b"key"]);
    assert_command(b"*1\r\n$4\r\nPING\r\n", &[b"PING"]);
}

#[test]
fn arguments_are_slices_of_the_buffer() {
    let buf = b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";
    let mut args = Args::new();
    let Parsed::Command { argv, .. } = parse(buf, &Limits::default(), &mut args) else {
        panic!("not a command");
    };
    assert_eq!(argv.name(), b"GET");
    assert!(std::ptr::eq(argv.name().as_ptr(), buf[8..].as_ptr()));
    assert!(std::ptr::eq(
        argv.get(1).unwrap().as_ptr(),
        buf[17..].as_ptr()
    ));
}

#[test]
fn payloads_are_binary_safe() {
    assert_command(
        b"*3\r\n$3\r\nSET\r\n$4\r\nk\r\nk\r\n$6\r\n\0\r\n*1\n\r\n",
        &[b"SET", b"k\r\nk", b"\0\r\n*1\n"],
    );
    let value: Vec<u8> = (0..=255).collect();
    let mut input = b"*2\r\n$4\r\nECHO\r\n$256\r\n".to_vec();
    input.extend_from_slice(&value);
    input.extend_from_slice(b"\r\n");
    assert_eq!(command(&input), [b"ECHO".to_vec(), value]);
}

#[test]
fn empty_arguments_are_arguments() {
    assert_command(b"*2\r\n$3\r\nGET\r\n$0\r\n\r\n", &[b"GET", b""]);
    assert_command(b"*1\r\n$0\r\n\r\n", &[b""]);
}

#[test]
fn pipelined_requests_parse_one_by_one() {
    let get = b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n".as_slice();
    let set = b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$5\r\nhello\r\n".as_slice();
    let ping = b"PING\r\n".as_slice();
    let buf = [get, set, ping, get].concat();
    let mut args = Args::new();
    let limits = Limits::default();
    let mut pos = 0;
    let mut seen = Vec::new();
    while let Parsed::Command { argv, consumed } = parse(&buf[pos..], &limits, &mut args) {
        seen.push((
            argv.iter().map(<[u8]>::to_vec).collect::<Vec<_>>(),
            consumed,
        ));
        pos += consumed;
    }
    let owned = |args: &[&[u8]]| args.iter().map(|a| a.to_vec()).collect::<Vec<_>>();
    assert_eq!(
        seen,
        [
            (owned(&[b"GET", b"a"]), get.len()),
            (owned(&[b"SET", b"b", b"hello"]), set.len()),
            (owned(&[b"PING"]), ping.len()),
            (owned(&[b"GET", b"a"]), get.len()),
        ]
    );
    assert_eq!(pos, buf.len());
    assert!(matches!(
        parse(&buf[pos..], &limits, &mut args),
        Parsed::Incomplete { .. }
    ));
}

#[test]
fn every_prefix_of_a_request_waits() {
    let input = b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";
    for end in 0..input.len() {
        assert!(
            matches!(parsed(&input[..end]), Outcome::Incomplete(_)),
            "prefix of {end} bytes"
        );
    }
}

#[test]
fn incomplete_says_how_much_of_a_payload_is_missing() {
    assert_incomplete(b"*", 1);
    assert_incomplete(b"*1\r", 1);
    assert_incomplete(b"*1\r\n$100\r\n", 102);
    assert_incomplete(b"*1\r\n$100\r\nab", 100);
    assert_incomplete(b"*1\r\n$3\r\nfoo", 2);
    assert_incomplete(b"*1\r\n$3\r\nfoo\r", 1);
    assert_incomplete(b"*2\r\n$3\r\nfoo\r\n", 1);
}

#[test]
fn zero_or_negative_counts_are_skipped() {
    assert_eq!(parsed(b"*0\r\n"), Outcome::Skip(4));
    assert_eq!(parsed(b"*-1\r\n"), Outcome::Skip(5));
    assert_eq!(parsed(b"*-5\r\n$3\r\nGET\r\n"), Outcome::Skip(5));
    assert_eq!(parsed(b"*-9223372036854775808\r\n"), Outcome::Skip(23));
}

#[test]
fn the_count_must_be_a_strict_number() {
    for input in [
        &b"*\r\n"[..],
        b"*x\r\n",
        b"*01\r\n",
        b"*-0\r\n",
        b"*+1\r\n",
        b"* 1\r\n",
        b"*1 \r\n",
        b"*1x\r\n",
        b"*1\n\r\n",
        b"*9223372036854775808\r\n",
    ] {
        assert_error(input, ProtocolError::InvalidMultibulkLength);
    }
}

#[test]
fn the_count_is_capped_by_the_limit_and_by_i32_max() {
    // The limit itself is accepted (and nothing is reserved for it).
    assert_incomplete(b"*1048576\r\n", 1);
    assert_error(b"*1048577\r\n", ProtocolError::InvalidMultibulkLength);
    let raised = Limits {
        max_multibulk_len: u64::MAX,
        ..Limits::default()
    };
    assert_eq!(
        parsed_with(b"*2147483647\r\n", &raised),
        Outcome::Incomplete(1)
    );
    assert_eq!(
        parsed_with(b"*2147483648\r\n", &raised),
        Outcome::Error(ProtocolError::InvalidMultibulkLength)
    );
}

#[test]
fn a_line_ends_at_its_first_cr_and_the_next_byte_is_skipped_unread() {
    // Redis finds the end with strchr('\r') and jumps two bytes.
    assert_command(b"*1\rX$3\rYfoo\r\n", &[b"foo"]);
    assert_incomplete(b"*1\r", 1);
}

#[test]
fn the_two_bytes_after_a_payload_are_not_checked() {
    // Redis skips bulklen + 2 bytes without looking at the last two.
    assert_command(b"*1\r\n$3\r\nfooXY", &[b"foo"]);
    assert_eq!(
        parsed(b"*2\r\n$3\r\nfoo\n$1\r\na\r\n"),
        // "\n$" are skipped, "1\r\n" is the next line: expected '$'.
        Outcome::Error(ProtocolError::ExpectedDollar(b'1'))
    );
}

#[test]
fn an_argument_must_start_with_a_dollar_once_its_line_is_there() {
    assert_incomplete(b"*1\r\nX", 1);
    assert_incomplete(b"*1\r\nX\r", 1);
    assert_error(b"*1\r\nX\r\n", ProtocolError::ExpectedDollar(b'X'));
    assert_error(b"*1\r\n:1\r\n", ProtocolError::ExpectedDollar(b':'));
    assert_error(b"*1\r\n*1\r\n", ProtocolError::ExpectedDollar(b'*'));
    assert_error(b"*1\r\n\r\n", ProtocolError::ExpectedDollar(b'\r'));
    assert_error(b"*1\r\n\n\r\n", ProtocolError::ExpectedDollar(b'\n'));
    assert_error(
        b"*2\r\n$1\r\na\r\n+x\r\n",
        ProtocolError::ExpectedDollar(b'+'),
    );
}

#[test]
fn a_bulk_length_must_be_a_non_negative_strict_number() {
    for input in [
        &b"*1\r\n$\r\n"[..],
        b"*1\r\n$-1\r\n",
        b"*1\r\n$-0\r\n",
        b"*1\r\n$x\r\n",
        b"*1\r\n$01\r\n",
        b"*1\r\n$+1\r\n",
        b"*1\r\n$1 \r\n",
        b"*1\r\n$ 1\r\n",
        b"*1\r\n$9223372036854775808\r\n",
    ] {
        assert_error(input, ProtocolError::InvalidBulkLength);
    }
}

#[test]
fn a_bulk_length_is_capped_by_proto_max_bulk_len() {
    assert_incomplete(b"*1\r\n$536870912\r\n", 536_870_914);
    assert_error(b"*1\r\n$536870913\r\n", ProtocolError::InvalidBulkLength);
    let tight = Limits {
        proto_max_bulk_len: 3,
        ..Limits::default()
    };
    assert_eq!(
        parsed_with(b"*1\r\n$3\r\nfoo\r\n", &tight),
        Outcome::command(&[b"foo"], 13)
    );
    assert_eq!(
        parsed_with(b"*1\r\n$4\r\n", &tight),
        Outcome::Error(ProtocolError::InvalidBulkLength)
    );
}

#[test]
fn errors_wait_for_the_requests_bytes_up_to_them() {
    assert_incomplete(b"*2\r\n$1\r\na\r\n", 1);
    assert_error(b"*2\r\n$1\r\na\r\n$x\r\n", ProtocolError::InvalidBulkLength);
}

#[test]
fn a_count_line_longer_than_inline_max_is_too_big() {
    let limits = short_lines(8);
    let waits = b"*1234567"; // 8 bytes, no '\r' yet
    assert_eq!(parsed_with(waits, &limits), Outcome::Incomplete(1));
    assert_eq!(
        parsed_with(b"*12345678", &limits),
        Outcome::Error(ProtocolError::TooBigMultibulkCount)
    );
    // The '\r' at offset 8 still counts: the line is 8 bytes long.
    assert_eq!(
        parsed_with(b"*1234567\r\n", &limits),
        Outcome::Error(ProtocolError::InvalidMultibulkLength)
    );
    assert_eq!(
        parsed_with(b"*0000000\r\n", &limits),
        Outcome::Error(ProtocolError::InvalidMultibulkLength)
    );
    assert_eq!(
        parsed_with(b"*1\r\n$1\r\na\r\n", &limits),
        Outcome::command(&[b"a"], 11)
    );
    // A '\r' past the limit does not save the line.
    assert_eq!(
        parsed_with(b"*12345678\r\n", &limits),
        Outcome::Error(ProtocolError::TooBigMultibulkCount)
    );
}

#[test]
fn the_default_line_limit_is_64_kib() {
    let mut input = vec![b'*'];
    input.resize(64 * 1024, b'1');
    assert_incomplete(&input, 1);
    input.push(b'1');
    assert_error(&input, ProtocolError::TooBigMultibulkCount);
}

#[test]
fn a_length_line_longer_than_inline_max_is_too_big() {
    let limits = short_lines(8);
    // The limit counts from the start of the argument's own line.
    assert_eq!(
        parsed_with(b"*2\r\n$1\r\na\r\n$1234567", &limits),
        Outcome::Incomplete(1)
    );
    assert_eq!(
        parsed_with(b"*2\r\n$1\r\na\r\n$12345678", &limits),
        Outcome::Error(ProtocolError::TooBigBulkCount)
    );
    // Also before the '$' check: the line must end first.
    assert_eq!(
        parsed_with(b"*1\r\nX12345678", &limits),
        Outcome::Error(ProtocolError::TooBigBulkCount)
    );
}

#[test]
fn a_nul_byte_hides_the_end_of_a_line() {
    // strchr stops at the NUL: Redis never sees the '\r' and waits until
    // the line is too big.
    assert_incomplete(b"*1\0\r\n$1\r\na\r\n", 1);
    assert_incomplete(b"*1\r\n$1\0\r\na\r\n", 1);
    let limits = short_lines(8);
    assert_eq!(
        parsed_with(b"*1\0\r\n$1\r\na\r\n", &limits),
        Outcome::Error(ProtocolError::TooBigMultibulkCount)
    );
    assert_eq!(
        parsed_with(b"*1\r\n$1\0\r\nabc\r\n", &limits),
        Outcome::Error(ProtocolError::TooBigBulkCount)
    );
    assert_eq!(parsed_with(b"*1\r\n\0", &limits), Outcome::Incomplete(1));
}

#[test]
fn unauthenticated_connections_get_tighter_limits() {
    let limits = Limits {
        unauthenticated: true,
        ..Limits::default()
    };
    assert_eq!(parsed_with(b"*10\r\n", &limits), Outcome::Incomplete(1));
    assert_eq!(
        parsed_with(b"*11\r\n", &limits),
        Outcome::Error(ProtocolError::UnauthenticatedMultibulkLength)
    );
    assert_eq!(
        parsed_with(b"*1\r\n$16384\r\n", &limits),
        Outcome::Incomplete(16386)
    );
    assert_eq!(
        parsed_with(b"*1\r\n$16385\r\n", &limits),
        Outcome::Error(ProtocolError::UnauthenticatedBulkLength)
    );
    // The general checks come first.
    assert_eq!(
        parsed_with(b"*1048577\r\n", &limits),
        Outcome::Error(ProtocolError::InvalidMultibulkLength)
    );
    assert_eq!(
        parsed_with(b"*1\r\n$-1\r\n", &limits),
        Outcome::Error(ProtocolError::InvalidBulkLength)
    );
    assert_eq!(parsed_with(b"*-1\r\n", &limits), Outcome::Skip(5));
}

#[test]
fn args_are_reused_without_growing() {
    let mut args = Args::new();
    let limits = Limits::default();
    let buf = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
    assert!(matches!(
        parse(buf, &limits, &mut args),
        Parsed::Command { .. }
    ));
    let small = b"*1\r\n$4\r\nPING\r\n";
    match parse(small, &limits, &mut args) {
        Parsed::Command { argv, .. } => assert_eq!(argv.len(), 1),
        other => panic!("{other:?}"),
    }
}
