//! A connection's replies, kept in request order even when some are computed
//! on other shards.
//!
//! Replies computed here go straight into the `ready` buffer while nothing is
//! awaited (the common, single-shard case: no extra copy or bookkeeping).
//! Once a reply is awaited from another shard, a placeholder is queued and
//! everything after it waits behind it until it arrives; then the completed
//! front of the queue moves into `ready`.
//!
//! Sending uses two buffers: the kernel owns `sending` until its send
//! completes, while new replies accumulate in `ready`.

use std::collections::VecDeque;

/// Identifies an awaited reply of one connection.
pub type ReplySlot = u64;

/// Buffers above this capacity are shrunk once empty, so that one large
/// reply does not pin memory on an idle connection.
const RETAINED_CAPACITY: usize = 64 * 1024;

enum Held {
    /// A reply another shard is computing (`None` until it arrives).
    Remote(Option<Vec<u8>>),
    /// Replies computed here, queued behind an awaited one.
    Local(Vec<u8>),
    /// A RESP integer reply summed over several shards (`DEL k1 k2` with
    /// keys on different shards): `remaining` parts are still awaited.
    Sum { remaining: u32, total: i64 },
    /// A reply built from every shard's raw part (`PUBSUB NUMSUB`…):
    /// `remaining` parts are still awaited; `combine` writes the reply from
    /// all of them, the local part first.
    Gather {
        remaining: u32,
        parts: Vec<Vec<u8>>,
        combine: Combine,
    },
}

/// Joins the parts of a gathered reply (see [`Output::await_gather`]) into
/// the reply bytes.
pub type Combine = fn(&[Vec<u8>], &mut Vec<u8>);

/// A connection's outgoing bytes.
#[derive(Default)]
pub struct Output {
    /// Handed to the kernel; must not move until the send completes.
    sending: Vec<u8>,
    /// Bytes of `sending` the kernel has taken so far.
    sent: usize,
    /// Whether a send is in flight.
    in_flight: bool,
    /// Ready to send after `sending`.
    ready: Vec<u8>,
    /// Awaited replies and what queues behind them.
    held: VecDeque<Held>,
    /// The slot number of `held[0]`.
    front_slot: ReplySlot,
    /// Bytes queued in `held`.
    held_bytes: usize,
    awaited: usize,
    /// Replies are dropped (`CLIENT REPLY OFF|SKIP`): written into `muted`
    /// and cleared, and awaited replies get a slot nothing matches.
    is_muted: bool,
    muted: Vec<u8>,
}

impl Output {
    /// Where a reply computed now must be written.
    pub fn writer(&mut self) -> &mut Vec<u8> {
        if self.is_muted {
            self.muted.clear();
            return &mut self.muted;
        }
        if self.held.is_empty() {
            return &mut self.ready;
        }
        if !matches!(self.held.back(), Some(Held::Local(_))) {
            self.held.push_back(Held::Local(Vec::new()));
        }
        match self.held.back_mut() {
            Some(Held::Local(bytes)) => bytes,
            _ => unreachable!("a local segment was just pushed"),
        }
    }

    /// Reserves the place of a reply another shard will compute.
    pub fn await_remote(&mut self) -> ReplySlot {
        if self.is_muted {
            return u64::MAX;
        }
        let slot = self.front_slot + self.held.len() as u64;
        self.held.push_back(Held::Remote(None));
        self.awaited += 1;
        slot
    }

    /// Reserves the place of an integer reply that is `partial` plus the
    /// integers `parts` other shards will deliver to the returned slot.
    pub fn await_sum(&mut self, parts: u32, partial: i64) -> ReplySlot {
        if self.is_muted {
            return u64::MAX;
        }
        if parts == 0 {
            push_integer(self.writer(), partial);
            // No slot is awaited; an unused number is never matched.
            return u64::MAX;
        }
        let slot = self.front_slot + self.held.len() as u64;
        self.held.push_back(Held::Sum {
            remaining: parts,
            total: partial,
        });
        self.awaited += parts as usize;
        slot
    }

    /// Reserves the place of an array that joins `local` (this shard's
    /// array reply) with the arrays `parts` other shards will deliver to the
    /// returned slot, in arrival order.
    pub fn await_concat(&mut self, parts: u32, local: &[u8]) -> ReplySlot {
        self.await_gather(parts, local.to_vec(), join_arrays)
    }

    /// Reserves the place of a reply that `combine` builds from `local`
    /// (this shard's part) and the parts `parts` other shards will deliver
    /// to the returned slot, once all have arrived.
    pub fn await_gather(&mut self, parts: u32, local: Vec<u8>, combine: Combine) -> ReplySlot {
        if self.is_muted {
            return u64::MAX;
        }
        if parts == 0 {
            combine(&[local], self.writer());
            return u64::MAX;
        }
        let slot = self.front_slot + self.held.len() as u64;
        let mut gathered = Vec::with_capacity(parts as usize + 1);
        gathered.push(local);
        self.held.push_back(Held::Gather {
            remaining: parts,
            parts: gathered,
            combine,
        });
        self.awaited += parts as usize;
        slot
    }

    /// Drops the replies of the requests run from now on, or stops
    /// dropping them (`CLIENT REPLY`).
    pub fn set_muted(&mut self, muted: bool) {
        self.is_muted = muted;
        if !muted && self.muted.capacity() > RETAINED_CAPACITY {
            self.muted = Vec::new();
        }
    }

    /// Puts an awaited reply in its place; replies for slots no longer
    /// awaited are ignored. Returns whether bytes became ready to send.
    pub fn deliver(&mut self, slot: ReplySlot, reply: &[u8]) -> bool {
        let Some(index) = slot.checked_sub(self.front_slot) else {
            return false;
        };
        match self.held.get_mut(index as usize) {
            Some(Held::Remote(place @ None)) => {
                *place = Some(reply.to_vec());
                self.awaited -= 1;
                self.held_bytes += reply.len();
            }
            Some(held @ Held::Sum { .. }) => {
                let Held::Sum { remaining, total } = held else {
                    unreachable!("matched a sum")
                };
                *total += parse_integer(reply);
                *remaining -= 1;
                self.awaited -= 1;
                if *remaining > 0 {
                    return false;
                }
                let mut bytes = Vec::new();
                push_integer(&mut bytes, *total);
                self.held_bytes += bytes.len();
                *held = Held::Local(bytes);
            }
            Some(held @ Held::Gather { .. }) => {
                let Held::Gather {
                    remaining,
                    parts,
                    combine,
                } = held
                else {
                    unreachable!("matched a gathering")
                };
                parts.push(reply.to_vec());
                *remaining -= 1;
                self.awaited -= 1;
                if *remaining > 0 {
                    return false;
                }
                let mut bytes = Vec::new();
                combine(parts, &mut bytes);
                self.held_bytes += bytes.len();
                *held = Held::Local(bytes);
            }
            _ => return false,
        }
        self.release_front()
    }

    /// Moves the completed front of the queue into `ready`.
    fn release_front(&mut self) -> bool {
        let mut released = false;
        while let Some(Held::Remote(Some(bytes)) | Held::Local(bytes)) = self.held.front_mut() {
            let bytes = std::mem::take(bytes);
            self.held.pop_front();
            self.front_slot = self.front_slot.wrapping_add(1);
            self.held_bytes -= bytes.len().min(self.held_bytes);
            if self.ready.is_empty() {
                self.ready = bytes;
            } else {
                self.ready.extend_from_slice(&bytes);
            }
            released = true;
        }
        released
    }

    /// Replies queued behind an awaited one (`CLIENT LIST`'s `oll`).
    pub fn held_count(&self) -> usize {
        self.held.len()
    }

    /// Bytes of computed replies queued behind an awaited one (`omem`).
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Bytes ready to send or being sent (`obl`).
    pub fn unsent(&self) -> usize {
        self.sending.len() - self.sent + self.ready.len()
    }

    /// Bytes the buffers hold allocated (for `tot-mem`).
    pub fn allocated(&self) -> usize {
        self.sending.capacity() + self.ready.capacity() + self.muted.capacity() + self.held_bytes
    }

    /// Replies awaited from other shards.
    pub fn awaited(&self) -> usize {
        self.awaited
    }

    /// Bytes not yet taken by the kernel, awaited replies excluded.
    pub fn backlog(&self) -> usize {
        self.sending.len() - self.sent + self.ready.len() + self.held_bytes
    }

    /// Whether nothing is left to send or await.
    pub fn is_drained(&self) -> bool {
        !self.in_flight && self.ready.is_empty() && self.held.is_empty()
    }

    /// Whether a send is in flight.
    pub fn is_sending(&self) -> bool {
        self.in_flight
    }

    /// If nothing is in flight and bytes are ready, starts a send: returns the
    /// memory the kernel may read until [`Output::sent`] is called.
    pub fn start_send(&mut self) -> Option<(*const u8, usize)> {
        if self.in_flight {
            return None;
        }
        if self.sent == self.sending.len() {
            if self.ready.is_empty() {
                return None;
            }
            self.sending.clear();
            std::mem::swap(&mut self.sending, &mut self.ready);
            self.sent = 0;
        }
        self.in_flight = true;
        let rest = &self.sending[self.sent..];
        Some((rest.as_ptr(), rest.len()))
    }

    /// Records that the kernel took `count` bytes of the send in flight.
    pub fn sent(&mut self, count: usize) {
        self.in_flight = false;
        self.sent = (self.sent + count).min(self.sending.len());
        if self.sent == self.sending.len() {
            self.sending.clear();
            self.sent = 0;
            if self.sending.capacity() > RETAINED_CAPACITY {
                self.sending = Vec::new();
            }
            if self.ready.is_empty() && self.ready.capacity() > RETAINED_CAPACITY {
                self.ready = Vec::new();
            }
        }
    }

    /// Drops everything not yet sent (the peer is gone). A send in flight
    /// keeps its buffer until it completes.
    pub fn discard(&mut self) {
        // Slots handed out stay used: a late reply must never match a newer
        // slot.
        self.front_slot = self.front_slot.wrapping_add(self.held.len() as u64);
        self.ready = Vec::new();
        self.held.clear();
        self.held_bytes = 0;
        self.awaited = 0;
    }
}

/// Appends a RESP integer reply.
fn push_integer(out: &mut Vec<u8>, n: i64) {
    out.push(b':');
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Joins array replies into one array of all their elements, in order.
pub(crate) fn join_arrays(parts: &[Vec<u8>], out: &mut Vec<u8>) {
    let split: Vec<(usize, &[u8])> = parts.iter().map(|part| split_array(part)).collect();
    let count: usize = split.iter().map(|(count, _)| count).sum();
    out.push(b'*');
    out.extend_from_slice(itoa::Buffer::new().format(count).as_bytes());
    out.extend_from_slice(b"\r\n");
    for (_, elements) in split {
        out.extend_from_slice(elements);
    }
}

/// A RESP array reply's element count and the bytes of its elements
/// (`(0, [])` for anything else).
fn split_array(reply: &[u8]) -> (usize, &[u8]) {
    let Some(rest) = reply.strip_prefix(b"*") else {
        return (0, &[]);
    };
    let Some(end) = rest.iter().position(|&b| b == b'\r') else {
        return (0, &[]);
    };
    let count = std::str::from_utf8(&rest[..end])
        .ok()
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(0);
    (count, rest.get(end + 2..).unwrap_or_default())
}

/// The value of a RESP integer reply (`:n\r\n`); anything else counts 0.
pub(super) fn parse_integer(reply: &[u8]) -> i64 {
    reply
        .strip_prefix(b":")
        .and_then(|rest| rest.strip_suffix(b"\r\n"))
        .and_then(|digits| std::str::from_utf8(digits).ok())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_all(output: &mut Output) -> Vec<u8> {
        let mut wire = Vec::new();
        while let Some((ptr, len)) = output.start_send() {
            // Safety: the pointer and length come from the output's buffer.
            wire.extend_from_slice(unsafe { std::slice::from_raw_parts(ptr, len) });
            output.sent(len);
        }
        wire
    }

    #[test]
    fn local_replies_go_straight_out() {
        let mut output = Output::default();
        output.writer().extend_from_slice(b"STORED\r\n");
        output.writer().extend_from_slice(b"END\r\n");
        assert_eq!(send_all(&mut output), b"STORED\r\nEND\r\n");
        assert!(output.is_drained());
    }

    #[test]
    fn remote_replies_keep_request_order() {
        let mut output = Output::default();
        output.writer().extend_from_slice(b"1");
        let a = output.await_remote();
        output.writer().extend_from_slice(b"3");
        let b = output.await_remote();
        output.writer().extend_from_slice(b"5");
        assert_eq!(send_all(&mut output), b"1");
        assert_eq!(output.awaited(), 2);
        assert!(!output.deliver(b, b"4"));
        assert_eq!(send_all(&mut output), b"");
        assert!(output.deliver(a, b"2"));
        assert_eq!(send_all(&mut output), b"2345");
        assert!(output.is_drained());
        assert_eq!(output.awaited(), 0);
    }

    #[test]
    fn stale_and_duplicate_deliveries_are_ignored() {
        let mut output = Output::default();
        let a = output.await_remote();
        assert!(output.deliver(a, b"x"));
        assert!(!output.deliver(a, b"again"));
        assert!(!output.deliver(a + 10, b"never asked"));
        assert_eq!(send_all(&mut output), b"x");
        let b = output.await_remote();
        let c = output.await_remote();
        assert_ne!(a, b);
        output.discard();
        let d = output.await_remote();
        assert!(d != b && d != c);
        assert!(!output.deliver(b, b"late"));
        assert!(!output.deliver(c, b"late"));
        assert_eq!(send_all(&mut output), b"");
    }

    #[test]
    fn sums_wait_for_every_part_and_keep_their_place() {
        let mut output = Output::default();
        let sum = output.await_sum(2, 1);
        output.writer().extend_from_slice(b"+OK\r\n");
        assert!(!output.deliver(sum, b":1\r\n"));
        assert_eq!(send_all(&mut output), b"");
        assert_eq!(output.awaited(), 1);
        assert!(output.deliver(sum, b":0\r\n"));
        assert_eq!(send_all(&mut output), b":2\r\n+OK\r\n");
        assert!(output.is_drained());
        // Nothing remote: the integer goes out at once.
        output.await_sum(0, 7);
        assert_eq!(send_all(&mut output), b":7\r\n");
    }

    #[test]
    fn arrays_from_several_shards_are_joined_in_place() {
        let mut output = Output::default();
        let joined = output.await_concat(2, b"*1\r\n$1\r\na\r\n");
        output.writer().extend_from_slice(b"+OK\r\n");
        assert!(!output.deliver(joined, b"*0\r\n"));
        assert_eq!(send_all(&mut output), b"");
        assert!(output.deliver(joined, b"*2\r\n$1\r\nb\r\n$1\r\nc\r\n"));
        assert_eq!(
            send_all(&mut output),
            b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n+OK\r\n"
        );
        output.await_concat(0, b"*0\r\n");
        assert_eq!(send_all(&mut output), b"*0\r\n");
    }

    #[test]
    fn gathered_parts_are_combined_once_all_arrived() {
        fn join(parts: &[Vec<u8>], out: &mut Vec<u8>) {
            out.push(b'[');
            for part in parts {
                out.extend_from_slice(part);
            }
            out.push(b']');
        }
        let mut output = Output::default();
        let gathered = output.await_gather(2, b"a".to_vec(), join);
        output.writer().extend_from_slice(b"+OK\r\n");
        assert!(!output.deliver(gathered, b"b"));
        assert_eq!(send_all(&mut output), b"");
        assert_eq!(output.awaited(), 1);
        assert!(output.deliver(gathered, b"c"));
        assert_eq!(send_all(&mut output), b"[abc]+OK\r\n");
        assert!(output.is_drained());
        output.await_gather(0, b"x".to_vec(), join);
        assert_eq!(send_all(&mut output), b"[x]");
    }

    #[test]
    fn muted_replies_are_dropped_local_and_remote() {
        let mut output = Output::default();
        output.writer().extend_from_slice(b"1");
        output.set_muted(true);
        output.writer().extend_from_slice(b"dropped");
        let remote = output.await_remote();
        let sum = output.await_sum(2, 5);
        assert_eq!(output.awaited(), 0, "nothing is awaited while muted");
        assert!(!output.deliver(remote, b"late"));
        assert!(!output.deliver(sum, b":1\r\n"));
        output.set_muted(false);
        output.writer().extend_from_slice(b"2");
        assert_eq!(send_all(&mut output), b"12");
        assert!(output.is_drained());
    }

    #[test]
    fn partial_sends_resume_where_the_kernel_stopped() {
        let mut output = Output::default();
        output.writer().extend_from_slice(b"hello world");
        let (_, len) = output.start_send().unwrap();
        assert_eq!(len, 11);
        assert!(output.start_send().is_none(), "one send at a time");
        output.sent(5);
        output.writer().extend_from_slice(b"!");
        let (ptr, len) = output.start_send().unwrap();
        assert_eq!(unsafe { std::slice::from_raw_parts(ptr, len) }, b" world");
        output.sent(len);
        assert_eq!(send_all(&mut output), b"!");
        assert_eq!(output.backlog(), 0);
    }
}
