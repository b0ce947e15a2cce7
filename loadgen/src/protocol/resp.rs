//! RESP2 and RESP3: requests are arrays of bulk strings (`GET`, `MGET`,
//! `SET … EX`); replies are decoded by one walker over every RESP3 type, so
//! the same decoder reads RESP2 servers, RESP3 servers (after `HELLO 3`)
//! and the `HELLO` map itself.

use super::{line, number, push_number, OpKind, Parse, ProtocolError, Reply};

/// The request that switches a connection to RESP3.
pub const HELLO3: &[u8] = b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n";

/// How deep aggregates may nest before the reply is taken as malformed.
const MAX_DEPTH: usize = 32;

/// Appends `GET <key>`, or `MGET <key>…` for several keys.
pub fn encode_get<'k>(out: &mut Vec<u8>, keys: impl ExactSizeIterator<Item = &'k [u8]>) {
    let count = keys.len();
    out.push(b'*');
    push_number(out, count + 1);
    out.extend_from_slice(if count == 1 {
        b"\r\n$3\r\nGET\r\n"
    } else {
        b"\r\n$4\r\nMGET\r\n"
    });
    for key in keys {
        bulk(out, key);
    }
}

/// Appends `SET <key> <value>`, with `EX <ttl>` when `ttl` is not 0.
pub fn encode_set(out: &mut Vec<u8>, key: &[u8], value: &[u8], ttl: u32) {
    out.extend_from_slice(if ttl > 0 {
        b"*5\r\n$3\r\nSET\r\n"
    } else {
        b"*3\r\n$3\r\nSET\r\n"
    });
    bulk(out, key);
    bulk(out, value);
    if ttl > 0 {
        out.extend_from_slice(b"$2\r\nEX\r\n");
        let mut digits = itoa::Buffer::new();
        bulk(out, digits.format(ttl).as_bytes());
    }
}

fn bulk(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'$');
    push_number(out, bytes.len());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

/// Decodes one reply to a `GET`/`MGET` of `keys` keys or to a `SET`.
pub fn parse(buf: &[u8], op: OpKind, keys: u32) -> Result<Parse, ProtocolError> {
    let Some((len, value)) = value(buf, 0)? else {
        return Ok(Parse::Incomplete);
    };
    let reply = match (op, value) {
        (_, Value::Error) => Reply {
            error: true,
            ..Reply::default()
        },
        (OpKind::Get, Value::Bulk) if keys == 1 => Reply {
            hits: 1,
            ..Reply::default()
        },
        (OpKind::Get, Value::Null) if keys == 1 => Reply {
            misses: 1,
            ..Reply::default()
        },
        (OpKind::Get, Value::Array { present, .. }) if keys > 1 => Reply {
            hits: present,
            misses: keys.saturating_sub(present),
            error: false,
        },
        (OpKind::Set, Value::Simple | Value::Null) => Reply::default(),
        _ => return Err(ProtocolError("unexpected reply type")),
    };
    Ok(Parse::Done { len, reply })
}

/// Skips one whole reply of any type (the answer to `HELLO`, say).
pub fn skip(buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
    Ok(value(buf, 0)?.map(|(len, _)| len))
}

/// The shape of a reply, as much as the statistics need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    /// `+…`, `:…`, `,…`, `#…`, `(…`: a scalar.
    Simple,
    /// `-…` or `!…`: an error.
    Error,
    /// `$…` or `=…` with content.
    Bulk,
    /// `$-1`, `*-1` or `_`.
    Null,
    /// `*`, `~`, `>` or `%`: with how many direct elements were not null.
    Array { present: u32 },
}

/// The value at the start of `buf` and its length; `None` while incomplete.
fn value(buf: &[u8], depth: usize) -> Result<Option<(usize, Value)>, ProtocolError> {
    if depth > MAX_DEPTH {
        return Err(ProtocolError("aggregates nested too deep"));
    }
    let Some((text, head)) = line(buf) else {
        return Ok(None);
    };
    let (&kind, rest) = text.split_first().ok_or(ProtocolError("empty line"))?;
    let length = |rest: &[u8]| -> Result<Option<usize>, ProtocolError> {
        if rest == b"-1" {
            return Ok(None);
        }
        number(rest).map(Some).ok_or(ProtocolError("bad length"))
    };
    match kind {
        b'+' | b':' | b',' | b'#' | b'(' => Ok(Some((head, Value::Simple))),
        b'-' => Ok(Some((head, Value::Error))),
        b'_' => Ok(Some((head, Value::Null))),
        b'$' | b'=' | b'!' => {
            let Some(size) = length(rest)? else {
                return Ok(Some((head, Value::Null)));
            };
            let total = head + size + 2;
            if buf.len() < total {
                return Ok(None);
            }
            if &buf[head + size..total] != b"\r\n" {
                return Err(ProtocolError("bulk string not followed by \\r\\n"));
            }
            Ok(Some((
                total,
                if kind == b'!' {
                    Value::Error
                } else {
                    Value::Bulk
                },
            )))
        }
        b'*' | b'~' | b'>' | b'%' => {
            let Some(count) = length(rest)? else {
                return Ok(Some((head, Value::Null)));
            };
            let elements = if kind == b'%' { count * 2 } else { count };
            let mut at = head;
            let mut present = 0u32;
            for _ in 0..elements {
                let Some((len, element)) = value(&buf[at..], depth + 1)? else {
                    return Ok(None);
                };
                if element != Value::Null {
                    present += 1;
                }
                at += len;
            }
            Ok(Some((at, Value::Array { present })))
        }
        _ => Err(ProtocolError("unknown RESP type")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{decode_cases, Case};
    use super::super::Protocol;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_requests() {
        let mut out = Vec::new();
        encode_get(&mut out, [&b"key"[..]].into_iter());
        assert_eq!(out, b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
        out.clear();
        encode_get(&mut out, [&b"kkkkkkkkk"[..], b"kkkkkkkkkk"].into_iter());
        assert_eq!(
            out,
            b"*3\r\n$4\r\nMGET\r\n$9\r\nkkkkkkkkk\r\n$10\r\nkkkkkkkkkk\r\n"
        );
        out.clear();
        encode_set(&mut out, b"k", b"v", 0);
        encode_set(&mut out, b"k", b"v", 60);
        assert_eq!(
            out,
            &b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nEX\r\n$2\r\n60\r\n"[..]
        );
    }

    #[test]
    fn decodes_resp2_and_resp3() {
        let hello = b"%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n";
        assert_eq!(skip(hello), Ok(Some(hello.len())));
        assert_eq!(skip(&hello[..hello.len() - 1]), Ok(None));
        let miss = Reply {
            misses: 1,
            ..Reply::default()
        };
        assert_eq!(
            parse(b"_\r\n", OpKind::Get, 1),
            Ok(Parse::Done {
                len: 3,
                reply: miss
            })
        );
        assert_eq!(
            parse(b"$-1\r\n", OpKind::Get, 1),
            Ok(Parse::Done {
                len: 5,
                reply: miss
            })
        );
        let mget = b"*3\r\n$1\r\na\r\n$-1\r\n$0\r\n\r\n";
        let reply = Reply {
            hits: 2,
            misses: 1,
            error: false,
        };
        assert_eq!(
            parse(mget, OpKind::Get, 3),
            Ok(Parse::Done {
                len: mget.len(),
                reply
            })
        );
        let error = parse(b"-OOM command not allowed\r\n", OpKind::Set, 1);
        assert!(matches!(
            error,
            Ok(Parse::Done {
                reply: Reply { error: true, .. },
                ..
            })
        ));
        assert!(parse(b"+OK\r\n", OpKind::Get, 1).is_err());
        assert!(parse(b"?\r\n", OpKind::Set, 1).is_err());
    }

    /// A bulk string, or a null in RESP2 or RESP3 spelling.
    fn element() -> impl Strategy<Value = (Vec<u8>, bool)> {
        prop_oneof![
            (0usize..30).prop_map(|size| {
                let mut bytes = format!("${size}\r\n").into_bytes();
                bytes.extend(std::iter::repeat_n(b'\n', size));
                bytes.extend_from_slice(b"\r\n");
                (bytes, true)
            }),
            Just((b"$-1\r\n".to_vec(), false)),
            Just((b"_\r\n".to_vec(), false)),
        ]
    }

    /// One reply: to a `GET`, an `MGET`, or a `SET`.
    fn reply() -> impl Strategy<Value = Case> {
        prop_oneof![
            element().prop_map(|(bytes, hit)| {
                let reply = Reply {
                    hits: hit as u32,
                    misses: !hit as u32,
                    error: false,
                };
                (bytes, OpKind::Get, 1, reply)
            }),
            proptest::collection::vec(element(), 2..6).prop_map(|elements| {
                let mut bytes = format!("*{}\r\n", elements.len()).into_bytes();
                let hits = elements.iter().filter(|e| e.1).count() as u32;
                elements.iter().for_each(|e| bytes.extend_from_slice(&e.0));
                let keys = elements.len() as u32;
                (
                    bytes,
                    OpKind::Get,
                    keys,
                    Reply {
                        hits,
                        misses: keys - hits,
                        error: false,
                    },
                )
            }),
            Just((b"+OK\r\n".to_vec(), OpKind::Set, 1, Reply::default())),
            Just((
                b"-ERR wrong number of arguments\r\n".to_vec(),
                OpKind::Get,
                1,
                Reply {
                    error: true,
                    ..Reply::default()
                }
            )),
        ]
    }

    proptest! {
        #[test]
        fn replies_split_anywhere_decode_alike(
            replies in proptest::collection::vec(reply(), 1..8),
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
        ) {
            let (decoded, expected) = decode_cases(Protocol::Resp, &replies, &cuts);
            prop_assert_eq!(decoded, expected);
        }
    }
}
