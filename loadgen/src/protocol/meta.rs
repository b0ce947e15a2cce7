//! The memcached meta protocol. A read of one key is `mg <key> v`, answered
//! by `VA <len>` and the value, or `EN`. A read of several keys is one quiet
//! `mg <key> v q` per key (misses say nothing) closed by `mn`, so the reply
//! ends at `MN`. A write is `ms <key> <len> [T<ttl>]`, answered by `HD`.

use super::{is_memcache_error, line, number, push_number};
use super::{OpKind, Parse, ProtocolError, Reply};

/// Appends the read of `keys` keys.
pub fn encode_get<'k>(out: &mut Vec<u8>, keys: impl ExactSizeIterator<Item = &'k [u8]>) {
    let quiet = keys.len() > 1;
    for key in keys {
        out.extend_from_slice(b"mg ");
        out.extend_from_slice(key);
        out.extend_from_slice(if quiet { b" v q\r\n" } else { b" v\r\n" });
    }
    if !quiet {
        return;
    }
    out.extend_from_slice(b"mn\r\n");
}

/// Appends `ms <key> <len>[ T<ttl>]\r\n<value>\r\n`.
pub fn encode_set(out: &mut Vec<u8>, key: &[u8], value: &[u8], ttl: u32) {
    out.extend_from_slice(b"ms ");
    out.extend_from_slice(key);
    out.push(b' ');
    push_number(out, value.len());
    if ttl > 0 {
        out.extend_from_slice(b" T");
        push_number(out, ttl as usize);
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Decodes one reply to a read of `keys` keys or to a write.
pub fn parse(buf: &[u8], op: OpKind, keys: u32) -> Result<Parse, ProtocolError> {
    match op {
        OpKind::Set => {
            let Some((text, len)) = line(buf) else {
                return Ok(Parse::Incomplete);
            };
            let error = is_memcache_error(text);
            let code = text.get(..2).unwrap_or(text);
            if !error && !matches!(code, b"HD" | b"NS" | b"EX" | b"NF") {
                return Err(ProtocolError("unexpected reply to ms"));
            }
            Ok(Parse::Done {
                len,
                reply: Reply {
                    error,
                    ..Reply::default()
                },
            })
        }
        OpKind::Get if keys == 1 => match item(buf)? {
            None => Ok(Parse::Incomplete),
            Some((_, Item::End)) => Err(ProtocolError("MN without a quiet request")),
            Some((len, item)) => Ok(Parse::Done {
                len,
                reply: item.reply(1),
            }),
        },
        OpKind::Get => {
            let mut at = 0;
            let mut reply = Reply::default();
            loop {
                match item(&buf[at..])? {
                    None => return Ok(Parse::Incomplete),
                    Some((len, Item::End)) => {
                        reply.misses = keys.saturating_sub(reply.hits);
                        return Ok(Parse::Done {
                            len: at + len,
                            reply,
                        });
                    }
                    Some((len, Item::Hit)) => {
                        reply.hits += 1;
                        at += len;
                    }
                    Some((len, Item::Miss)) => at += len,
                    Some((len, Item::Error)) => {
                        reply.error = true;
                        at += len;
                    }
                }
            }
        }
    }
}

/// One answer inside a meta read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    /// `VA` with its value, or `HD`.
    Hit,
    /// `EN`.
    Miss,
    /// `MN`: the end of a quiet batch.
    End,
    /// An error line.
    Error,
}

impl Item {
    /// The reply a lone (non-quiet) item makes.
    fn reply(self, keys: u32) -> Reply {
        match self {
            Item::Hit => Reply {
                hits: keys,
                ..Reply::default()
            },
            Item::Miss => Reply {
                misses: keys,
                ..Reply::default()
            },
            Item::Error | Item::End => Reply {
                error: true,
                ..Reply::default()
            },
        }
    }
}

/// The item at the start of `buf` and its length, `None` while incomplete.
fn item(buf: &[u8]) -> Result<Option<(usize, Item)>, ProtocolError> {
    let Some((text, len)) = line(buf) else {
        return Ok(None);
    };
    if is_memcache_error(text) {
        return Ok(Some((len, Item::Error)));
    }
    let mut fields = text.split(|&b| b == b' ');
    match fields.next() {
        Some(b"VA") => {
            let size = fields
                .next()
                .and_then(number)
                .ok_or(ProtocolError("VA without a length"))?;
            let block = len + size + 2;
            if buf.len() < block {
                return Ok(None);
            }
            if &buf[len + size..block] != b"\r\n" {
                return Err(ProtocolError("value not followed by \\r\\n"));
            }
            Ok(Some((block, Item::Hit)))
        }
        Some(b"HD") => Ok(Some((len, Item::Hit))),
        Some(b"EN") => Ok(Some((len, Item::Miss))),
        Some(b"MN") => Ok(Some((len, Item::End))),
        _ => Err(ProtocolError("unexpected line in a meta reply")),
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
        encode_get(&mut out, [&b"a"[..]].into_iter());
        assert_eq!(out, b"mg a v\r\n");
        out.clear();
        encode_get(&mut out, [&b"a"[..], b"b"].into_iter());
        assert_eq!(out, b"mg a v q\r\nmg b v q\r\nmn\r\n");
        out.clear();
        encode_set(&mut out, b"k", b"xyz", 0);
        encode_set(&mut out, b"k", b"", 5);
        assert_eq!(out, b"ms k 3\r\nxyz\r\nms k 0 T5\r\n\r\n");
    }

    #[test]
    fn decodes_single_and_quiet_reads() {
        let hit = b"VA 2 f0\r\nhi\r\n";
        let reply = Reply {
            hits: 1,
            ..Reply::default()
        };
        assert_eq!(
            parse(hit, OpKind::Get, 1),
            Ok(Parse::Done {
                len: hit.len(),
                reply
            })
        );
        let miss = Reply {
            misses: 1,
            ..Reply::default()
        };
        assert_eq!(
            parse(b"EN\r\n", OpKind::Get, 1),
            Ok(Parse::Done {
                len: 4,
                reply: miss
            })
        );
        let batch = b"VA 1\r\nx\r\nMN\r\n";
        let reply = Reply {
            hits: 1,
            misses: 2,
            error: false,
        };
        assert_eq!(
            parse(batch, OpKind::Get, 3),
            Ok(Parse::Done {
                len: batch.len(),
                reply
            })
        );
        assert_eq!(
            parse(b"VA 1\r\nx\r\n", OpKind::Get, 3),
            Ok(Parse::Incomplete)
        );
        assert!(parse(b"STORED\r\n", OpKind::Set, 1).is_err());
    }

    /// One reply: to a read of `keys` keys, the listed ones found, or to a
    /// write.
    fn reply() -> impl Strategy<Value = Case> {
        prop_oneof![
            proptest::option::of(0usize..30).prop_map(|size| {
                let (bytes, reply) = match size {
                    Some(size) => {
                        let mut bytes = format!("VA {size} t-1\r\n").into_bytes();
                        bytes.extend(std::iter::repeat_n(b'\r', size));
                        bytes.extend_from_slice(b"\r\n");
                        (
                            bytes,
                            Reply {
                                hits: 1,
                                ..Reply::default()
                            },
                        )
                    }
                    None => (
                        b"EN\r\n".to_vec(),
                        Reply {
                            misses: 1,
                            ..Reply::default()
                        },
                    ),
                };
                (bytes, OpKind::Get, 1, reply)
            }),
            (2u32..6, proptest::collection::vec(0usize..30, 0..6)).prop_map(|(keys, sizes)| {
                let hits = sizes.len().min(keys as usize);
                let mut bytes = Vec::new();
                for size in sizes.iter().take(hits) {
                    bytes.extend_from_slice(format!("VA {size}\r\n").as_bytes());
                    bytes.extend(std::iter::repeat_n(b'v', *size));
                    bytes.extend_from_slice(b"\r\n");
                }
                bytes.extend_from_slice(b"MN\r\n");
                let reply = Reply {
                    hits: hits as u32,
                    misses: keys - hits as u32,
                    error: false,
                };
                (bytes, OpKind::Get, keys, reply)
            }),
            Just((b"HD\r\n".to_vec(), OpKind::Set, 1, Reply::default())),
            Just((
                b"SERVER_ERROR out of memory\r\n".to_vec(),
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
            let (decoded, expected) = decode_cases(Protocol::Meta, &replies, &cuts);
            prop_assert_eq!(decoded, expected);
        }
    }
}
