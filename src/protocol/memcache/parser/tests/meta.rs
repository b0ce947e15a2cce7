//! The meta commands.

use super::*;
use crate::protocol::memcache::{
    KeyRef, MetaArithMode, MetaCommand, MetaFlags, MetaRequest, MetaSetMode,
};

/// The meta request `input` holds.
#[track_caller]
fn meta(input: &[u8]) -> MetaRequest<'_> {
    match request(input) {
        Request::Meta(meta) => meta,
        other => panic!("{:?} parsed as {other:?}", show(input)),
    }
}

/// An error answering the `ms` line of `input` and swallowing `swallow`.
fn ms_error(input: &[u8], error: ProtocolError, swallow: usize) -> Parsed<'static> {
    match line_error(input, error, false) {
        Parsed::Error { consumed, .. } => Parsed::Error {
            error,
            consumed,
            swallow,
            silent: false,
        },
        other => other,
    }
}

#[test]
fn mg_with_flags() {
    assert_eq!(
        meta(b"mg a\r\n"),
        MetaRequest {
            command: MetaCommand::Get,
            key: b"a",
            flag_tokens: b"",
            flags: MetaFlags::default(),
            value: b"",
        }
    );
    let mg = meta(b"mg foo s v t Oab T30 k c f h l q u N-1 R5 \r\n");
    assert_eq!(mg.key, b"foo");
    assert_eq!(mg.flag_tokens, b"s v t Oab T30 k c f h l q u N-1 R5");
    assert_eq!(
        mg.flags,
        MetaFlags {
            return_size: true,
            return_value: true,
            return_ttl: true,
            opaque: Some(b"ab"),
            ttl: Some(30),
            return_key: true,
            return_cas: true,
            return_flags: true,
            return_hit: true,
            return_last_access: true,
            quiet: true,
            no_bump: true,
            vivify: Some(-1),
            recache: Some(5),
            ..MetaFlags::default()
        }
    );
    assert_eq!(mg.tokens().count(), 14);
    // Only a flag's first byte counts: `vv` is `v`.
    assert!(meta(b"mg a vv\r\n").flags.return_value);
    // P and L are proxy hints, kept in the tokens and otherwise ignored.
    let mg = meta(b"mg a Pfoo Lbar v\r\n");
    assert_eq!(mg.flag_tokens, b"Pfoo Lbar v");
    assert_eq!(
        mg.flags,
        MetaFlags {
            return_value: true,
            ..MetaFlags::default()
        }
    );
}

#[test]
fn every_meta_command_takes_every_known_flag() {
    // memcached has one flag pre-parser: `mg a F5 v` and `mg a I v` are
    // served, the flags meaning nothing to mg.
    let mg = meta(b"mg a F5 C7 E8 D2 J3 MS I x\r\n");
    assert_eq!(mg.flags.client_flags, Some(5));
    assert_eq!(mg.flags.compare_cas, Some(7));
    assert_eq!(mg.flags.explicit_cas, Some(8));
    assert_eq!(mg.flags.delta, Some(2));
    assert_eq!(mg.flags.initial, Some(3));
    assert_eq!(mg.flags.set_mode, None);
    assert!(mg.flags.invalidate && mg.flags.remove_value);
    // mg does not check the mode byte.
    meta(b"mg a Mz v\r\n");
}

#[test]
fn meta_flag_errors() {
    // All as memcached 1.6.18 answered them to `mg`.
    for (input, reply) in [
        (&b"mg a v v\r\n"[..], "duplicate flag"),
        (b"mg a P L Lfoo\r\n", "duplicate flag"),
        (b"mg a \x80\r\n", "duplicate flag"),
        (b"mg a \x7f\r\n", "duplicate flag"),
        (b"mg a z\r\n", "invalid flag"),
        (b"mg a S\r\n", "invalid flag"),
        (b"mg a noreply\r\n", "invalid flag"),
        (b"mg a Fx v\r\n", "bad command line format"),
        (b"mg a F-1\r\n", "bad command line format"),
        (b"mg a Tx\r\n", "bad token in command line format"),
        (b"mg a T\r\n", "bad token in command line format"),
        (b"mg a Nx q\r\n", "bad token in command line format"),
        (b"mg a R1.5\r\n", "bad token in command line format"),
        (b"mg a Cx\r\n", "bad token in command line format"),
        (b"mg a E-1\r\n", "bad token in command line format"),
        (b"mg a Dx\r\n", "invalid numeric delta value"),
        (b"mg a Jx\r\n", "invalid numeric initial value"),
        (b"mg a MSS\r\n", "incorrect length for M token"),
        (b"mg a M\r\n", "incorrect length for M token"),
        // After a bad token memcached parses on; the last message wins, a
        // bad F sets none, and a duplicate or unknown flag stops at once.
        (b"mg a Tx Dx\r\n", "invalid numeric delta value"),
        (b"mg a Dx Tx\r\n", "bad token in command line format"),
        (b"mg a Fx Tx\r\n", "bad token in command line format"),
        (b"mg a Tx Fx\r\n", "bad token in command line format"),
        (b"mg a Tx v v\r\n", "duplicate flag"),
        (b"mg a Tx z\r\n", "invalid flag"),
        (b"mg a b\r\n", "error decoding key"),
        (b"mg YQ b\r\n", "error decoding key"),
        (b"mg a b Tx\r\n", "bad token in command line format"),
    ] {
        assert_reply(input, &format!("CLIENT_ERROR {reply}\r\n"));
    }
}

#[test]
fn meta_line_errors() {
    for input in [
        &b"mg\r\n"[..],
        b"ms\r\n",
        b"md\r\n",
        b"ma\r\n",
        b"mg   \r\n",
    ] {
        assert_line_error(input, ProtocolError::UnknownCommand, false);
    }
    let long_key = "k".repeat(251);
    for command in ["mg", "md", "ma", "me"] {
        let line = format!("{command} {long_key} v\r\n");
        assert_reply(line.as_bytes(), "CLIENT_ERROR bad command line format\r\n");
    }
    meta(format!("mg {} v\r\n", "k".repeat(250)).as_bytes());
    // 17 flags fit (20 tokens with the command, key and terminal token).
    meta(b"mg a k s t c f v h l q u P L O I M1 N1 R1\r\n");
    assert_reply(
        b"mg a k s t c f v h l q u P L O I M1 N1 R1 T1\r\n",
        "CLIENT_ERROR options flags are too long\r\n",
    );
    for command in ["md", "ma"] {
        let line = format!("{command} a k s t c f v h l q u P L O I M N R T\r\n");
        assert_reply(line.as_bytes(), "CLIENT_ERROR options flags too long\r\n");
    }
}

#[test]
fn opaque_tokens_are_limited_to_32_bytes_with_the_o() {
    let ok = format!("mg a O{}\r\n", "x".repeat(31));
    assert_eq!(
        meta(ok.as_bytes()).flags.opaque,
        Some("x".repeat(31).as_bytes())
    );
    for command in ["mg", "md", "ma"] {
        let line = format!("{command} a O{} q\r\n", "x".repeat(32));
        assert_reply(line.as_bytes(), "CLIENT_ERROR opaque token too long\r\n");
    }
}

#[test]
fn base64_keys() {
    let mg = meta(b"mg YQ== b v k\r\n");
    assert_eq!(mg.key, b"YQ==");
    assert!(mg.flags.base64);
    assert_eq!(mg.key().as_bytes(), b"a");
    // memcached skips bytes outside the alphabet (`Y!Q==` is `a`), stops at
    // the first padded block (`YQ==YQ==` is `a`) and ignores low bits
    // (`YR==` is `a`); corecache refuses those keys.
    for key in ["Y!Q==", "YQ==YQ==", "YR=="] {
        let line = format!("mg {key} b v\r\n");
        assert_reply(line.as_bytes(), "CLIENT_ERROR error decoding key\r\n");
    }
}

#[test]
fn md_and_ma_word_every_flag_error_alike() {
    // memcached 1.6.18 answers these `invalid or duplicate flag`.
    for input in [
        &b"md a z\r\n"[..],
        b"md a Tx\r\n",
        b"md a v v\r\n",
        b"md a q noreply\r\n",
        b"md a b\r\n",
        b"ma a z\r\n",
        b"ma a Dx\r\n",
        b"ma a Jx\r\n",
        b"ma a MDD\r\n",
        b"ma a Cx\r\n",
    ] {
        assert_reply(input, "CLIENT_ERROR invalid or duplicate flag\r\n");
    }
}

#[test]
fn md() {
    let md = meta(b"md foo q I T30 C5 E6 k Oab x\r\n");
    assert_eq!(md.command, MetaCommand::Delete);
    assert_eq!(md.flag_tokens, b"q I T30 C5 E6 k Oab x");
    assert_eq!(
        md.flags,
        MetaFlags {
            quiet: true,
            invalidate: true,
            ttl: Some(30),
            compare_cas: Some(5),
            explicit_cas: Some(6),
            return_key: true,
            opaque: Some(b"ab"),
            remove_value: true,
            ..MetaFlags::default()
        }
    );
}

#[test]
fn ma() {
    let ma = meta(b"ma n N0 J10 D5 T30 q v t c k MD\r\n");
    assert_eq!(ma.command, MetaCommand::Arithmetic);
    assert_eq!(
        ma.flags,
        MetaFlags {
            vivify: Some(0),
            initial: Some(10),
            delta: Some(5),
            ttl: Some(30),
            quiet: true,
            return_value: true,
            return_ttl: true,
            return_cas: true,
            return_key: true,
            arith_mode: Some(MetaArithMode::Decr),
            ..MetaFlags::default()
        }
    );
    assert_eq!(meta(b"ma n\r\n").flags, MetaFlags::default());
    for (mode, expected) in [
        ("I", MetaArithMode::Incr),
        ("+", MetaArithMode::Incr),
        ("D", MetaArithMode::Decr),
        ("-", MetaArithMode::Decr),
    ] {
        let line = format!("ma n M{mode}\r\n");
        assert_eq!(meta(line.as_bytes()).flags.arith_mode, Some(expected));
    }
    for input in [&b"ma n Mi\r\n"[..], b"ma n MX\r\n"] {
        assert_reply(input, "CLIENT_ERROR invalid mode for ma M token\r\n");
    }
    // The mode is checked before the opaque.
    let line = format!("ma n MX O{}\r\n", "x".repeat(32));
    assert_reply(
        line.as_bytes(),
        "CLIENT_ERROR invalid mode for ma M token\r\n",
    );
}

#[test]
fn me() {
    let me = meta(b"me a\r\n");
    assert_eq!(me.command, MetaCommand::Debug);
    assert_eq!((me.key, me.flags.base64), (&b"a"[..], false));
    let me = meta(b"me YQ== b\r\n");
    assert_eq!(me.key().as_bytes(), b"a");
    // Only a third token of exactly `b` counts; the rest is ignored.
    assert!(!meta(b"me YQ== bb\r\n").flags.base64);
    assert!(meta(b"me YQ== b b\r\n").flags.base64);
    assert_eq!(meta(b"me a z z z\r\n").flag_tokens, b"z z z");
    // memcached: `me` alone is a bad command line, not ERROR.
    assert_reply(b"me\r\n", "CLIENT_ERROR bad command line format\r\n");
    assert_reply(b"me a b\r\n", "CLIENT_ERROR bad command line format\r\n");
}

#[test]
fn ms() {
    let ms = meta(b"ms Zm9v 3 T30 F5 c k MA I C9 E10 q Oxy N60 b\r\nabc\r\n");
    assert_eq!(ms.command, MetaCommand::Set);
    assert_eq!(ms.value, b"abc");
    assert_eq!(ms.flag_tokens, b"T30 F5 c k MA I C9 E10 q Oxy N60 b");
    assert_eq!(
        ms.flags,
        MetaFlags {
            ttl: Some(30),
            client_flags: Some(5),
            return_cas: true,
            return_key: true,
            set_mode: Some(MetaSetMode::Append),
            invalidate: true,
            compare_cas: Some(9),
            explicit_cas: Some(10),
            quiet: true,
            opaque: Some(b"xy"),
            vivify: Some(60),
            base64: true,
            ..MetaFlags::default()
        }
    );
    let ms = meta(b"ms a 0\r\n\r\n");
    assert_eq!((ms.value, ms.flag_tokens), (&b""[..], &b""[..]));
    for (mode, expected) in [
        ("S", MetaSetMode::Set),
        ("E", MetaSetMode::Add),
        ("A", MetaSetMode::Append),
        ("P", MetaSetMode::Prepend),
        ("R", MetaSetMode::Replace),
    ] {
        let line = format!("ms a 1 M{mode}\r\nx\r\n");
        assert_eq!(meta(line.as_bytes()).flags.set_mode, Some(expected));
    }
    // memcached: flags 4294967297 are stored as 1.
    assert_eq!(
        meta(b"ms a 1 F4294967297\r\nx\r\n").flags.client_flags,
        Some(1)
    );
    assert_eq!(parsed(b"ms a 5 T0\r\nhel"), Parsed::Incomplete);
}

#[test]
fn ms_errors_before_the_byte_count_leave_the_data_unread() {
    // memcached: these answer the error, then ERROR for the data line.
    assert_line_error(b"ms a\r\n", ProtocolError::BAD_FORMAT, false);
    assert_line_error(b"ms a x\r\nx\r\n", ProtocolError::BAD_FORMAT, false);
    assert_line_error(b"ms a -1\r\nx\r\n", ProtocolError::BAD_FORMAT, false);
    assert_line_error(b"ms a 2147483646\r\n", ProtocolError::BAD_FORMAT, false);
    let long = format!("ms {} 1\r\nx\r\n", "k".repeat(251));
    assert_line_error(long.as_bytes(), ProtocolError::BAD_FORMAT, false);
    assert_line_error(
        b"ms a 1 k s t c f v h l q u P L O I M N R\r\nx\r\n",
        ProtocolError::FLAGS_TOO_LONG,
        false,
    );
    meta(b"ms a 1 k s t c f v h l q u P L O I MS N1\r\nx\r\n");
}

#[test]
fn ms_errors_after_the_byte_count_swallow_the_data() {
    let opaque = format!("O{}", "x".repeat(32));
    for (flags, error) in [
        ("z", ProtocolError::INVALID_FLAG),
        ("S", ProtocolError::INVALID_FLAG),
        ("noreply", ProtocolError::INVALID_FLAG),
        ("v v", ProtocolError::DUPLICATE_FLAG),
        ("MX", ProtocolError::INVALID_MS_MODE),
        ("Ms", ProtocolError::INVALID_MS_MODE),
        ("MSS", ProtocolError::M_TOKEN_LENGTH),
        ("Fx", ProtocolError::BAD_FORMAT),
        ("F-1", ProtocolError::BAD_FORMAT),
        ("Tx", ProtocolError::BAD_TOKEN),
        ("b", ProtocolError::KEY_DECODE),
        (&opaque, ProtocolError::OPAQUE_TOO_LONG),
        // The mode is checked before the opaque.
        (&format!("{opaque} MX"), ProtocolError::INVALID_MS_MODE),
    ] {
        let input = format!("ms a 1 {flags}\r\nx\r\nmn\r\n");
        assert_eq!(
            parsed(input.as_bytes()),
            ms_error(input.as_bytes(), error, 3),
            "{input:?}"
        );
    }
}

#[test]
fn ms_data_block() {
    // memcached: `ms a 1 q\r\nxyz\r\n` answers bad data chunk despite q.
    assert_eq!(
        parsed(b"ms a 1 q\r\nxyz\r\n"),
        Parsed::Error {
            error: ProtocolError::BAD_DATA_CHUNK,
            consumed: 13,
            swallow: 0,
            silent: false,
        }
    );
    let limits = Limits { max_item_size: 10 };
    // memcached unlinks the key in every ms mode, the decoded key for `b`.
    assert_eq!(
        parse(b"ms a 11 MA\r\n", &limits),
        Parsed::TooLarge {
            unlink: Some(KeyRef::Borrowed(b"a")),
            consumed: 12,
            swallow: 13,
            silent: false,
        }
    );
    let Parsed::TooLarge {
        unlink: Some(key), ..
    } = parse(b"ms YWI= 11 b q\r\n", &limits)
    else {
        panic!("not too large");
    };
    assert_eq!(key.as_bytes(), b"ab");
    // A flag error is reported before the size.
    assert_eq!(
        parse(b"ms a 11 Tx\r\n", &limits),
        ms_error(b"ms a 11 Tx\r\n", ProtocolError::BAD_TOKEN, 13)
    );
}
