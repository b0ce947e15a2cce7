//! Inline requests: line framing and `sdssplitargs`'s splitting, quoting and
//! escapes.

use super::*;

#[test]
fn a_line_is_split_at_whitespace() {
    assert_command(b"PING\r\n", &[b"PING"]);
    assert_command(b"PING\n", &[b"PING"]);
    assert_command(b"set  key\tvalue \r\n", &[b"set", b"key", b"value"]);
    assert_command(b"  GET k\n", &[b"GET", b"k"]);
}

#[test]
fn only_the_first_byte_decides_inline_or_multibulk() {
    assert_command(b"$3\r\n", &[b"$3"]);
    assert_command(b":1 *2\r\n", &[b":1", b"*2"]);
    assert_command(b" *1\r\n", &[b"*1"]);
}

#[test]
fn blank_lines_are_skipped() {
    assert_eq!(parsed(b"\r\n"), Outcome::Skip(2));
    assert_eq!(parsed(b"\n"), Outcome::Skip(1));
    assert_eq!(parsed(b" \t \r\n"), Outcome::Skip(5));
    assert_eq!(parsed(b"\r\r\n"), Outcome::Skip(3));
    assert_eq!(parsed(b"\x0b\x0c\nPING\r\n"), Outcome::Skip(3));
}

#[test]
fn a_cr_inside_the_line_separates_arguments() {
    assert_command(b"GET a\rb\n", &[b"GET", b"a", b"b"]);
}

#[test]
fn vertical_tab_and_form_feed_separate_but_do_not_end_arguments() {
    // sdssplitargs skips isspace() between arguments, but ends an unquoted
    // argument only at ' ', '\n', '\r', '\t'.
    assert_command(b"a\x0bb c\n", &[b"a\x0bb", b"c"]);
    assert_command(b"\x0ca \x0bb\n", &[b"a", b"b"]);
    assert_command(b"\"a\"\x0bb\n", &[b"a", b"b"]);
}

#[test]
fn double_quotes_take_c_escapes() {
    assert_command(
        br#"set k "a\nb\r\t\b\a\\\"c"
"#,
        &[b"set", b"k", b"a\nb\r\t\x08\x07\\\"c"],
    );
    assert_command(b"\"a b\"\r\n", &[b"a b"]);
    assert_command(b"\"say \\\"hi\\\"\"\n", &[b"say \"hi\""]);
}

#[test]
fn double_quotes_take_hex_escapes() {
    assert_command(b"\"\\x41\\x00\\xfF\\xAa\"\n", &[b"A\0\xff\xaa"]);
    // Without two hex digits, "\x" is an escaped 'x'.
    assert_command(b"\"\\x4\" \"\\xZZ\" \"\\x\"\n", &[b"x4", b"xZZ", b"x"]);
    // Any other escaped byte stands for itself.
    assert_command(b"\"\\q\\'\\0\"\n", &[b"q'0"]);
}

#[test]
fn single_quotes_take_only_an_escaped_quote() {
    assert_command(b"'a\\'b'\n", &[b"a'b"]);
    assert_command(b"'a\\nb'\n", &[b"a\\nb"]);
    assert_command(b"'a\"b' \"a'b\"\n", &[b"a\"b", b"a'b"]);
    // `\'` wins even after a backslash: `'\\'` never closes.
    assert_error(b"'\\\\'\n", ProtocolError::UnbalancedQuotes);
    assert_command(b"'\\\\' x'\n", &[b"\\' x"]);
}

#[test]
fn a_quote_may_open_inside_an_argument() {
    assert_command(b"ab\"c d\"\n", &[b"abc d"]);
    assert_command(b"a'b c' d\n", &[b"ab c", b"d"]);
    assert_command(b"a\"\" b''\n", &[b"a", b"b"]);
}

#[test]
fn empty_quotes_are_empty_arguments() {
    assert_command(b"set k \"\"\r\n", &[b"set", b"k", b""]);
    assert_command(b"'' \"\"\n", &[b"", b""]);
}

#[test]
fn a_closing_quote_must_be_followed_by_whitespace_or_the_end() {
    for input in [
        &b"\"foo\"bar\n"[..],
        b"'foo'bar\n",
        b"\"foo\"\"bar\"\n",
        b"set k \"v\"x\r\n",
    ] {
        assert_error(input, ProtocolError::UnbalancedQuotes);
    }
    assert_command(b"\"foo\"\tbar\n", &[b"foo", b"bar"]);
    assert_command(b"\"foo\"\x0cbar\n", &[b"foo", b"bar"]);
    assert_command(b"'foo'\r\n", &[b"foo"]);
}

#[test]
fn every_quote_must_close() {
    for input in [
        &b"\"foo\n"[..],
        b"'foo\r\n",
        b"set k \"v\\\"\n",
        b"'v\\'\n",
        b"\"foo\\\n",
        b"\"\n",
        b"a\"b\n",
    ] {
        assert_error(input, ProtocolError::UnbalancedQuotes);
    }
}

#[test]
fn quoted_arguments_are_decoded_plain_ones_are_slices() {
    let limits = Limits::default();
    let mut args = Args::new();
    let plain = b"GET key\r\n";
    match parse(plain, &limits, &mut args) {
        Parsed::Command { argv, consumed } => {
            assert_eq!(consumed, plain.len());
            assert!(std::ptr::eq(
                argv.get(1).unwrap().as_ptr(),
                plain[4..].as_ptr()
            ));
        }
        other => panic!("{other:?}"),
    }
    let quoted = b"SET key \"a\\x00b\"\r\n";
    match parse(quoted, &limits, &mut args) {
        Parsed::Command { argv, .. } => {
            assert_eq!(
                argv.iter().collect::<Vec<_>>(),
                [&b"SET"[..], b"key", b"a\0b"]
            );
            let range = quoted.as_ptr_range();
            assert!(!range.contains(&argv.get(1).unwrap().as_ptr()));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn pipelined_lines_parse_one_by_one() {
    let buf = b"PING\r\nGET a\n\r\n*1\r\n$4\r\nPING\r\nECHO \"x\"\r\n";
    let mut pos = 0;
    let mut outcomes = Vec::new();
    loop {
        let outcome = parsed(&buf[pos..]);
        match outcome {
            Outcome::Command(_, consumed) | Outcome::Skip(consumed) => pos += consumed,
            _ => break,
        }
        outcomes.push(outcome);
    }
    assert_eq!(
        outcomes,
        [
            Outcome::command(&[b"PING"], 6),
            Outcome::command(&[b"GET", b"a"], 6),
            Outcome::Skip(2),
            Outcome::command(&[b"PING"], 14),
            Outcome::command(&[b"ECHO", b"x"], 10),
        ]
    );
    assert_eq!(pos, buf.len());
}

#[test]
fn an_unbalanced_line_fails_even_with_good_lines_after_it() {
    assert_error(b"\"PING\r\nPING\r\n", ProtocolError::UnbalancedQuotes);
}

#[test]
fn a_line_waits_for_its_newline() {
    assert_incomplete(b"PING", 1);
    assert_incomplete(b"PING\r", 1);
    assert_incomplete(b"\"unterminated", 1);
    assert_incomplete(b"", 1);
}

#[test]
fn a_line_longer_than_inline_max_is_too_big() {
    let limits = short_lines(8);
    assert_eq!(parsed_with(b"12345678", &limits), Outcome::Incomplete(1));
    assert_eq!(
        parsed_with(b"123456789", &limits),
        Outcome::Error(ProtocolError::TooBigInline)
    );
    // The newline may be the limit's next byte.
    assert_eq!(
        parsed_with(b"1234567\r\n", &limits),
        Outcome::command(&[b"1234567"], 9)
    );
    assert_eq!(
        parsed_with(b"12345678\n", &limits),
        Outcome::command(&[b"12345678"], 9)
    );
    assert_eq!(
        parsed_with(b"123456789\n", &limits),
        Outcome::Error(ProtocolError::TooBigInline)
    );
    let mut input = vec![b'a'; 64 * 1024];
    assert_incomplete(&input, 1);
    input.push(b'a');
    assert_error(&input, ProtocolError::TooBigInline);
}

#[test]
fn a_nul_byte_hides_the_newline() {
    assert_incomplete(b"PING\0\r\nPING\r\n", 1);
    assert_eq!(
        parsed_with(b"PING\0\r\nPING\r\n", &short_lines(8)),
        Outcome::Error(ProtocolError::TooBigInline)
    );
    // A NUL after the newline belongs to the next request.
    assert_eq!(parsed(b"PING\r\n\0"), Outcome::command(&[b"PING"], 6));
}

#[test]
fn unauthenticated_limits_do_not_apply_to_inline_requests() {
    let limits = Limits {
        unauthenticated: true,
        ..Limits::default()
    };
    let line = format!("{}\n", ["a"; 20].join(" "));
    match parsed_with(line.as_bytes(), &limits) {
        Outcome::Command(args, _) => assert_eq!(args.len(), 20),
        other => panic!("{other:?}"),
    }
}

#[test]
fn long_lines_end_where_short_ones_do() {
    // The end of a line is looked for byte by byte at first, then with
    // memchr: both must agree, on the newline and on a NUL hiding it.
    for len in [14, 15, 16, 17, 40] {
        let arg = vec![b'a'; len];
        let mut line = b"ECHO ".to_vec();
        line.extend_from_slice(&arg);
        let mut hidden = line.clone();
        line.extend_from_slice(b"\r\n");
        assert_eq!(
            parsed(&line),
            Outcome::command(&[b"ECHO", &arg], line.len())
        );
        hidden.extend_from_slice(b"\0\r\n");
        assert_incomplete(&hidden, 1);
        assert_eq!(
            parsed_with(&hidden, &short_lines(len + 5)),
            Outcome::Error(ProtocolError::TooBigInline)
        );
    }
}
