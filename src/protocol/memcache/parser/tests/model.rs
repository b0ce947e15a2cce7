//! Generated valid requests: a model of each request kind that writes
//! itself as a client would and knows the [`Request`] it must parse to.

use base64::Engine;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::subsequence;

use crate::protocol::memcache::{
    ArithOp, GetKind, GetRequest, MetaArithMode, MetaCommand, MetaFlags, MetaRequest, MetaSetMode,
    Request, StatsGroup, StoreMode, StoreRequest,
};

/// A request the generator writes and whose parse it knows.
#[derive(Debug, Clone)]
pub(super) enum Model {
    Get {
        kind: GetKind,
        touch: Option<i32>,
        keys: Vec<Vec<u8>>,
    },
    Store {
        mode: StoreMode,
        key: Vec<u8>,
        flags: u32,
        exptime: i32,
        value: Vec<u8>,
        noreply: bool,
    },
    Delete {
        key: Vec<u8>,
        noreply: bool,
    },
    Arith {
        key: Vec<u8>,
        op: ArithOp,
        delta: u64,
        noreply: bool,
    },
    Touch {
        key: Vec<u8>,
        exptime: i32,
        noreply: bool,
    },
    FlushAll {
        delay: Option<u32>,
        noreply: bool,
    },
    /// A request without arguments worth generating.
    Fixed(&'static str, Request<'static>),
    Meta {
        command: MetaCommand,
        key: Vec<u8>,
        /// Flag byte and argument, in request order.
        flags: Vec<(u8, String)>,
        value: Vec<u8>,
    },
}

impl Model {
    /// The request as a client sends it, ending lines with `\r\n`.
    pub(super) fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let noreply_suffix = |noreply: bool| if noreply { " noreply" } else { "" };
        match self {
            Model::Get { kind, touch, keys } => {
                let name = match kind {
                    GetKind::Get => "get",
                    GetKind::Gets => "gets",
                    GetKind::Gat => "gat",
                    GetKind::Gats => "gats",
                };
                out.extend_from_slice(name.as_bytes());
                if let Some(touch) = touch {
                    out.extend_from_slice(format!(" {touch}").as_bytes());
                }
                for key in keys {
                    out.push(b' ');
                    out.extend_from_slice(key);
                }
            }
            Model::Store {
                mode,
                key,
                flags,
                exptime,
                value,
                noreply,
            } => {
                let (name, cas) = match mode {
                    StoreMode::Set => ("set", None),
                    StoreMode::Add => ("add", None),
                    StoreMode::Replace => ("replace", None),
                    StoreMode::Append => ("append", None),
                    StoreMode::Prepend => ("prepend", None),
                    StoreMode::Cas(unique) => ("cas", Some(unique)),
                };
                out.extend_from_slice(name.as_bytes());
                out.push(b' ');
                out.extend_from_slice(key);
                out.extend_from_slice(format!(" {flags} {exptime} {}", value.len()).as_bytes());
                if let Some(unique) = cas {
                    out.extend_from_slice(format!(" {unique}").as_bytes());
                }
                out.extend_from_slice(noreply_suffix(*noreply).as_bytes());
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(value);
            }
            Model::Delete { key, noreply } => {
                out.extend_from_slice(b"delete ");
                out.extend_from_slice(key);
                out.extend_from_slice(noreply_suffix(*noreply).as_bytes());
            }
            Model::Arith {
                key,
                op,
                delta,
                noreply,
            } => {
                out.extend_from_slice(if *op == ArithOp::Incr {
                    b"incr "
                } else {
                    b"decr "
                });
                out.extend_from_slice(key);
                out.extend_from_slice(format!(" {delta}{}", noreply_suffix(*noreply)).as_bytes());
            }
            Model::Touch {
                key,
                exptime,
                noreply,
            } => {
                out.extend_from_slice(b"touch ");
                out.extend_from_slice(key);
                out.extend_from_slice(format!(" {exptime}{}", noreply_suffix(*noreply)).as_bytes());
            }
            Model::FlushAll { delay, noreply } => {
                out.extend_from_slice(b"flush_all");
                if let Some(delay) = delay {
                    out.extend_from_slice(format!(" {delay}").as_bytes());
                }
                out.extend_from_slice(noreply_suffix(*noreply).as_bytes());
            }
            Model::Fixed(line, _) => out.extend_from_slice(line.as_bytes()),
            Model::Meta {
                command,
                key,
                value,
                ..
            } => {
                out.extend_from_slice(match command {
                    MetaCommand::Get => b"mg ",
                    MetaCommand::Set => b"ms ",
                    MetaCommand::Delete => b"md ",
                    MetaCommand::Arithmetic => b"ma ",
                    MetaCommand::Debug => b"me ",
                });
                out.extend_from_slice(key);
                if *command == MetaCommand::Set {
                    out.extend_from_slice(format!(" {}", value.len()).as_bytes());
                }
                out.extend_from_slice(self.flag_text().as_bytes());
                if *command == MetaCommand::Set {
                    out.extend_from_slice(b"\r\n");
                    out.extend_from_slice(value);
                }
            }
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    /// The meta flags as sent, with a leading space when there are any.
    fn flag_text(&self) -> String {
        let Model::Meta { flags, .. } = self else {
            return String::new();
        };
        flags
            .iter()
            .map(|(flag, arg)| format!(" {}{arg}", *flag as char))
            .collect()
    }

    /// The request [`parse`] must return for [`Model::render`].
    pub(super) fn expected<'a>(&'a self, text: &'a [u8]) -> Request<'a> {
        match self {
            Model::Get { kind, touch, .. } => Request::Get(GetRequest {
                kind: *kind,
                touch: touch.map(i64::from),
                key_list: text,
            }),
            Model::Store {
                mode,
                key,
                flags,
                exptime,
                value,
                noreply,
            } => Request::Store(StoreRequest {
                mode: *mode,
                key,
                flags: *flags,
                exptime: (*exptime).into(),
                value,
                noreply: *noreply,
            }),
            Model::Delete { key, noreply } => Request::Delete {
                key,
                noreply: *noreply,
            },
            Model::Arith {
                key,
                op,
                delta,
                noreply,
            } => Request::Arith {
                key,
                op: *op,
                delta: *delta,
                noreply: *noreply,
            },
            Model::Touch {
                key,
                exptime,
                noreply,
            } => Request::Touch {
                key,
                exptime: (*exptime).into(),
                noreply: *noreply,
            },
            Model::FlushAll { delay, noreply } => Request::FlushAll {
                delay: delay.map_or(0, i64::from),
                noreply: *noreply,
            },
            Model::Fixed(_, request) => request.clone(),
            Model::Meta {
                command,
                key,
                flags,
                value,
            } => Request::Meta(MetaRequest {
                command: *command,
                key,
                flag_tokens: text.trim_ascii_start(),
                flags: expected_flags(*command, flags),
                value,
            }),
        }
    }

    /// The text [`Model::expected`] borrows: the key list of a get, the
    /// flag text of a meta command.
    pub(super) fn borrowed_text(&self) -> Vec<u8> {
        match self {
            Model::Get { keys, .. } => keys.join(&b' '),
            _ => self.flag_text().into_bytes(),
        }
    }
}

/// The [`MetaFlags`] a generated flag list parses to.
fn expected_flags(command: MetaCommand, flags: &[(u8, String)]) -> MetaFlags<'_> {
    let mut expected = MetaFlags::default();
    let signed = |arg: &str| arg.parse::<i32>().map(i64::from).ok();
    for (flag, arg) in flags {
        match flag {
            b'b' => expected.base64 = true,
            b'c' => expected.return_cas = true,
            b'f' => expected.return_flags = true,
            b'h' => expected.return_hit = true,
            b'k' => expected.return_key = true,
            b'l' => expected.return_last_access = true,
            b's' => expected.return_size = true,
            b't' => expected.return_ttl = true,
            b'v' => expected.return_value = true,
            b'q' => expected.quiet = true,
            b'u' => expected.no_bump = true,
            b'I' => expected.invalidate = true,
            b'x' => expected.remove_value = true,
            b'O' => expected.opaque = Some(arg.as_bytes()),
            b'T' => expected.ttl = signed(arg),
            b'N' => expected.vivify = signed(arg),
            b'R' => expected.recache = signed(arg),
            b'C' => expected.compare_cas = arg.parse().ok(),
            b'E' => expected.explicit_cas = arg.parse().ok(),
            b'F' => expected.client_flags = arg.parse().ok(),
            b'D' => expected.delta = arg.parse().ok(),
            b'J' => expected.initial = arg.parse().ok(),
            b'M' if command == MetaCommand::Set => {
                expected.set_mode = Some(match arg.as_str() {
                    "E" => MetaSetMode::Add,
                    "A" => MetaSetMode::Append,
                    "P" => MetaSetMode::Prepend,
                    "R" => MetaSetMode::Replace,
                    _ => MetaSetMode::Set,
                })
            }
            b'M' if command == MetaCommand::Arithmetic => {
                expected.arith_mode = Some(match arg.as_str() {
                    "D" | "-" => MetaArithMode::Decr,
                    _ => MetaArithMode::Incr,
                })
            }
            _ => {}
        }
    }
    expected
}

/// A valid key, usually short.
fn key() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![0x21u8..0x7f, 0x80u8..=0xff];
    prop_oneof![
        4 => vec(byte.clone(), 1..=12),
        1 => vec(byte, 1..=250),
    ]
}

/// A data block: arbitrary bytes, often full of line ends.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..200),
        vec(
            prop_oneof![Just(b'\r'), Just(b'\n'), Just(b' '), any::<u8>()],
            0..40
        ),
    ]
}

fn retrieval() -> impl Strategy<Value = Model> {
    let get = (
        prop_oneof![Just(GetKind::Get), Just(GetKind::Gets)],
        vec(key(), 1..30),
    )
        .prop_map(|(kind, keys)| Model::Get {
            kind,
            touch: None,
            keys,
        });
    // gat lines are not multi-gets for the 2048-byte rule: keep them short.
    let gat = (
        prop_oneof![Just(GetKind::Gat), Just(GetKind::Gats)],
        any::<i32>(),
        vec(key(), 0..7),
    )
        .prop_map(|(kind, touch, keys)| Model::Get {
            kind,
            touch: Some(touch),
            keys,
        });
    prop_oneof![get, gat]
}

fn storage() -> impl Strategy<Value = Model> {
    let mode = prop_oneof![
        Just(StoreMode::Set),
        Just(StoreMode::Add),
        Just(StoreMode::Replace),
        Just(StoreMode::Append),
        Just(StoreMode::Prepend),
        any::<u64>().prop_map(StoreMode::Cas),
    ];
    (
        mode,
        key(),
        any::<u32>(),
        any::<i32>(),
        value(),
        any::<bool>(),
    )
        .prop_map(|(mode, key, flags, exptime, value, noreply)| Model::Store {
            mode,
            key,
            flags,
            exptime,
            value,
            noreply,
        })
}

fn keyed() -> impl Strategy<Value = Model> {
    prop_oneof![
        (key(), any::<bool>()).prop_map(|(key, noreply)| Model::Delete { key, noreply }),
        (
            key(),
            prop_oneof![Just(ArithOp::Incr), Just(ArithOp::Decr)],
            any::<u64>(),
            any::<bool>()
        )
            .prop_map(|(key, op, delta, noreply)| Model::Arith {
                key,
                op,
                delta,
                noreply
            }),
        (key(), any::<i32>(), any::<bool>()).prop_map(|(key, exptime, noreply)| {
            Model::Touch {
                key,
                exptime,
                noreply,
            }
        }),
    ]
}

fn administrative() -> impl Strategy<Value = Model> {
    let flush = (proptest::option::of(0u32..=i32::MAX as u32), any::<bool>())
        .prop_map(|(delay, noreply)| Model::FlushAll { delay, noreply });
    let fixed = proptest::sample::select(vec![
        ("version", Request::Version),
        ("quit", Request::Quit),
        ("shutdown", Request::Shutdown),
        ("mn", Request::MetaNoop),
        ("stats", Request::Stats(StatsGroup::General)),
        ("stats settings", Request::Stats(StatsGroup::Settings)),
        ("stats reset", Request::Stats(StatsGroup::Reset)),
        ("stats items", Request::Stats(StatsGroup::Other(b"items"))),
        ("verbosity 1", Request::Verbosity { noreply: false }),
        ("verbosity 0 noreply", Request::Verbosity { noreply: true }),
        (
            "cache_memlimit 64",
            Request::CacheMemlimit {
                megabytes: 64,
                noreply: false,
            },
        ),
    ])
    .prop_map(|(line, request)| Model::Fixed(line, request));
    prop_oneof![flush, fixed]
}

/// The flags a meta command documents, with a generator for each one's
/// argument.
fn meta_flag(flag: u8, command: MetaCommand) -> BoxedStrategy<(u8, String)> {
    let arg: BoxedStrategy<String> = match flag {
        b'T' | b'N' | b'R' => any::<i32>().prop_map(|n| n.to_string()).boxed(),
        b'C' | b'E' | b'D' | b'J' => any::<u64>().prop_map(|n| n.to_string()).boxed(),
        b'F' => any::<u32>().prop_map(|n| n.to_string()).boxed(),
        b'O' => "[!-~]{0,31}".boxed(),
        b'M' if command == MetaCommand::Set => {
            proptest::sample::select(vec!["S", "E", "A", "P", "R"])
                .prop_map(String::from)
                .boxed()
        }
        b'M' => proptest::sample::select(vec!["I", "+", "D", "-"])
            .prop_map(String::from)
            .boxed(),
        _ => Just(String::new()).boxed(),
    };
    arg.prop_map(move |arg| (flag, arg)).boxed()
}

fn meta() -> impl Strategy<Value = Model> {
    let command = prop_oneof![
        Just(MetaCommand::Get),
        Just(MetaCommand::Set),
        Just(MetaCommand::Delete),
        Just(MetaCommand::Arithmetic),
        Just(MetaCommand::Debug),
    ];
    // 186 bytes encode to 248 characters, the longest padded key that fits.
    let base64_key = vec(any::<u8>(), 1..=186).prop_map(|raw| {
        base64::engine::general_purpose::STANDARD
            .encode(raw)
            .into_bytes()
    });
    (
        command,
        prop_oneof![3 => key().prop_map(|k| (k, false)), 1 => base64_key.prop_map(|k| (k, true))],
    )
        .prop_flat_map(|(command, (key, base64))| {
            let documented: &[u8] = match command {
                MetaCommand::Get => b"cfhklOqstuvENRT",
                MetaCommand::Set => b"cCEFIkOqsTMN",
                MetaCommand::Delete => b"CEIkOqTx",
                MetaCommand::Arithmetic => b"CENJDTMOqtcvk",
                MetaCommand::Debug => b"",
            };
            // At most 17 flags fit a line (16 for ms, whose count is a token).
            let room = if command == MetaCommand::Set { 15 } else { 16 };
            let flags = subsequence(documented.to_vec(), 0..=documented.len().min(room))
                .prop_flat_map(move |chosen| {
                    chosen
                        .into_iter()
                        .map(|flag| meta_flag(flag, command))
                        .collect::<Vec<_>>()
                })
                .prop_map(move |mut flags| {
                    if base64 {
                        flags.push((b'b', String::new()));
                    }
                    flags
                })
                .prop_shuffle();
            let value = if command == MetaCommand::Set {
                value().boxed()
            } else {
                Just(Vec::new()).boxed()
            };
            (Just(command), Just(key), flags, value)
        })
        .prop_map(|(command, key, mut flags, value)| {
            if command == MetaCommand::Debug {
                // `me` takes no flags, only `b` right after the key.
                flags.retain(|(flag, _)| *flag == b'b');
            }
            Model::Meta {
                command,
                key,
                flags,
                value,
            }
        })
}

/// A valid request of any kind.
pub(super) fn model() -> impl Strategy<Value = Model> {
    prop_oneof![
        3 => retrieval(),
        3 => storage(),
        2 => keyed(),
        1 => administrative(),
        4 => meta(),
    ]
}
