//! The memcached text protocol: `get k1 k2 …` answered by `VALUE` blocks
//! and `END`; `set k 0 ttl n` answered by `STORED`.

use super::{is_memcache_error, line, number, push_number};
use super::{OpKind, Parse, ProtocolError, Reply};

/// Appends `get <key>…\r\n` (one command however many keys).
pub fn encode_get<'k>(out: &mut Vec<u8>, keys: impl Iterator<Item = &'k [u8]>) {
    out.extend_from_slice(b"get");
    for key in keys {
        out.push(b' ');
        out.extend_from_slice(key);
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends `set <key> 0 <ttl> <len>\r\n<value>\r\n`.
pub fn encode_set(out: &mut Vec<u8>, key: &[u8], value: &[u8], ttl: u32) {
    out.extend_from_slice(b"set ");
    out.extend_from_slice(key);
    out.extend_from_slice(b" 0 ");
    push_number(out, ttl as usize);
    out.push(b' ');
    push_number(out, value.len());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Decodes one reply to a `get` of `keys` keys or to a `set`.
pub fn parse(buf: &[u8], op: OpKind, keys: u32) -> Result<Parse, ProtocolError> {
    match op {
        OpKind::Get => parse_get(buf, keys),
        OpKind::Set => {
            let Some((text, len)) = line(buf) else {
                return Ok(Parse::Incomplete);
            };
            let error = is_memcache_error(text);
            if !error && !matches!(text, b"STORED" | b"NOT_STORED" | b"EXISTS" | b"NOT_FOUND") {
                return Err(ProtocolError("unexpected reply to set"));
            }
            Ok(Parse::Done {
                len,
                reply: Reply {
                    error,
                    ..Reply::default()
                },
            })
        }
    }
}

/// `VALUE <key> <flags> <bytes> [<cas>]\r\n<data>\r\n`… then `END\r\n`.
fn parse_get(buf: &[u8], keys: u32) -> Result<Parse, ProtocolError> {
    let mut at = 0;
    let mut hits = 0u32;
    loop {
        let Some((text, len)) = line(&buf[at..]) else {
            return Ok(Parse::Incomplete);
        };
        if text == b"END" {
            let reply = Reply {
                hits,
                misses: keys.saturating_sub(hits),
                error: false,
            };
            return Ok(Parse::Done {
                len: at + len,
                reply,
            });
        }
        if is_memcache_error(text) {
            let reply = Reply {
                error: true,
                ..Reply::default()
            };
            return Ok(Parse::Done {
                len: at + len,
                reply,
            });
        }
        let mut fields = text.split(|&b| b == b' ');
        if fields.next() != Some(b"VALUE") {
            return Err(ProtocolError("expected VALUE or END"));
        }
        let bytes = fields
            .nth(2)
            .and_then(number)
            .ok_or(ProtocolError("VALUE without a length"))?;
        let block = len + bytes + 2;
        if buf.len() < at + block {
            return Ok(Parse::Incomplete);
        }
        if &buf[at + len + bytes..at + block] != b"\r\n" {
            return Err(ProtocolError("value not followed by \\r\\n"));
        }
        at += block;
        hits += 1;
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
        encode_get(&mut out, [&b"a"[..], b"bc"].into_iter());
        assert_eq!(out, b"get a bc\r\n");
        out.clear();
        encode_set(&mut out, b"k", b"xyz", 30);
        assert_eq!(out, b"set k 0 30 3\r\nxyz\r\n");
    }

    #[test]
    fn decodes_hits_misses_and_errors() {
        let hit = b"VALUE a 0 2\r\nhi\r\nEND\r\n";
        let reply = Reply {
            hits: 1,
            misses: 2,
            error: false,
        };
        assert_eq!(
            parse(hit, OpKind::Get, 3),
            Ok(Parse::Done {
                len: hit.len(),
                reply
            })
        );
        assert_eq!(
            parse(b"VALUE a 0 2\r\nhi\r", OpKind::Get, 1),
            Ok(Parse::Incomplete)
        );
        let error = parse(b"SERVER_ERROR out of memory\r\n", OpKind::Set, 1);
        assert!(matches!(
            error,
            Ok(Parse::Done {
                reply: Reply { error: true, .. },
                ..
            })
        ));
        assert!(parse(b"HELLO\r\n", OpKind::Get, 1).is_err());
        assert!(parse(b"VALUE a 0 2\r\nhiXX", OpKind::Get, 1).is_err());
    }

    /// One reply the server could send: to a get of `keys` keys with the
    /// first `hits` found (values of the given sizes), or to a set.
    fn reply() -> impl Strategy<Value = Case> {
        prop_oneof![
            (1u32..5, proptest::collection::vec(0usize..40, 0..5)).prop_map(|(keys, sizes)| {
                let hits = sizes.len().min(keys as usize);
                let mut bytes = Vec::new();
                for (i, size) in sizes.iter().take(hits).enumerate() {
                    bytes.extend_from_slice(format!("VALUE key{i} 7 {size} 99\r\n").as_bytes());
                    bytes.extend(std::iter::repeat_n(b'\n', *size));
                    bytes.extend_from_slice(b"\r\n");
                }
                bytes.extend_from_slice(b"END\r\n");
                let reply = Reply {
                    hits: hits as u32,
                    misses: keys - hits as u32,
                    error: false,
                };
                (bytes, OpKind::Get, keys, reply)
            }),
            Just((b"STORED\r\n".to_vec(), OpKind::Set, 1, Reply::default())),
            Just((
                b"CLIENT_ERROR bad data chunk\r\n".to_vec(),
                OpKind::Set,
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
            let (decoded, expected) = decode_cases(Protocol::Memcache, &replies, &cuts);
            prop_assert_eq!(decoded, expected);
        }
    }
}
